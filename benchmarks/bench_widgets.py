"""Interactive latency: every widget's update after a control change, and whether it compiled.

Issue target (2-core CPU): every widget update under 100 ms at the widget's default data
size, with no control change triggering an XLA compilation. Each widget of
:mod:`rewardviz.widgets` is built on the data its notebook uses (the tour gridworld,
the bundled example log and groups, the ball-and-goal landscape at the explorer's
default resolution, the teaching environments, the formalism map). Every control is
then set programmatically, as a user's click would, in two passes:

- warm-up: every slider to a few values, every choice to each of its options;
- measured: every slider to values it never had, every choice to each option again.

An update is the time of ``control.value = new`` (the observers run synchronously:
the solve, the figure rebuilt in place). Compilations are counted with JAX's
monitoring event ``/jax/core/compile/backend_compile_duration``, which fires for every
executable XLA builds, whichever function asked for it. The widget's figures are not
sent to a browser here, so the time is the Python side of an update.
"""

from __future__ import annotations

import statistics
import time

import ipywidgets
import jax
import numpy as np
from ipywidgets.widgets import widget_bool, widget_float, widget_int, widget_selection

import rewardviz as rv

TARGET_S = 0.100
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"

TOUR_LAYOUT = ["S....", ".##..", ".#L..", "....G"]  # notebooks/00_tour.ipynb
SHAPING_LAYOUT = ["S...#", ".#...", ".#L#.", "....G"]  # notebooks/02_shaping.ipynb


class CompileCounter:
    """Counts XLA compilations in this process from the moment it is created."""

    def __init__(self) -> None:
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)

    def _on_duration(self, event: str, duration: float, **kwargs) -> None:
        if event == COMPILE_EVENT:
            self.count += 1


def default_widgets() -> dict:
    """``{name: (constructor, sizes)}``: each widget on its notebook's data, built on call."""
    tour, tour_reward = rv.envs.gridworld(TOUR_LAYOUT, gamma=0.95, slip=0.1)
    lab, lab_reward = rv.envs.gridworld(SHAPING_LAYOUT, gamma=0.9, slip=0.1)
    log = rv.io.example_log()
    group = rv.groups.example_groups()
    field = rv.landscape_examples.ball_and_goal()
    return {
        "MDPExplorer": (
            lambda: rv.widgets.MDPExplorer(tour, tour_reward),
            {"S": tour.n_states, "A": tour.n_actions},
        ),
        "ShapingLab": (
            lambda: rv.widgets.ShapingLab(lab, lab_reward),
            {"S": lab.n_states, "A": lab.n_actions},
        ),
        "ComponentExplorer": (
            lambda: rv.widgets.ComponentExplorer(log),
            {"E": log.n_episodes, "T": log.components.shape[1], "K": log.n_components},
        ),
        "GroupExplorer": (
            lambda: rv.widgets.GroupExplorer(group),
            {"P": group.n_prompts, "G": group.scores.shape[1], "K": group.scores.shape[2]},
        ),
        "LandscapeExplorer": (
            lambda: rv.widgets.LandscapeExplorer.from_example(field),
            {"grid": "64x64 (default)"},
        ),
        "ExpressivityExplorer": (lambda: rv.widgets.ExpressivityExplorer(), {"env": "XOR"}),
        "FormalismMapExplorer": (lambda: rv.widgets.FormalismMapExplorer(), {}),
    }


def controls(widget) -> dict:
    """``{name: control}``: every value control the widget exposes as an attribute.

    Sliders, choices and check boxes, on their own or in a dict of them (weight
    sliders); output panes (``HTML``), buttons and figures are not controls.
    """
    kinds = (
        widget_float._Float,
        widget_int._Int,
        widget_selection._Selection,
        widget_selection._MultipleSelection,
        widget_bool._Bool,
    )
    found = {}
    for attribute, value in vars(widget).items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, control in items:
            if isinstance(control, kinds):
                found[attribute if key is None else f"{attribute}[{key}]"] = control
    return found


