"""``benches/calibration_bench.py`` on one small regime: the records and summary have the
documented structure and consistent counts, and the mean's binomial (Wilson) interval
covers the full-data accuracy on a dense binary synthetic pool thinned at random."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _benches import load_bench
from onebench.synthetic import generate

bench = load_bench("calibration_bench")


def _synthetic(n_models: int, n_samples: int, seed: int):
    """A complete binary matrix as a bench Source; truth = accuracy on every cell."""
    data = generate(n_models, n_samples, binary_fraction=1.0, seed=seed)
    frame = data.measurements_frame()
    rows = pd.DataFrame(
        {
            "sample_id": frame["sample_id"].astype(str),
            "model": frame["model"].astype(str),
            "score": frame["score"].astype(float),
        }
    )
    benchmarks = dict(zip(data.sample_ids, data.benchmarks, strict=True))
    rows["group"] = rows["sample_id"].map(benchmarks)
    truth = rows.groupby("model")["score"].mean().to_dict()
    return bench.Source("synthetic", rows, data.samples_frame(), truth, kind="binary")


def test_overlap_ranks_counts_the_models_surely_better_and_worse() -> None:
    low = np.array([0.8, 0.5, 0.1])
    high = np.array([0.9, 0.85, 0.2])
    rank_low, rank_high = bench.overlap_ranks(low, high)
    assert rank_low.tolist() == [1, 1, 3]
    assert rank_high.tolist() == [2, 2, 3]


def test_one_regime_has_consistent_records_and_summary() -> None:
    source = _synthetic(20, 600, seed=0)
    regime = bench.Regime("random 90%", 0.9)
    records = bench.measure(source, regime, seed=0, bootstrap=10)
    labels = [label for label, _, _ in bench.ESTIMATORS]
    assert len(records) == len(labels) * len(source.truth)
    for label in labels:
        models = [r["model"] for r in records if r["estimator"] == label]
        assert sorted(models) == sorted(source.truth)
    table = bench.summary(records, source)
    assert list(table) == labels
    for label, row in table.items():
        given = [r for r in records if r["estimator"] == label and not r["missing"]]
        assert row["n"] == len(source.truth)
        assert row["missing"] == row["n"] - len(given)
        if given:
            assert 0.0 <= row["rank_coverage"] <= 1.0
            assert 0.0 <= row["score_coverage"] <= 1.0
            assert row["rank_width"] >= 0 and row["score_width"] > 0
        else:
            assert np.isnan(row["rank_coverage"]) and np.isnan(row["score_coverage"])
    # The library's mean has its own interval (Agresti-Coull): no pair is missing.
    assert table["mean, library (Agresti-Coull)"]["missing"] == 0
    assert table[bench.PL_BOOT]["rank_width_xpl"] == pytest.approx(1.0)
    rendered = bench.render([("synthetic", regime.name, table)]).splitlines()
    assert len(rendered) == 2 + len(labels)


def test_wilson_interval_covers_full_data_accuracy_on_a_dense_pool() -> None:
    # 40 models x 2,000 binary samples, 90% removed at random: about 200 measurements a
    # model, where the normal approximation behind Wilson's interval holds.
    source = _synthetic(40, 2_000, seed=1)
    regime = bench.Regime("random 90%", 0.9)
    wilson = [e for e in bench.ESTIMATORS if e[2] == "binomial"]
    records = [
        r for seed in range(3) for r in bench.measure(source, regime, seed, 0, estimators=wilson)
    ]
    row = bench.summary(records, source)["mean, binomial"]
    assert row["missing"] == 0
    assert row["score_coverage"] >= 0.8
