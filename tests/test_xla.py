"""The XLA:CPU scheduler flag a user may set, and the two solver paths it chooses between.

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
    import json, os
    import rewardviz
    from rewardviz import _xla
    print(json.dumps({"safe": _xla.batched_lapack_safe(), "flags": os.environ.get("XLA_FLAGS")}))
    """
)


def probe(xla_flags: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    run = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_leaves_xla_flags_alone():
    # Process-wide and read once: rewardviz never sets it (see rewardviz/_xla.py).
    assert probe(None) == {"safe": False, "flags": None}
    other = "--xla_force_host_platform_device_count=2"
    assert probe(other) == {"safe": False, "flags": other}


@pytest.mark.parametrize(
    ("flags", "safe"),
    [
        (f"{FLAG}=false", True),
        (f"{FLAG}=0", True),
        (f"--xla_force_host_platform_device_count=2 {FLAG}=FALSE", True),
        (f"{FLAG}=true", False),
        (f"{FLAG}=false {FLAG}=true", False),  # XLA applies the last occurrence
        (FLAG, False),  # a bare boolean flag means true
    ],
)
def test_lapack_is_used_only_when_the_user_turned_the_scheduler_off(flags, safe):
    assert probe(flags) == {"safe": safe, "flags": flags}


def test_this_test_process_uses_the_elimination():
    # The suite's own results come from the default path; LAPACK is compared below.
    assert not _xla.batched_lapack_safe()


WITH_LAPACK = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import rewardviz as rv
    from rewardviz import _xla
    assert _xla.batched_lapack_safe()
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


def test_lapack_matches_the_elimination(tmp_path):
    """With the flag, LAPACK gives the pivot-free elimination's results to rounding."""
    out = tmp_path / "lapack.npz"
    env = dict(os.environ, XLA_FLAGS=f"{FLAG}=false")
    run = subprocess.run(
        [sys.executable, "-c", WITH_LAPACK, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    lapack = np.load(out)

    assert jax.config.jax_enable_x64
    study = rv.experiments.interpolation_study(
        n_envs=3, n_rewards=2, steps=4, n_states=6, n_actions=3, seed=5, progress=False,
        dtype="float64",
    )  # fmt: skip
    mdp, _ = rv.envs.random_mdp(7, 3, seed=2, gamma=0.9)
    result = rv.solve.policy_iteration(mdp, rv.envs.random_reward(mdp, seed=3))
    frame = study.frame.to_numpy(dtype=float)
    # Regrets and distances are O(1): 1e-9 is ~1e7 ulps of float64, rounding only.
    np.testing.assert_allclose(lapack["frame"], frame, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(lapack["actions"], np.asarray(result.actions))
    # LU with pivoting and elimination without it differ by a few ulps (~1e-15 relative).
    np.testing.assert_allclose(lapack["values"], np.asarray(result.values), rtol=1e-10)
    assert np.abs(frame[:, 4:]).max() > 0.01  # the comparison is not of zeros
