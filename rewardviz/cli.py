"""The ``rewardviz`` command line (also ``python -m rewardviz``).

``rewardviz report INPUT -o report.html`` turns a reward log or a set of rewards on an
MDP into one standalone HTML file (see :mod:`rewardviz.report` and ``docs/report.md``).
Bad input ends with one line on standard error, ``rewardviz report: error: ...``, and
exit status 2, like a wrong option; nothing is written then. An interrupt (Ctrl-C) exits
with 130, ``SIGTERM`` with 143; either leaves an existing output file as it was and no
partial file.

This module parses arguments and reports outcomes; everything else is in
:mod:`rewardviz.report`.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import signal
import sys
import threading
from collections.abc import Sequence

import rewardviz
from rewardviz import io, report
from rewardviz.solve import ConvergenceError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "INPUT_ERRORS",
    "main",
]

#: Exit status of bad input or a refused overwrite (argparse uses 2 for usage errors too).
EXIT_BAD_INPUT = 2
#: Exit status after Ctrl-C, as shells report SIGINT.
EXIT_INTERRUPTED = 130
#: Exit status after SIGTERM (128 + 15, as shells report it).
EXIT_TERMINATED = 143
#: Errors that mean the input (or the output path) is unusable: reported in one line.
INPUT_ERRORS = (ValueError, TypeError, OSError, ImportError, ConvergenceError)

_REPORT_DESCRIPTION = """\
Write one standalone HTML report (plotly.js inlined, no network needed to view it).

INPUT is either
  a reward log: a long-format .csv or .parquet (columns episode, step, component,
  value), an .npz written by rewardviz.io.write_npz, or a TensorBoard log directory;
  the report shows component returns, shares, correlations, variance attribution and
  return distributions;
or
  rewards on an MDP: an .npz with 'transitions' [S, A, S'] (or a gridworld 'layout'),
  'gamma', optional 'initial'/'terminal'/'grid_shape', and one array per named reward
  ([S, A, S'], [S, A] or [S]); the report shows EPIC, DARD and STARC-VAL distance
  matrices, regret against distance and, on a grid, each reward's optimal policy.

The kind is detected from the file (use --kind to insist). The report is written to a
temporary file next to OUTPUT and renamed into place; an existing OUTPUT is replaced
only with --force."""

_REPORT_EXAMPLES = """\
examples:
  rewardviz report --example -o hopper.html
  rewardviz report runs/rewards.parquet -o rewards.html --gamma 0.99
  rewardviz report runs/tb/ -o tb.html --title "PPO seed sweep"
  rewardviz report rewards.npz -o compare.html --force

See docs/report.md for the file formats."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (``sys.argv[1:]`` by default); return the exit status.

    Never raises ``SystemExit``: ``--help`` returns 0, a usage error 2, so that tests and
    notebooks can call it directly.

    Example:
        >>> from rewardviz.cli import main
        >>> main(["report", "--example", "-o", "hopper.html"])
        0
    """
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version or a usage error
        return int(exit_request.code or 0)
    return arguments.run(arguments)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewardviz",
        description="Analyse and visualise reward functions for reinforcement learning.",
    )
    parser.add_argument("--version", action="version", version=f"rewardviz {rewardviz.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    command = commands.add_parser(
        "report",
        help="write a standalone HTML report of a reward log or of rewards on an MDP",
        description=_REPORT_DESCRIPTION,
        epilog=_REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="a reward log (.csv, .parquet, .npz, TensorBoard directory) or a rewards .npz",
    )
    command.add_argument(
        "--example",
        nargs="?",
        const=io.EXAMPLE_LOGS[0],
        choices=io.EXAMPLE_LOGS,
        help=f"use a bundled example log instead of INPUT (default: {io.EXAMPLE_LOGS[0]})",
    )
    command.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="the HTML file to write"
    )
    command.add_argument(
        "--kind",
        choices=("log", "rewards"),
        help="what INPUT holds; detected from the file by default",
    )
    command.add_argument(
        "--gamma",
        type=float,
        help="discount: of the log's returns (default 1, undiscounted), or of the MDP "
        "(replaces the file's 'gamma')",
    )
    command.add_argument("--title", help="the report's title")
    command.add_argument(
        "--force", action="store_true", help="replace OUTPUT if it exists (atomically)"
    )
    command.set_defaults(run=_report, parser=command)
    return parser


def _report(arguments: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = arguments.parser
    if (arguments.input is None) == (arguments.example is None):
        parser.print_usage(sys.stderr)
        print("rewardviz report: error: give exactly one of INPUT or --example.", file=sys.stderr)
        return EXIT_BAD_INPUT
    with _stop_signals() as received:
        try:
            output = report.check_output(arguments.output, force=arguments.force)
            if arguments.example is not None:
                if arguments.kind == "rewards":
                    raise ValueError("--example is a reward log; drop --kind rewards.")
                kind, source = "log", f"rewardviz example log {arguments.example!r}"
            else:
                _refuse_overwriting_input(arguments.input, output)
                kind = arguments.kind or report.detect_kind(arguments.input)
                source = str(arguments.input)
            if kind == "log":
                log = (
                    io.example_log(arguments.example)
                    if arguments.example is not None
                    else report.read_log(arguments.input)
                )
                gamma = 1.0 if arguments.gamma is None else arguments.gamma
                document = report.log_report(log, gamma=gamma, title=arguments.title, source=source)
            else:
                mdp, named = report.read_rewards(arguments.input, gamma=arguments.gamma)
                document = report.rewards_report(mdp, named, title=arguments.title, source=source)
            if received:  # a signal that a JAX callback swallowed: stop before writing
                raise KeyboardInterrupt
            report.write_report(document, output, force=arguments.force)
        except INPUT_ERRORS as error:
            print(f"rewardviz report: error: {_one_line(error)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            terminated = signal.SIGTERM in received
            print(
                f"rewardviz report: {'terminated' if terminated else 'interrupted'}; "
                "nothing was written.",
                file=sys.stderr,
            )
            return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    size = output.stat().st_size / 2**20
    print(f"rewardviz report: wrote {output} ({size:.1f} MiB, {kind} report)")
    return 0


@contextlib.contextmanager
def _stop_signals():
    """While the command runs, turn SIGINT and SIGTERM into ``KeyboardInterrupt`` and record them.

    JAX runs Python callbacks from the garbage collector, and an exception raised while
    one runs is printed and dropped ("Exception ignored in ..."): a Ctrl-C landing there
    would let the command go on and replace the output. The record survives, so the
    command checks it before writing. SIGTERM's default would kill the process mid-write
    and leave the temporary file; as an exception it unwinds through the writer's
    clean-up. Outside the main thread (where handlers cannot be set) nothing changes.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _refuse_overwriting_input(source, output: pathlib.Path) -> None:
    source, output = pathlib.Path(source), pathlib.Path(output)
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise ValueError(f"output {str(output)!r} is the input file; choose another -o.")


def _one_line(error: BaseException) -> str:
    """The error's message on one line (no traceback), or its type when it has none."""
    return " ".join(str(error).split()) or type(error).__name__
