"""Streaming per-episode returns from Parquet against loops and the dense reader."""

import numpy as np
import pandas as pd
import pytest

import rewardviz as rv


def long_table(rng, lengths, names=("forward", "ctrl", "alive"), total_offset=0.0):
    rows = []
    for episode, length in enumerate(lengths):
        for step in range(length):
            values = rng.normal(size=len(names))
            for name, value in zip(names, values, strict=True):
                rows.append((f"run-{episode}", step, name, value))
            rows.append((f"run-{episode}", step, "total", values.sum() + total_offset))
    table = pd.DataFrame(rows, columns=["episode", "step", "component", "value"])
    return table.sample(frac=1.0, random_state=0)  # any row order


def test_streamed_returns_match_loops_and_the_dense_reader(tmp_path):
    rng = np.random.default_rng(0)
    table = long_table(rng, [5, 9, 1, 7])
    path = tmp_path / "log.parquet"
    table.to_parquet(path)
    gamma = 0.9
    streamed = rv.io.read_parquet_returns(path, gamma=gamma, batch_size=13)
    dense = rv.io.read_parquet(path, batch_size=13)
    assert streamed.names == dense.names  # first appearance; the total matches: no unexplained
    assert "unexplained" not in streamed.names
    returns = np.asarray(streamed.components)[:, 0, :]
    for e, episode in enumerate(streamed.episode_info["episode"]):
        for k, name in enumerate(streamed.names):
            rows = table[(table.episode == episode) & (table.component == name)]
            expected = sum(gamma**s * v for s, v in zip(rows.step, rows.value, strict=True))
            assert returns[e, k] == pytest.approx(expected, abs=1e-12)
    by_id = {e: i for i, e in enumerate(dense.episode_info["episode"])}
    order = [by_id[e] for e in streamed.episode_info["episode"]]
    dense_returns = np.asarray(rv.decompose.component_returns(dense, gamma))[order]
    np.testing.assert_allclose(returns, dense_returns, atol=1e-10)
    np.testing.assert_array_equal(streamed.episode_info["length"], np.asarray(dense.lengths)[order])
    # Episode-level statistics work on the streamed log as on the dense one (γ = 1 there).
    np.testing.assert_allclose(
        np.asarray(rv.decompose.variance_attribution(streamed)),
        np.asarray(rv.decompose.variance_attribution(
            rv.io.read_parquet_returns(path, gamma=gamma, batch_size=1000)
        )),
    )  # fmt: skip


def test_a_total_that_disagrees_becomes_unexplained(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "log.parquet"
    long_table(rng, [4, 4], total_offset=0.5).to_parquet(path)
    streamed = rv.io.read_parquet_returns(path, batch_size=7)
    assert streamed.names[-1] == "unexplained"
    np.testing.assert_allclose(np.asarray(streamed.components)[:, 0, -1], [2.0, 2.0])


def test_duplicates_and_nans_are_refused(tmp_path):
    rng = np.random.default_rng(2)
    table = long_table(rng, [3])
    duplicated = pd.concat([table, table.iloc[:1]])
    duplicated.to_parquet(tmp_path / "dup.parquet")
    with pytest.raises(ValueError, match="duplicated"):
        rv.io.read_parquet_returns(tmp_path / "dup.parquet")
    table.loc[table.index[0], "value"] = np.nan
    table.to_parquet(tmp_path / "nan.parquet")
    with pytest.raises(ValueError, match=r"missing values|NaN"):
        rv.io.read_parquet_returns(tmp_path / "nan.parquet")
    (tmp_path / "text.parquet").write_text("episode,step\n")
    with pytest.raises(ValueError, match="not a readable Parquet file"):
        rv.io.read_parquet_returns(tmp_path / "text.parquet")
    with pytest.raises(ValueError, match="gamma"):
        rv.io.read_parquet_returns(tmp_path / "dup.parquet", gamma=1.5)
