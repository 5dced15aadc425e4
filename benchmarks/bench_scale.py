"""Memory-bounded scale: pairwise distances for many rewards, and a 10⁸-step Parquet log.

Each case runs in a fresh Python process so its peak resident memory (``VmHWM`` from
``/proc/self/status``; ``ru_maxrss`` can carry the parent's high-water mark across
``fork``) is its own, and is reported next to the size of its inputs:

- pairwise EPIC for N = 2,000 rewards on |S| = 64, |A| = 4 (float32): 131 MB of rewards,
  a 16 MB matrix; canonicalisation is chunked (``PAIRWISE_MEMORY``) and the Gram product
  runs block by block, so memory stays near the inputs plus one block;
- pairwise DARD for N = 500 on the same MDP (chunked in the same way);
- :func:`rewardviz.io.read_parquet_returns` on a long-format log of 10⁸ steps (1,000
  episodes × 100,000 steps, one reward component: 10⁸ rows, written here in chunks and
  deleted afterwards), streamed 10⁶ rows at a time into per-episode returns.

No numpy comparison: these rows are about memory, not speed.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import time

PAIRWISE = textwrap.dedent(
    """
    import time, json
    import numpy as np
    def peak_mb():  # VmHWM: this process's own peak (ru_maxrss can carry the parent's)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import rewardviz as rv
    baseline = peak_mb()
    mdp, _ = rv.envs.random_mdp(64, 4, seed=0, n_successors=8)
    rewards = rv.envs.random_reward(mdp, seed=1, batch_shape=({n},))
    start = time.perf_counter()
    matrix = np.asarray(rv.distances.pairwise(mdp, rewards, "{method}"))
    seconds = time.perf_counter() - start
    print(json.dumps({{"seconds": seconds, "peak_rss_mb": peak_mb(),
        "finite": bool(np.isfinite(matrix).all()),
        "input_mb": rewards.size * 4 / 1e6, "baseline_rss_mb": baseline}}))
    """
)

PARQUET_WRITE = textwrap.dedent(
    """
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    episodes, steps, chunk = {episodes}, {steps}, 10
    schema = pa.schema([("episode", pa.int32()), ("step", pa.int32()),
                        ("component", pa.string()), ("value", pa.float32())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter("{path}", schema) as writer:
        for first in range(0, episodes, chunk):  # 10 episodes (10⁶ rows) per write
            count = min(chunk, episodes - first)
            episode = np.repeat(np.arange(first, first + count, dtype=np.int32), steps)
            step = np.tile(np.arange(steps, dtype=np.int32), count)
            component = pa.array(["reward_forward"] * len(step)).dictionary_encode()
            value = rng.standard_normal(len(step), dtype=np.float32)
            writer.write_table(pa.table({{"episode": episode, "step": step,
                                          "component": component.cast(pa.string()),
                                          "value": value}}, schema=schema))
    """
)

PARQUET_READ = textwrap.dedent(
    """
    import time, json
    import numpy as np
    def peak_mb():  # VmHWM: this process's own peak (ru_maxrss can carry the parent's)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import rewardviz as rv
    baseline = peak_mb()
    start = time.perf_counter()
    log = rv.io.read_parquet_returns("{path}", gamma=0.99)
    seconds = time.perf_counter() - start
    shares = rv.decompose.variance_attribution(log)
    print(json.dumps({{"seconds": seconds, "episodes": int(log.n_episodes),
        "peak_rss_mb": peak_mb(),
        "baseline_rss_mb": baseline}}))
    """
)


def _child(code: str) -> dict:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def run(episodes: int = 1000, steps: int = 100_000) -> list[dict]:
    rows = []
    for method, n in (("epic", 2000), ("dard", 500)):
        result = _child(PAIRWISE.format(method=method, n=n))
        row = {"benchmark": f"pairwise {method.upper()}, N={n}, |S|=64, |A|=4 (float32)", **result}
        rows.append(row)
        print(
            f"{row['benchmark']:<48} {result['seconds']:7.2f} s  peak RSS "
            f"{result['peak_rss_mb']:7.0f} MB  (after imports {result['baseline_rss_mb']:.0f} MB; "
            f"rewards {result['input_mb']:.0f} MB)"
        )
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "log.parquet"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", PARQUET_WRITE.format(episodes=episodes, steps=steps, path=path)],
            check=True,
        )
        written = time.perf_counter() - start
        result = _child(PARQUET_READ.format(path=path))
        size_mb = path.stat().st_size / 1e6
    row = {
        "benchmark": f"Parquet returns, {episodes * steps:.0e} steps, streamed",
        "file_mb": size_mb,
        "write_seconds": written,
        **result,
    }
    rows.append(row)
    print(
        f"{row['benchmark']:<48} {result['seconds']:7.2f} s  peak RSS "
        f"{result['peak_rss_mb']:7.0f} MB  (after imports {result['baseline_rss_mb']:.0f} MB; "
        f"file {size_mb:.0f} MB, written in {written:.0f} s)"
    )
    return rows


if __name__ == "__main__":
    run()
