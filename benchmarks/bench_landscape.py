"""Reward landscapes at scale, and the update behind a LandscapeExplorer slider.

Issue targets (2-core CPU): the ball-and-goal reward (five components) on a 256 × 256
grid of player positions with 64 marginal samples of the player's heading and speed,
through :func:`rewardviz.landscape.evaluate` (mean, std, quantiles, component maps,
dominant component and autodiff gradient), against straightforward vectorised numpy
of the same formulas on ``[ny, nx, samples]`` arrays with central-difference gradients
(four more reward evaluations), measured in the same run on the same samples; and the
explorer's update after a slider move on a 128 × 128 grid in under 100 ms (warm median).
"""

from __future__ import annotations

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import rewardviz as rv
from benchmarks.harness import measure, n_repeats, report, size
from rewardviz import landscape_examples as examples

RESOLUTION, N_SAMPLES = 256, 64
WIDGET_RESOLUTION = 128
WIDGET_TARGET_S = 0.100
QUANTILES = (0.05, 0.5, 0.95)
MARGINALS = {
    "heading": (-np.pi, np.pi),
    "player_vx": (-examples.PLAYER_MAX_SPEED, examples.PLAYER_MAX_SPEED),
}
FD_STEP = 1e-6


def numpy_terms(px, py, state, params):
    """The five weighted terms of ``ball_and_goal_reward`` in numpy, broadcasting over arrays."""
    bx, by = state["ball_x"], state["ball_y"]
    gx, gy = examples.OPPONENT_GOAL
    ox, oy = examples.OWN_GOAL
    scale = examples.PLAYER_MAX_SPEED * params["dispersion"] * params["density"]
    to_ball_x, to_ball_y = bx - px, by - py
    distance = np.hypot(to_ball_x, to_ball_y)
    near = np.exp(-0.5 * distance / scale)
    safe = np.where(distance > 0, distance, 1.0)
    heading_x, heading_y = np.cos(state["heading"]), np.sin(state["heading"])
    facing = np.where(distance > 0, (heading_x * to_ball_x + heading_y * to_ball_y) / safe, 0.0)
    approach = np.where((near >= 0) & (facing >= 0), 1.0, -1.0) * np.sqrt(np.abs(near * facing))
    ball_goal = np.hypot(gx - bx, gy - by)
    unit = params["neutral_distance"] / (2 * np.log(2))
    centred = 2 * np.exp(-0.5 * ball_goal / (unit * params["dispersion"])) - 1
    signed = np.sign(centred) * np.abs(centred) ** (1 / params["density"])
    velocity = np.where(
        distance > 0,
        (state["player_vx"] * to_ball_x + state["player_vy"] * to_ball_y) / safe,
        0.0,
    )
    ball_velocity = (state["ball_vx"] * (gx - bx) + state["ball_vy"] * (gy - by)) / ball_goal
    danger = np.exp(-0.5 * np.hypot(ox - bx, oy - by) / scale)
    shape = np.broadcast_shapes(np.shape(px), np.shape(py), np.shape(state["heading"]))
    return np.stack(
        [
            params["w_approach"] * approach,
            np.broadcast_to(params["w_ball_to_goal"] * signed, shape),
            params["w_velocity_to_ball"] * velocity / examples.PLAYER_MAX_SPEED,
            np.broadcast_to(
                params["w_ball_velocity_to_goal"] * ball_velocity / examples.BALL_MAX_SPEED, shape
            ),
            np.broadcast_to(-params["w_own_goal_danger"] * danger, shape),
        ]
    )


def numpy_landscape(x, y, samples, template, params):
    """Mean, std, quantiles and component maps (flattened) and central-difference gradients."""
    state = {**template, **{name: values[None, None, :] for name, values in samples.items()}}
    px, py = x[None, :, None], y[:, None, None]
    terms = numpy_terms(px, py, state, params)  # [K, ny, nx, S]
    total = terms.sum(axis=0)
    mean = total.mean(axis=-1)
    std = total.std(axis=-1, ddof=1)
    quantiles = np.quantile(total, QUANTILES, axis=-1)
    components = terms.mean(axis=-1)
    grad_x = (
        numpy_terms(px + FD_STEP, py, state, params).sum(axis=0)
        - numpy_terms(px - FD_STEP, py, state, params).sum(axis=0)
    ).mean(axis=-1) / (2 * FD_STEP)
    grad_y = (
        numpy_terms(px, py + FD_STEP, state, params).sum(axis=0)
        - numpy_terms(px, py - FD_STEP, state, params).sum(axis=0)
    ).mean(axis=-1) / (2 * FD_STEP)
    maps = np.concatenate([mean.ravel(), std.ravel(), quantiles.ravel(), components.ravel()])
    return maps, np.stack([grad_x, grad_y])


