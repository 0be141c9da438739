"""Issue 20's fidelity verdict, on a few of ``benches/fidelity_bench.py``'s cells and seeds
(the bench prints every cell): the joint model's Kendall tau to the reference is at least
the best of the mean, ONEBench's estimator and the plain Rasch reference minus 0.01, and
clearly ahead of the mean where the models kept parts of different difficulty. A
chembench_irt cell where the bench measured the joint model below that bar is a strict
expected failure (``BELOW_BAR``). The Rasch reference itself recovers a known order."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from _benches import load_bench
from onebench.metrics import kendall_tau

TOLERANCE = 0.01  # the issue's: joint >= max(mean, onebench, rasch) - 0.01
AHEAD_OF_MEAN = 0.05


bench = load_bench("fidelity_bench")
Cell = bench.Cell
reference = sys.modules["_reference"]


def _margin(runs: list[dict[str, float]]) -> tuple[float, dict[str, float]]:
    means = bench.summary(runs)
    return means["margin"], means


def test_verdict_compares_mean_onebench_and_rasch() -> None:
    assert set(bench.COMPARED) == {"mean", "onebench", bench.RASCH}
    assert bench.ARMS["onebench"] == ("onebench", {})
    runs = [{"joint": 0.90, "onebench": 0.80, "mean": 0.85, bench.RASCH: 0.93}]
    assert bench.summary(runs)["margin"] == pytest.approx(-0.03)


@pytest.mark.parametrize(
    "cell",
    [Cell("synthetic", 0.95), Cell("synthetic", 0.9, "benchmarks")],
    ids=lambda cell: cell.label,
)
def test_synthetic_cell(cell) -> None:
    runs, _ = bench.cell_runs(cell, 2, {}, bench.VERDICT_ARMS)
    margin, means = _margin(runs)
    assert margin >= -TOLERANCE, means
    if cell.structure:
        assert means["joint"] >= means["mean"] + AHEAD_OF_MEAN, means


# Issue 20's bar is not met here: the joint model is below the Rasch reference, which is
# given the same difficulty buckets as strata (bench: -0.013 on seeds 0-1, the seeds of
# this test, and -0.012 on 5). Strict, so that a fix shows as a failure to move it up.
BELOW_BAR = {
    Cell("chembench_irt", 0.5, "by strength"): "joint 0.758, rasch reference 0.771: -0.013",
}
REAL_CELLS = [
    Cell("mmlu_pro", 0.99),
    Cell("mmlu_pro", 0.9, "by strength"),
    Cell("chembench_irt", 0.5),
    Cell("chembench_irt", 0.0, "by strength"),
    *[
        pytest.param(cell, marks=pytest.mark.xfail(strict=True, reason=why))
        for cell, why in BELOW_BAR.items()
    ],
]
_RUNS: dict = {}


@pytest.fixture(scope="module")
def sources(data_dir: Path) -> dict[str, tuple]:
    return {name: bench.real_source(data_dir, name) for name in bench.GROUPS}


def _real_means(cell, sources) -> tuple[float, dict[str, float]]:
    if cell not in _RUNS:
        _RUNS[cell] = bench.cell_runs(cell, 2, sources, bench.VERDICT_ARMS)[0]
    return _margin(_RUNS[cell])


def _label(cell) -> str | None:
    return cell.label if isinstance(cell, Cell) else None


@pytest.mark.parametrize("cell", REAL_CELLS, ids=_label)
def test_real_cell(cell, sources) -> None:
    margin, means = _real_means(cell, sources)
    assert margin >= -TOLERANCE, means


@pytest.mark.parametrize(
    "cell", [c for c in [*REAL_CELLS[:4], *BELOW_BAR] if c.structure == "by strength"], ids=_label
)
def test_real_cell_ahead_of_mean(cell, sources) -> None:
    # The kept parts differ in difficulty: the mean ranks what models were given.
    _, means = _real_means(cell, sources)
    assert means["joint"] >= means["mean"] + AHEAD_OF_MEAN, means


def _rasch_data(seed: int) -> tuple[np.ndarray, ...]:
    """50 models x 2,000 samples drawn from the Rasch model itself (4 benchmarks of
    different difficulty), each model measured mostly on samples near its level."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(0.0, 1.0, 50)
    group = rng.integers(0, 4, 2000)
    difficulty = np.linspace(-1.5, 1.5, 4)[group] + rng.normal(0.0, np.sqrt(0.5), 2000)
    near = 0.4 * np.exp(-((skill[:, None] - difficulty[None, :]) ** 2) / 2)
    model, sample = np.nonzero(rng.random(near.shape) < near)
    chance = 1 / (1 + np.exp(difficulty[sample] - skill[model]))
    return skill, model, sample, group, (rng.random(model.size) < chance).astype(float)


def test_rasch_reference_recovers_a_known_order() -> None:
    # Measured over seeds 0-19 (about 400 measurements per model): tau 0.896-0.941, mean
    # 0.916; the mean score 0.684-0.830, mean 0.754, since weak models saw easy samples.
    rasch, mean = [], []
    for seed in range(3):
        skill, model, sample, group, y = _rasch_data(seed)
        estimate = reference.rasch_fit(model, sample, group, y, len(skill))
        rasch.append(kendall_tau(estimate, skill))
        accuracy = np.bincount(model, y, len(skill)) / np.bincount(model, minlength=len(skill))
        mean.append(kendall_tau(accuracy, skill))
    assert min(rasch) >= 0.88, rasch
    assert np.mean(rasch) >= np.mean(mean) + 0.1, (rasch, mean)


def test_models_without_a_score_tie_at_the_bottom() -> None:
    truth = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.0}
    assert bench.scores_tau({"a": 2.0, "b": 1.0}, truth) == pytest.approx(
        kendall_tau([2.0, 1.0, 0.0, 0.0], [3.0, 2.0, 1.0, 0.0])
    )


def test_scores_within_rounding_of_each_other_count_as_tied() -> None:
    ties = sys.modules["_ties"]
    scores = np.array([0.5, 1.0 + 2e-16, 1.0, 2.0, 1.0 + 1e-6])
    merged = ties.merge_ties(scores)
    assert merged[1] == merged[2] == 1.0
    assert merged[4] == scores[4] and merged[3] == 2.0 and merged[0] == 0.5
    # Ordered by a rounding difference, the tied pair decided tau; merged, it is a tie.
    truth = [0.0, 0.9, 1.0, 3.0, 2.0]
    assert kendall_tau(merged, truth) == pytest.approx(
        kendall_tau(np.array([0.5, 1.0, 1.0, 2.0, 1.0 + 1e-6]), truth)
    )
    assert kendall_tau(merged, truth) != kendall_tau(scores, truth)
