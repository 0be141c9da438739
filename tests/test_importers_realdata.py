"""The real data of ``ONEBENCH_DATA``: all four sources in one pool with one command each,
the pool's per-model figures equal to their ``stats.json``, and ranking quality under
random and structured removal (``benches/realdata_bench.py`` prints the full tables)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import onebench
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from _benches import load_bench
from onebench.cli import main

SOURCES = ("mmlu_pro", "alpaca_eval", "arena_bench_v1", "chembench_irt")


def _bench() -> ModuleType:
    return load_bench("realdata_bench")


def _per_model(table: pa.Table, key: str = "model", value: str = "score") -> dict[str, float]:
    """The mean of ``value`` per ``key``."""
    table = pa.table({key: pc.cast(table.column(key), pa.string()), value: table.column(value)})
    means = table.group_by(key).aggregate([(value, "mean")])
    return dict(
        zip(means.column(key).to_pylist(), means.column(f"{value}_mean").to_pylist(), strict=True)
    )


def _where(table: pa.Table, column: str, value: str) -> pa.Table:
    return table.filter(pc.equal(pc.cast(table.column(column), pa.string()), value))


def test_four_sources_in_one_pool_match_their_published_figures(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool_path = str(tmp_path / "pool")
    for name in SOURCES:
        assert main(["import", str(data_dir / name), "--pool", pool_path]) == 0
    capsys.readouterr()
    assert main(["stats", "--pool", pool_path, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    published = {name: json.loads((data_dir / name / "stats.json").read_text()) for name in SOURCES}
    assert stats["samples"] == sum(p["samples"] for p in published.values())
    assert stats["measurements"]["total"] == sum(p["measurements"] for p in published.values())
    for name in SOURCES:
        for benchmark, count in published[name]["benchmarks"].items():
            assert stats["benchmarks"][benchmark]["measurements"] == count

    rows = onebench.Pool.open(pool_path).measurements()
    for name in ("mmlu_pro", "chembench_irt"):
        accuracy = _per_model(_where(rows, "source", name))
        assert accuracy == pytest.approx(published[name]["accuracy_per_model"], abs=1e-4)
    assert _per_model(_where(rows, "source", "arena_bench_v1")) == pytest.approx(
        published["arena_bench_v1"]["mean_score_per_model"], abs=1e-3
    )
    # alpaca_eval: every judge's rows kept apart by provenance, as many as published, and
    # each model's win rate under a judge equal to the source's (its leaderboard figure).
    alpaca = _where(rows, "source", "alpaca_eval")
    judges = pa.table(
        {
            "judge": pc.cast(alpaca.column("judge"), pa.string()),
            "model_b": pc.cast(alpaca.column("model_b"), pa.string()),
        }
    )
    counts = judges.group_by("judge").aggregate(
        [("model_b", "count"), ("model_b", "count_distinct")]
    )
    judge_names = counts.column("judge").to_pylist()
    assert (
        dict(zip(judge_names, counts.column("model_b_count").to_pylist(), strict=True))
        == (published["alpaca_eval"]["judges"])
    )
    assert (
        dict(zip(judge_names, counts.column("model_b_count_distinct").to_pylist(), strict=True))
        == (published["alpaca_eval"]["models_per_judge"])
    )
    table = pq.read_table(data_dir / "alpaca_eval" / "measurements.parquet")
    table = table.filter(pc.equal(table.column("judge"), "weighted_alpaca_eval_gpt4_turbo"))
    source = _per_model(table, key="model_b")
    weighted = _where(alpaca, "judge", "weighted_alpaca_eval_gpt4_turbo")
    assert _per_model(weighted, key="model_b", value="probability") == pytest.approx(
        source, abs=1e-6
    )

    # Importing all four again adds nothing.
    version = onebench.Pool.open(pool_path).version
    assert main(["import", *(str(data_dir / name) for name in SOURCES), "--pool", pool_path]) == 0
    assert onebench.Pool.open(pool_path).version == version


def test_ranking_quality_under_random_removal(data_dir: Path) -> None:
    bench = _bench()
    rows, truth = bench.binary_source(data_dir, "mmlu_pro")
    taus = [bench.random_removal(rows, truth, 0.95, seed)["plackett-luce"] for seed in range(5)]
    assert np.mean(taus) >= 0.90, taus
    # chembench_irt has 2,854 questions: at 95 % removal 1.1 cells per question are left
    # and even the accuracy of the kept cells ranks at tau ~0.77 (benches/README.md).
    rows, truth = bench.binary_source(data_dir, "chembench_irt")
    taus = [bench.random_removal(rows, truth, 0.5, seed)["plackett-luce"] for seed in range(5)]
    assert np.mean(taus) >= 0.90, taus


def test_chembench_irt_at_95_percent_removal_is_limited_by_the_data(data_dir: Path) -> None:
    # Why the 0.90 bar is asserted on mmlu_pro only: knowing every chembench_irt question's
    # difficulty and discrimination from the full data (which no method has) and fitting
    # each model's skill on its kept cells still ranks below 0.90 at 95 % removal.
    bench = _bench()
    rows, truth = bench.binary_source(data_dir, "chembench_irt")
    items = bench.item_parameters(rows)
    ceiling = [bench.oracle_ceiling(rows, truth, 0.95, seed, items) for seed in range(5)]
    assert np.mean(ceiling) < 0.90, ceiling
    joint = [bench.random_removal(rows, truth, 0.95, seed)["joint"] for seed in range(5)]
    assert np.mean(joint) <= np.mean(ceiling), (joint, ceiling)


@pytest.mark.parametrize("name", ["mmlu_pro", "chembench_irt"])
def test_plackett_luce_is_ahead_of_mean_under_structured_removal(data_dir: Path, name: str) -> None:
    bench = _bench()
    rows, truth = bench.binary_source(data_dir, name)
    runs = [bench.structured_removal(rows, truth, "random", seed) for seed in range(5)]
    mean_of = {
        method: np.mean([run[method] for run in runs]) for method in ("plackett-luce", "mean")
    }
    assert mean_of["plackett-luce"] > mean_of["mean"], mean_of
    by_strength = bench.structured_removal(rows, truth, "by strength")
    assert by_strength["plackett-luce"] > by_strength["mean"] + 0.1, by_strength
    # Bare samples (no group metadata), picked by difficulty for each model's strength:
    # the joint model's measurer effect reads the hard samples from who was given them
    # (chembench_irt 0.775 against 0.472 without it; Plackett-Luce 0.781).
    assert by_strength["joint"] >= by_strength["plackett-luce"] - 0.01, by_strength
    assert by_strength["joint"] > by_strength["mean"] + 0.2, by_strength


def test_pairwise_and_numeric_sources_rank_like_their_own_aggregates(data_dir: Path) -> None:
    bench = _bench()
    assert bench.alpaca_eval(data_dir)["plackett-luce"] >= 0.95
    assert bench.arena_bench(data_dir)["plackett-luce"] >= 0.85