#: Where sliders go in each pass, as fractions of their range: the measured pass (1)
#: moves to values the warm-up (0) never set.
SLIDER_FRACTIONS = (np.array([0.15, 0.5, 0.85]), np.array([0.3, 0.65, 0.8]))


def new_values(control, pass_index: int) -> list:
    """Values to set ``control`` to in pass ``pass_index`` (0: warm-up, 1: measured).

    Sliders get three values inside their range (a log slider's range is of exponents);
    choices get each option by index and then their first value again; multiple
    choices a few different selections; check boxes both states.
    """
    if isinstance(control, widget_bool._Bool):
        return [not control.value, control.value]
    if isinstance(control, widget_selection._MultipleSelection):
        n = len(control.options)
        picks = [(0,), tuple(range(min(2, n))), (n - 1,), tuple(range(n))]
        return [("index", pick) for pick in picks if pick != control.index]
    if isinstance(control, widget_selection._Selection):
        current = control.index
        others = [i for i in range(len(control.options)) if i != current]
        return [("index", i) for i in [*others, current]]
    values = control.min + SLIDER_FRACTIONS[pass_index] * (control.max - control.min)
    if isinstance(control, widget_float.FloatLogSlider):
        values = control.base**values
    if isinstance(control, widget_int._Int):
        return sorted({round(v) for v in values} - {control.value})
    return [float(v) for v in values]


def set_value(control, value) -> None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "index":
        control.index = value[1]
    else:
        control.value = value


def drive(widget, counter: CompileCounter, pass_index: int) -> dict:
    """Change every control of ``widget``; ``{control: ([seconds per change], compiles)}``."""
    result = {}
    for name, control in controls(widget).items():
        before = counter.count
        times = []
        for value in new_values(control, pass_index):
            start = time.perf_counter()
            set_value(control, value)
            times.append(time.perf_counter() - start)
        result[name] = (times, counter.count - before)
    return result


def run() -> list[dict]:
    counter = CompileCounter()
    rows = []
    for name, (build, sizes) in default_widgets().items():
        start = time.perf_counter()
        widget = build()
        built = time.perf_counter() - start
        warm_compiles_before = counter.count
        drive(widget, counter, 0)
        warm_compiles = counter.count - warm_compiles_before
        measured = drive(widget, counter, 1)
        errors = widget.status.value
        per_control = {
            control: statistics.median(times) for control, (times, _) in measured.items()
        }
        recompiling = sorted(control for control, (_, n) in measured.items() if n)
        all_times = [t for times, _ in measured.values() for t in times]
        slowest = max(per_control, key=per_control.get)
        row = {
            "benchmark": f"widget update {name}",
            "sizes": sizes,
            "repeats": len(all_times),
            "jax_warm_median_s": statistics.median(all_times),
            "jax_compile_and_first_s": built,
            "slowest_control": slowest,
            "slowest_control_median_ms": per_control[slowest] * 1e3,
            "per_control_median_ms": {k: v * 1e3 for k, v in per_control.items()},
            "compiles_in_warmup": warm_compiles,
            "compiles_after_warmup": sum(n for _, n in measured.values()),
            "recompiling_controls": recompiling,
            "target": f"every control < {TARGET_S * 1e3:.0f} ms, no compilation",
            "target_met": bool(per_control[slowest] < TARGET_S and not recompiling),
        }
        if errors:
            row["status_shown"] = errors
        rows.append(row)
        print(
            f"{'widget update ' + name:<48} median {row['jax_warm_median_s'] * 1e3:7.1f} ms over "
            f"{len(per_control)} controls; slowest {slowest} {per_control[slowest] * 1e3:.1f} ms; "
            f"built in {built:.2f} s; compilations: warm-up {warm_compiles}, after "
            f"{row['compiles_after_warmup']}"
            f"{' (' + ', '.join(recompiling) + ')' if recompiling else ''}",
            flush=True,
        )
        ipywidgets.Widget.close_all()
    return rows


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
