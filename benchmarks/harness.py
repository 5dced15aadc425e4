"""Shared timing harness: compile time apart from warm run time, warm medians, ratios, output.

Timings on two shared cores are noisy, so every benchmark reports the median of
several warm runs of both implementations measured in the same process, and the
ratio numpy / JAX. Each benchmark also checks that both give the same numbers.

Every benchmark module's ``run()`` returns rows (dicts). The common keys are

- ``benchmark``: what was measured; ``sizes``: the problem sizes, ``{name: value}``;
- ``jax_compile_and_first_s``: the first call (tracing, compilation and one run);
- ``jax_warm_median_s`` / ``numpy_warm_median_s``: medians of ``repeats`` warm runs;
- ``speedup_vs_numpy``: numpy / rewardviz, so above 1 means rewardviz is faster;
- ``baseline``: what the rewardviz time is compared with (vectorised numpy unless named);
- ``max_abs_difference``: the largest difference between the two results;
- ``bytes_touched``: for memory-bound kernels, the bytes of input every implementation
  must read at least once; :func:`add_bandwidth` turns it into GB/s and a fraction of
  the machine's measured bandwidth (a lower bound on what the kernel really moves);
- ``target`` / ``target_met``: the issue's target for this row, where it sets one.

``python -m benchmarks`` collects the rows with :func:`machine` and
:func:`memory_bandwidth` and writes ``build/bench.json`` and ``build/bench.md`` with
:func:`write_outputs`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jaxlib
import numpy as np

#: Set by ``python -m benchmarks --quick``: fewer repeats and smaller problems, for a
#: smoke run. The full run (``make bench``) is what the targets are judged on.
QUICK = False


def n_repeats(full: int) -> int:
    """``full`` warm repeats, or 2 in a quick run."""
    return min(full, 2) if QUICK else full


def size(full: int, quick: int) -> int:
    """A problem size: ``full`` normally, ``quick`` in a quick run."""
    return quick if QUICK else full


@dataclasses.dataclass(frozen=True)
class Timing:
    first_seconds: float  # the first call: compilation plus one run for JAX
    warm_median_seconds: float


def measure(function: Callable[[], object], repeats: int = 7) -> tuple[Timing, object]:
    """Time ``function`` once cold and ``repeats`` times warm; return the timing and a result."""
    start = time.perf_counter()
    result = jax.block_until_ready(function())
    first = time.perf_counter() - start
    warm = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        jax.block_until_ready(function())
        warm.append(time.perf_counter() - start)
    return Timing(first, statistics.median(warm)), result


def report(
    name: str,
    jax_function: Callable,
    numpy_function: Callable,
    repeats: int = 7,
    *,
    sizes: dict | None = None,
    bytes_touched: int | None = None,
    target_ratio: float | None = None,
) -> dict:
    """Measure both implementations, check they agree, print and return one row.

    ``target_ratio``: the issue's minimum numpy / rewardviz ratio for this kernel.
    """
    repeats = n_repeats(repeats)
    jax_timing, jax_result = measure(jax_function, repeats)
    numpy_timing, numpy_result = measure(numpy_function, repeats)
    error = float(np.max(np.abs(np.asarray(jax_result) - np.asarray(numpy_result))))
    row = {
        "benchmark": name,
        "sizes": dict(sizes or {}),
        "repeats": repeats,
        "baseline": "vectorised numpy",
        "jax_compile_and_first_s": jax_timing.first_seconds,
        "jax_warm_median_s": jax_timing.warm_median_seconds,
        "numpy_warm_median_s": numpy_timing.warm_median_seconds,
        "speedup_vs_numpy": numpy_timing.warm_median_seconds / jax_timing.warm_median_seconds,
        "max_abs_difference": error,
    }
    if bytes_touched is not None:
        row["bytes_touched"] = int(bytes_touched)
    if target_ratio is not None:
        row["target"] = f"ratio >= {target_ratio:g}"
        row["target_met"] = bool(row["speedup_vs_numpy"] >= target_ratio)
    print(
        f"{name:<48} jax {row['jax_warm_median_s'] * 1e3:9.2f} ms "
        f"(first call {row['jax_compile_and_first_s']:.2f} s)  numpy "
        f"{row['numpy_warm_median_s'] * 1e3:9.2f} ms  ratio {row['speedup_vs_numpy']:6.2f}x  "
        f"max |diff| {error:.1e}",
        flush=True,
    )
    return row


def machine() -> dict:
    """What the numbers were measured on: CPU, cores, library versions, JAX devices."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "devices": [
            f"{device.platform}:{device.id} {device.device_kind}" for device in jax.devices()
        ],
        "x64": bool(jax.config.jax_enable_x64),
        "quick": QUICK,
    }