def jax_maps(land: rv.landscape.Landscape) -> jax.Array:
    parts = (land.mean, land.std, land.quantiles, land.components)
    return jnp.concatenate([part.ravel() for part in parts])


def run() -> list[dict]:
    field = examples.ball_and_goal()
    template, params = field.template, field.params
    resolution = size(RESOLUTION, 64)

    def evaluate():
        return field.evaluate(
            resolution=resolution, marginals=MARGINALS, n_samples=N_SAMPLES, quantiles=QUANTILES
        )

    land = evaluate()
    samples = {name: np.asarray(values) for name, values in land.marginal_samples.items()}
    x, y = np.asarray(land.x_values), np.asarray(land.y_values)
    row = report(
        f"landscape {resolution}x{resolution} grid, {N_SAMPLES} samples, 5 components",
        lambda: jax_maps(evaluate()),
        lambda: numpy_landscape(x, y, samples, template, params)[0],
        repeats=3,
        sizes={"grid": f"{resolution}x{resolution}", "samples": N_SAMPLES, "components": 5},
        target_ratio=1.0,
    )
    _, numpy_gradient = numpy_landscape(x, y, samples, template, params)
    difference = np.abs(np.stack(land.gradient) - numpy_gradient)
    agree = float(np.mean(difference <= 1e-5 * np.maximum(1.0, np.abs(numpy_gradient))))
    print(
        f"  {resolution**2 * N_SAMPLES:.2e} reward evaluations (x5 for numpy's central "
        f"differences). Autodiff and central-difference gradients agree to 1e-5 at "
        f"{agree:.2%} of grid points (median |diff| {np.median(difference):.1e}); the rest "
        "lie near the ball, where KRC's square root has an unbounded slope (facing ≈ 0) "
        "and a central difference straddles the kink."
    )
    rows = [{**row, "gradient_agreement": agree}]

    for label, options in (
        ("fixed state", {}),
        ("16 marginal samples", {"marginals": MARGINALS, "n_samples": 16}),
    ):
        explorer = rv.widgets.LandscapeExplorer.from_example(
            field, resolution=WIDGET_RESOLUTION, **options
        )
        slider = explorer.param_sliders["dispersion"]
        values = np.linspace(0.3, 2.5, 15)
        slider.value = float(values[-1])  # warm: the first move compiles nothing new
        timings = []
        for value in values:
            start = time.perf_counter()
            slider.value = float(value)
            timings.append(time.perf_counter() - start)
        median = statistics.median(timings)
        verdict = "meets" if median < WIDGET_TARGET_S else "MISSES"
        print(
            f"  LandscapeExplorer {WIDGET_RESOLUTION}x{WIDGET_RESOLUTION} ({label}): slider "
            f"update warm median {median * 1e3:.1f} ms, {verdict} the "
            f"{WIDGET_TARGET_S * 1e3:.0f} ms target"
        )
        rows.append(
            {
                "benchmark": f"LandscapeExplorer slider update, {label}",
                "sizes": {
                    "grid": f"{WIDGET_RESOLUTION}x{WIDGET_RESOLUTION}",
                    **({"samples": options["n_samples"]} if options else {}),
                },
                "repeats": len(timings),
                "jax_warm_median_s": median,
                "target": f"< {WIDGET_TARGET_S * 1e3:.0f} ms",
                "target_met": bool(median < WIDGET_TARGET_S),
            }
        )
    timing, _ = measure(lambda: field.evaluate(resolution=WIDGET_RESOLUTION).mean, n_repeats(15))
    print(f"  of which rv.landscape.evaluate alone: {timing.warm_median_seconds * 1e3:.1f} ms")
    return rows


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    run()
