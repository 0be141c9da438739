"""Rankings on real public evaluation data (``ONEBENCH_DATA``), thinned at random."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onebench
import pyarrow.parquet as pq
import pytest
from onebench.cli import main
from onebench.metrics import kendall_tau


def test_import_mmlu_pro_with_one_command_matches_published_accuracy(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = data_dir / "mmlu_pro"
    assert main(["import", str(folder), "--pool", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    assert main(["stats", "--pool", str(tmp_path / "p"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    published = json.loads((folder / "stats.json").read_text())
    assert stats["samples"] == published["samples"]
    assert stats["models"] == published["models"]
    assert stats["measurements"]["total"] == published["measurements"]
    board = onebench.Pool.open(tmp_path / "p").rank(method="mean", interval="none")
    for row in board:
        # The mean of binary measurements is the model's accuracy on the samples it answered.
        assert row.score == pytest.approx(published["accuracy_per_model"][row.model], abs=1e-4)


def _thinned_tau(table, truth: dict[str, float], fraction: float, seed: int, path: Path) -> float:
    rng = np.random.default_rng(seed)
    kept = table.filter(rng.random(table.num_rows) >= fraction) if fraction else table
    pool = onebench.Pool.create(path)
    pool.add_samples({"sample_id": np.unique(kept.column("sample_id").to_numpy())})
    pool.add_models(sorted(truth))
    pool.add_measurements(kept.select(["sample_id", "model", "score"]), kind="binary")
    board = pool.rank(interval="none")
    return kendall_tau([row.score for row in board], [truth[row.model] for row in board])


def test_mmlu_pro_ranking_survives_random_removal(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "mmlu_pro"
    table = pq.read_table(folder / "measurements.parquet", columns=["sample_id", "model", "score"])
    truth = json.loads((folder / "stats.json").read_text())["accuracy_per_model"]
    taus = {}
    for fraction in (0.0, 0.5, 0.9, 0.95, 0.99):
        taus[fraction] = [
            _thinned_tau(table, truth, fraction, seed, tmp_path / f"{fraction}-{seed}")
            for seed in range(5 if fraction else 1)
        ]
    means = {fraction: float(np.mean(values)) for fraction, values in taus.items()}
    assert means[0.0] >= 0.95, means
    assert means[0.5] >= 0.93, means
    assert means[0.95] >= 0.90, means