def memory_bandwidth(n_bytes: int = 1 << 27, repeats: int = 7) -> dict:
    """The machine's memory bandwidth as numpy sees it, in GB/s (10⁹ bytes per second).

    STREAM-style: ``copy`` (``a = b``: 16 bytes per float64 element) and ``triad``
    (``a = b + s·c``: 24 bytes per element, done as two in-place passes so numpy makes
    no temporary, 40 bytes moved), each array ``n_bytes`` (128 MiB, far above any
    cache), best of ``repeats``. Counted bytes are those a kernel reads and writes
    (write-allocate traffic not counted), the convention STREAM uses.
    """
    n = n_bytes // 8
    b = np.random.default_rng(0).random(n)
    c = np.random.default_rng(1).random(n)
    a = np.empty(n)

    def best(kernel, moved: int) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            kernel()
            times.append(time.perf_counter() - start)
        return moved / min(times) / 1e9

    copy = best(lambda: np.copyto(a, b), 16 * n)

    def triad():
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)

    triad_gbs = best(triad, 40 * n)
    result = {
        "copy_gbs": copy,
        "triad_gbs": triad_gbs,
        "reference_gbs": max(copy, triad_gbs),
        "array_bytes": n * 8,
    }
    print(
        f"memory bandwidth (numpy, {n * 8 / 2**20:.0f} MiB arrays): copy {copy:.1f} GB/s, "
        f"triad {triad_gbs:.1f} GB/s",
        flush=True,
    )
    return result


def add_bandwidth(rows: list[dict], bandwidth: dict) -> None:
    """Give every row with ``bytes_touched`` its achieved GB/s and fraction of ``bandwidth``."""
    reference = bandwidth["reference_gbs"]
    for row in rows:
        if "bytes_touched" not in row:
            continue
        for who in ("jax", "numpy"):
            seconds = row.get(f"{who}_warm_median_s")
            if seconds:
                achieved = row["bytes_touched"] / seconds / 1e9
                row[f"{who}_gbs"] = achieved
                row[f"{who}_bandwidth_fraction"] = achieved / reference


