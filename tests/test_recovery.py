"""Recovery of known orders from synthetic data (the guarantees of issue 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onebench
import pytest
from onebench.metrics import kendall_tau
from onebench.synthetic import SyntheticData, generate


def _load(data: SyntheticData, path: Path) -> onebench.Pool:
    pool = onebench.Pool.create(path)
    pool.add_samples(data.samples_frame())
    pool.add_models(data.model_ids)
    frame = data.measurements_frame()
    for kind in ("binary", "numeric"):
        part = frame[frame["kind"] == kind]
        if len(part):
            pool.add_measurements(part, kind=kind)
    return pool


def _tau(pool: onebench.Pool, data: SyntheticData, method: str) -> float:
    board = pool.rank(method=method, interval="none")
    truth = dict(zip(data.model_ids, data.true_strength, strict=True))
    return kendall_tau([row.score for row in board], [truth[row.model] for row in board])


def test_dense_100_models_10k_samples_onebench_dispersion(tmp_path: Path) -> None:
    # ONEBench's synthetic script as its command line runs it: score spreads sigma ~ U(0, 0.1).
    data = generate(100, 10_000, dispersion=0.1, seed=0)
    assert _tau(_load(data, tmp_path / "p"), data, "plackett-luce") >= 0.97


@pytest.mark.xfail(
    strict=True,
    reason="issue 2 target not met at sigma ~ U(0, 0.25): the Plackett-Luce MLE reaches tau "
    "0.915 here (choix's own PL MLE gives the same). Models whose scores spread more are "
    "underrated by a full-ranking PL likelihood; all-pairs Bradley-Terry reaches 0.971 and "
    "the joint model 0.992 (next test).",
)
def test_dense_100_models_10k_samples(tmp_path: Path) -> None:
    data = generate(100, 10_000, seed=0)
    assert _tau(_load(data, tmp_path / "p"), data, "plackett-luce") >= 0.97


def test_dense_100_models_10k_samples_joint(tmp_path: Path) -> None:
    # The joint model gives each numeric sample its own offset instead of a ranking, so the
    # unequal spreads that defeat Plackett-Luce above cost it little.
    data = generate(100, 10_000, seed=0)
    assert _tau(_load(data, tmp_path / "p"), data, "joint") >= 0.97


def test_dense_limit_is_the_score_dispersion_not_the_solver(tmp_path: Path) -> None:
    # The same means, numeric samples only, with every model's scores equally spread: PL's
    # assumption of one noise scale holds and the MLE recovers the order; with unequal
    # spreads it does not (the gap the xfail above records; choix's MLE agrees with ours,
    # tests/test_choix_agreement.py).
    rng = np.random.default_rng(0)
    strength = rng.uniform(0.0, 1.0, 100)
    models = [f"m{i}" for i in range(100)]
    for case, sigma in enumerate((np.full(100, 0.125), rng.uniform(0.0, 0.25, 100))):
        scores = strength + sigma * rng.standard_normal((3000, 100))
        pool = onebench.Pool.create(tmp_path / str(case))
        pool.add_measurements(
            {
                "sample_id": np.repeat([f"s{i}" for i in range(3000)], 100),
                "model": np.tile(models, 3000),
                "score": scores.ravel(),
            },
            kind="numeric",
            samples={"sample_id": [f"s{i}" for i in range(3000)]},
            models=models,
        )
        board = pool.rank(method="plackett-luce", interval="none")
        tau = kendall_tau(
            [row.score for row in board], [strength[int(m[1:])] for m in board.models]
        )
        assert tau >= 0.98 if case == 0 else tau <= 0.92


def test_95_percent_missing(tmp_path: Path) -> None:
    data = generate(100, 10_000, missing=0.95, seed=1)
    assert _tau(_load(data, tmp_path / "p"), data, "plackett-luce") >= 0.93


@pytest.mark.parametrize("structure", ["benchmarks", "difficulty"])
def test_structured_missingness_plackett_luce_beats_mean(tmp_path: Path, structure: str) -> None:
    taus = {"plackett-luce": [], "mean": []}
    for seed in range(3):
        data = generate(60, 6_000, missing=0.5, structure=structure, seed=seed)
        pool = _load(data, tmp_path / f"p{seed}")
        for method in taus:
            taus[method].append(_tau(pool, data, method))
    pl, mean = np.mean(taus["plackett-luce"]), np.mean(taus["mean"])
    assert pl >= mean + 0.1, (pl, mean)


def _pl_ranking_pool(path: Path, beta: np.ndarray, n_samples: int, missing: float, seed: int):
    """Numeric samples drawn from an exact Plackett–Luce model (Gumbel-max), so the true
    log-strengths are the parameters the intervals should cover."""
    rng = np.random.default_rng(seed)
    n_models = len(beta)
    utility = beta[None, :] + rng.gumbel(size=(n_samples, n_models))
    keep = rng.random((n_samples, n_models)) >= missing
    rows, models = np.nonzero(keep)
    pool = onebench.Pool.create(path)
    pool.add_samples({"sample_id": [f"s{i}" for i in range(n_samples)]})
    pool.add_models([f"m{i}" for i in range(n_models)])
    pool.add_measurements(
        {
            "sample_id": np.array([f"s{i}" for i in range(n_samples)])[rows],
            "model": np.array([f"m{i}" for i in range(n_models)])[models],
            "score": utility[rows, models],
        },
        kind="numeric",
    )
    return pool


@pytest.mark.parametrize(("missing", "n_samples"), [(0.0, 150), (0.95, 3000)])
def test_bootstrap_intervals_cover_the_true_strengths(
    tmp_path: Path, missing: float, n_samples: int
) -> None:
    n_models, covered, total = 20, 0, 0
    for draw in range(8):
        beta = np.random.default_rng(100 + draw).normal(0, 0.7, n_models)
        beta -= beta.mean()
        pool = _pl_ranking_pool(tmp_path / f"{draw}", beta, n_samples, missing, seed=draw)
        board = pool.rank(method="plackett-luce", bootstrap=200, seed=draw, alpha=0.01)
        for row in board:
            truth = beta[int(row.model[1:])]
            covered += row.ci_low <= truth <= row.ci_high
            total += 1
    coverage = covered / total
    assert 0.90 <= coverage <= 0.98, coverage
