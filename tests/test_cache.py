"""rv.enable_compilation_cache: a second process loads compiled kernels instead of compiling.

Each check runs in fresh Python processes, since the cache setting is process-wide and
the point is what a new process finds on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import rewardviz as rv

# Value iteration and EPIC distances on a small random MDP; prints what the persistent
# cache did during those calls, counted from JAX's monitoring events.
SCRIPT = """
import json, sys
import jax
counts = {"hits": 0, "misses": 0, "compiles": 0}
def on_event(event, **kwargs):
    if event == "/jax/compilation_cache/cache_hits":
        counts["hits"] += 1
    if event == "/jax/compilation_cache/cache_misses":
        counts["misses"] += 1
def on_duration(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        counts["compiles"] += 1
import rewardviz as rv
directory = rv.enable_compilation_cache(*sys.argv[1:])
mdp, reward = rv.envs.random_mdp(6, 2, seed=0, gamma=0.9)
jax.monitoring.register_event_listener(on_event)
jax.monitoring.register_event_duration_secs_listener(on_duration)
values = rv.solve.value_iteration(mdp, reward).values
distance = rv.distances.epic(mdp, reward, 2 * reward + 1)
print(json.dumps({"directory": str(directory), "values": values.tolist(),
                  "distance": float(distance), **counts}))
"""


def run_process(*arguments: str, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_every_kernel_from_the_cache(tmp_path):
    directory = tmp_path / "nested" / "cache"
    cold = run_process(str(directory))
    assert cold["directory"] == str(directory.resolve())
    # The cold process compiled and stored every kernel it ran, small ones included.
    assert cold["compiles"] > 0
    assert cold["hits"] == 0
    assert cold["misses"] == cold["compiles"]
    stored = [entry for entry in directory.iterdir() if entry.is_file()]
    assert len(stored) >= cold["misses"]

    warm = run_process(str(directory))
    # Same kernels, same answers; each one loaded from disk, none compiled afresh.
    assert warm["hits"] == cold["compiles"]
    assert warm["misses"] == 0
    assert warm["values"] == cold["values"]
    assert warm["distance"] == cold["distance"]


def test_the_default_directory_is_under_the_users_cache(tmp_path):
    result = run_process(env={"HOME": str(tmp_path)})
    expected = tmp_path / ".cache" / "rewardviz" / "jax"
    assert result["directory"] == str(expected.resolve())
    assert any(expected.iterdir())


def test_a_file_is_refused_as_the_cache_directory(tmp_path):
    path = tmp_path / "not_a_directory"
    path.write_text("")
    with pytest.raises(ValueError, match=r"path must be a directory.*is a file"):
        rv.enable_compilation_cache(path)


def test_a_non_path_is_refused():
    with pytest.raises(TypeError, match=r"path must be a directory path.*got int"):
        rv.enable_compilation_cache(3)