def first_call_in_fresh_process(setup: str, call: str, cache_dir: str | None) -> dict:
    """First-call and warm latency of ``call`` in a new Python process.

    ``setup`` builds the inputs (not timed); ``call`` is an expression whose value is
    waited for. With ``cache_dir`` the process first enables rewardviz's persistent
    compilation cache there. Returns ``{"first_s", "warm_s", "compiles",
    "cache_hits"}``: the first call (tracing, compiling or loading from the cache, one
    run), the median of three later calls, and the number of XLA compilations and
    persistent-cache hits during the first call.
    """
    script = textwrap.dedent(
        """
        import json, statistics, sys, time
        import jax
        jax.config.update("jax_enable_x64", True)
        import numpy as np
        import rewardviz as rv
        counts = {"compiles": 0, "cache_hits": 0}
        def on_duration(event, duration, **kwargs):
            if event == "/jax/core/compile/backend_compile_duration":
                counts["compiles"] += 1
        def on_event(event, **kwargs):
            if event == "/jax/compilation_cache/cache_hits":
                counts["cache_hits"] += 1
        cache_dir = sys.argv[1]
        if cache_dir:
            rv.enable_compilation_cache(cache_dir)
        """
    )
    script += setup + textwrap.dedent(
        f"""
        jax.monitoring.register_event_duration_secs_listener(on_duration)
        jax.monitoring.register_event_listener(on_event)
        start = time.perf_counter()
        jax.block_until_ready({call})
        first = time.perf_counter() - start
        first_counts = dict(counts)
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            jax.block_until_ready({call})
            warm.append(time.perf_counter() - start)
        print(json.dumps({{"first_s": first, "warm_s": statistics.median(warm), **first_counts}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, cache_dir or ""],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the first-call benchmark process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(value, scale: float = 1.0, digits: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return format(value * scale, digits)


#: Row keys that have their own column in ``bench.md``; any others go to "notes".
_COLUMNS = {
    "benchmark",
    "suite",
    "sizes",
    "repeats",
    "baseline",
    "jax_compile_and_first_s",
    "jax_warm_median_s",
    "numpy_warm_median_s",
    "speedup_vs_numpy",
    "max_abs_difference",
    "jax_gbs",
    "jax_bandwidth_fraction",
    "numpy_gbs",
    "numpy_bandwidth_fraction",
    "bytes_touched",
    "target",
    "target_met",
}


def _notes(row: dict) -> str:
    parts = []
    for key, value in row.items():
        # Tables and empty lists stay in bench.json; the notes keep one line per row.
        if key in _COLUMNS or isinstance(value, dict) or value in ([], ()):
            continue
        shown = _cell(value) if isinstance(value, float) else value
        parts.append(f"{key}={shown}")
    return "; ".join(str(part) for part in parts)


def markdown(machine_info: dict, bandwidth: dict | None, rows: list[dict]) -> str:
    """``bench.md``: the machine, then one table row per benchmark row, grouped by suite."""
    lines = [
        "# rewardviz benchmarks",
        "",
        f"Measured {machine_info['date_utc']} on {machine_info['cpu_model']} "
        f"({machine_info['usable_cores']} usable of {machine_info['cpu_count']} cores), "
        f"jax {machine_info['jax']} / jaxlib {machine_info['jaxlib']}, numpy "
        f"{machine_info['numpy']}, devices {', '.join(machine_info['devices'])}"
        f"{', QUICK RUN (not comparable)' if machine_info['quick'] else ''}.",
    ]
    if bandwidth:
        lines.append(
            f"Measured memory bandwidth (numpy, STREAM-style): copy "
            f"{bandwidth['copy_gbs']:.1f} GB/s, triad {bandwidth['triad_gbs']:.1f} GB/s; "
            f"'% bw' below is relative to {bandwidth['reference_gbs']:.1f} GB/s."
        )
    lines += [
        "",
        "Times: warm medians in ms; 'first' is the first call in this process (tracing, "
        "compiling, one run) in s; ratio = baseline / rewardviz (above 1: rewardviz faster).",
        "",
        "| suite | benchmark | sizes | rewardviz ms | first s | baseline | baseline ms | ratio "
        "| max abs diff | GB/s (% bw) | target | notes |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        sizes = ", ".join(f"{key}={value}" for key, value in row.get("sizes", {}).items())
        bandwidth_cell = "—"
        if "jax_gbs" in row:
            bandwidth_cell = f"{row['jax_gbs']:.1f} ({row['jax_bandwidth_fraction']:.0%})"
        target = row.get("target", "")
        if "target_met" in row:
            target = f"{target}: {'met' if row['target_met'] else 'NOT met'}"
        cells = [
            row.get("suite", ""),
            row["benchmark"].strip(),
            sizes,
            _cell(row.get("jax_warm_median_s"), 1e3),
            _cell(row.get("jax_compile_and_first_s"), 1.0, ".2f"),
            row.get("baseline", "—") if "numpy_warm_median_s" in row else "—",
            _cell(row.get("numpy_warm_median_s"), 1e3),
            _cell(row.get("speedup_vs_numpy"), 1.0, ".2f"),
            _cell(row.get("max_abs_difference"), 1.0, ".1e"),
            bandwidth_cell,
            target,
            _notes(row),
        ]
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_outputs(directory, machine_info: dict, bandwidth: dict | None, rows: list[dict]):
    """Write ``bench.json`` and ``bench.md`` under ``directory``, each via a temporary file."""
    directory = Path(directory)
    document = {"machine": machine_info, "memory_bandwidth": bandwidth, "rows": rows}
    _write_atomically(directory / "bench.json", json.dumps(document, indent=2, default=float))
    _write_atomically(directory / "bench.md", markdown(machine_info, bandwidth, rows))
    return directory / "bench.json", directory / "bench.md"
