"""The issue's fidelity thresholds, on a subset of ``benches/fidelity_bench.py``'s cells and
seeds (the bench prints every cell with 5 seeds): the joint model's Kendall tau to the
reference is at least the best of Plackett-Luce, Bradley-Terry and the mean minus 0.01 in
each cell, and clearly ahead of the mean where the models kept parts of different
difficulty."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from onebench.metrics import kendall_tau

TOLERANCE = 0.01  # the issue's: joint >= best other - 0.01
AHEAD_OF_MEAN = 0.05


def _bench() -> ModuleType:
    path = Path(__file__).parents[1] / "benches" / "fidelity_bench.py"
    spec = importlib.util.spec_from_file_location("fidelity_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses resolve their annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()
Cell = bench.Cell


def _margin(runs: list[dict[str, float]]) -> tuple[float, dict[str, float]]:
    means = {method: float(np.mean([run[method] for run in runs])) for method in runs[0]}
    best_other = max(means[m] for m in bench.METHODS if m != "joint")
    return means["joint"] - best_other, means


@pytest.mark.parametrize(
    "cell",
    [
        Cell("synthetic", 0.0),
        Cell("synthetic", 0.95),
        Cell("synthetic", 0.99),
        Cell("synthetic", 0.9, "benchmarks"),
        Cell("synthetic", 0.9, "difficulty"),
    ],
    ids=lambda cell: cell.label,
)
def test_synthetic_cell(cell) -> None:
    runs = [bench.synthetic_taus(cell, seed) for seed in range(2)]
    margin, means = _margin(runs)
    assert margin >= -TOLERANCE, means
    if cell.structure:
        assert means["joint"] >= means["mean"] + AHEAD_OF_MEAN, means


REAL_CELLS = [
    Cell("mmlu_pro", 0.99),
    Cell("mmlu_pro", 0.0, "random groups"),
    Cell("mmlu_pro", 0.9, "by strength"),
    Cell("chembench_irt", 0.95),
    Cell("chembench_irt", 0.9, "by strength"),
    Cell("chembench_irt", 0.0, "by strength"),
    Cell("chembench_irt", 0.5, "random groups"),
    Cell("chembench_irt", 0.0, "random groups"),
]


@pytest.fixture(scope="module")
def sources(data_dir: Path) -> dict[str, tuple]:
    return {name: bench.real_source(data_dir, name) for name in bench.GROUPS}


@pytest.mark.parametrize(
    "cell", REAL_CELLS, ids=lambda cell: cell.label if isinstance(cell, Cell) else None
)
def test_real_cell(cell, sources) -> None:
    seeds = 1 if cell.structure == "by strength" and not cell.missing else 3
    runs = [
        bench.real_taus(cell, seed, sources[cell.source], variant=False) for seed in range(seeds)
    ]
    margin, means = _margin(runs)
    assert margin >= -TOLERANCE, means
    if cell.structure == "by strength":
        # The kept parts differ in difficulty: the mean ranks what models were given.
        assert means["joint"] >= means["mean"] + AHEAD_OF_MEAN, means


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
