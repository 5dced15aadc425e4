"""The XLA:CPU scheduler flag rewardviz sets, and the solver path used without it.

``XLA_FLAGS`` is read once per process, when JAX starts its backend, so every case runs
in a fresh interpreter with the environment it describes.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import rewardviz as rv
from rewardviz import _xla

FLAG = _xla.SCHEDULER_FLAG

PROBE = textwrap.dedent(
    """
    import json, os, sys
    if sys.argv[1] == "backend-first":
        import jax.numpy as jnp
        jnp.zeros(1).block_until_ready()  # JAX's backend starts before rewardviz is imported
    import rewardviz
    from rewardviz import _xla
    print(json.dumps({"safe": _xla.batched_lapack_safe(), "flags": os.environ.get("XLA_FLAGS")}))
    """
)


def probe(case: str, xla_flags: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    run = subprocess.run(
        [sys.executable, "-c", PROBE, case], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_sets_the_flag_before_jax_starts():
    assert probe("fresh", None) == {"safe": True, "flags": f"{FLAG}=false"}


def test_import_keeps_other_flags():
    other = "--xla_force_host_platform_device_count=2"
    assert probe("fresh", other) == {"safe": True, "flags": f"{other} {FLAG}=false"}


@pytest.mark.parametrize(
    ("choice", "safe"), [("true", False), ("false", True), ("TRUE", False), ("0", True)]
)
def test_a_users_choice_wins(choice, safe):
    flags = f"{FLAG}={choice}"
    assert probe("fresh", flags) == {"safe": safe, "flags": flags}


def test_a_started_backend_is_left_alone():
    # The flag would have no effect any more; rewardviz must not claim it does.
    assert probe("backend-first", None) == {"safe": False, "flags": None}


def test_this_test_process_uses_lapack():
    # The suite's own results come from the fast path; the fallback is compared below.
    assert _xla.batched_lapack_safe()


FALLBACK = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import rewardviz as rv
    from rewardviz import _xla
    assert not _xla.batched_lapack_safe()
    study = rv.experiments.interpolation_study(
        n_envs=3, n_rewards=2, steps=4, n_states=6, n_actions=3, seed=5, progress=False,
        dtype="float64")
    mdp, _ = rv.envs.random_mdp(7, 3, seed=2, gamma=0.9)
    reward = rv.envs.random_reward(mdp, seed=3)
    result = rv.solve.policy_iteration(mdp, reward)
    np.savez(sys.argv[1], frame=study.frame.to_numpy(dtype=float),
             values=np.asarray(result.values), actions=np.asarray(result.actions))
    """
)


def test_fallback_elimination_matches_lapack(tmp_path):
    """Without the flag, the pivot-free elimination gives the LAPACK results to rounding."""
    out = tmp_path / "fallback.npz"
    env = dict(os.environ, XLA_FLAGS=f"{FLAG}=true")
    run = subprocess.run(
        [sys.executable, "-c", FALLBACK, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    fallback = np.load(out)

    assert jax.config.jax_enable_x64
    study = rv.experiments.interpolation_study(
        n_envs=3, n_rewards=2, steps=4, n_states=6, n_actions=3, seed=5, progress=False,
        dtype="float64",
    )  # fmt: skip
    mdp, _ = rv.envs.random_mdp(7, 3, seed=2, gamma=0.9)
    result = rv.solve.policy_iteration(mdp, rv.envs.random_reward(mdp, seed=3))
    frame = study.frame.to_numpy(dtype=float)
    # Regrets and distances are O(1): 1e-9 is ~1e7 ulps of float64, rounding only.
    np.testing.assert_allclose(fallback["frame"], frame, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(fallback["actions"], np.asarray(result.actions))
    # LU with pivoting and elimination without it differ by a few ulps (~1e-15 relative).
    np.testing.assert_allclose(fallback["values"], np.asarray(result.values), rtol=1e-10)
    assert np.abs(frame[:, 4:]).max() > 0.01  # the comparison is not of zeros
