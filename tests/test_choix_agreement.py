"""Plackett–Luce in onebench equals choix's maximum-likelihood estimates (alpha = 0)."""

from __future__ import annotations

from pathlib import Path

import choix
import numpy as np
import onebench
import pytest

N_MODELS = 6


def _pool(tmp_path: Path, n_samples: int) -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path / "p")
    pool.add_samples({"sample_id": [f"s{i}" for i in range(n_samples)]})
    pool.add_models([f"m{i}" for i in range(N_MODELS)])
    return pool


def _scores(pool: onebench.Pool) -> np.ndarray:
    board = pool.rank(method="plackett-luce", alpha=0.0, interval="none", tolerance=1e-13)
    scores = np.array([board[f"m{i}"].score for i in range(N_MODELS)])
    return scores - scores.mean()


def _centred(params: np.ndarray) -> np.ndarray:
    return params - params.mean()


def _strengths(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, N_MODELS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_equals_ilsr_pairwise(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    beta = _strengths(seed)
    pairs = []
    for _ in range(400):
        a, b = rng.choice(N_MODELS, 2, replace=False)
        p_a = 1 / (1 + np.exp(beta[b] - beta[a]))
        pairs.append((a, b) if rng.random() < p_a else (b, a))
    pool = _pool(tmp_path, len(pairs))
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(len(pairs))],
            "model_a": [f"m{w}" for w, _ in pairs],
            "model_b": [f"m{loser}" for _, loser in pairs],
            "winner": ["a"] * len(pairs),
        },
        kind="pairwise",
    )
    expected = _centred(choix.ilsr_pairwise(N_MODELS, pairs, alpha=0.0, tol=1e-12))
    np.testing.assert_allclose(_scores(pool), expected, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_winner_binary_samples_equal_ilsr_top1(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    beta = _strengths(seed)
    choices = []
    for _ in range(300):
        field = rng.choice(N_MODELS, rng.integers(2, N_MODELS + 1), replace=False)
        weights = np.exp(beta[field])
        winner = rng.choice(field, p=weights / weights.sum())
        choices.append((int(winner), [int(m) for m in field if m != winner]))
    pool = _pool(tmp_path, len(choices))
    rows: dict[str, list] = {"sample_id": [], "model": [], "score": []}
    for index, (winner, losers) in enumerate(choices):
        for model in [winner, *losers]:
            rows["sample_id"].append(f"s{index}")
            rows["model"].append(f"m{model}")
            rows["score"].append(1 if model == winner else 0)
    pool.add_measurements(rows, kind="binary")
    expected = _centred(choix.ilsr_top1(N_MODELS, choices, alpha=0.0, tol=1e-12))
    np.testing.assert_allclose(_scores(pool), expected, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_rankings_equal_ilsr_rankings_and_are_the_lsr_fixed_point(
    tmp_path: Path, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    beta = _strengths(seed)
    rankings = []
    for _ in range(200):
        field = rng.choice(N_MODELS, rng.integers(2, N_MODELS + 1), replace=False)
        # Gumbel-max: sorting utilities beta + Gumbel noise samples a PL ranking.
        utility = beta[field] + rng.gumbel(size=len(field))
        rankings.append([int(m) for m in field[np.argsort(-utility)]])
    pool = _pool(tmp_path, len(rankings))
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(len(rankings))],
            "ranking": [[f"m{m}" for m in ranking] for ranking in rankings],
        },
        kind="ranking",
    )
    ours = _scores(pool)
    expected = _centred(choix.ilsr_rankings(N_MODELS, rankings, alpha=0.0, tol=1e-12))
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    # The MLE is the fixed point of choix's one-step spectral estimate.
    step = _centred(choix.lsr_rankings(N_MODELS, rankings, alpha=0.0, initial_params=ours))
    np.testing.assert_allclose(step, ours, atol=1e-6)


def test_numeric_samples_are_rankings(tmp_path: Path) -> None:
    """A numeric sample is the ranking of its scores; lower-is-better reverses it."""
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(150, N_MODELS))
    rankings = [[int(m) for m in np.argsort(-row)] for row in scores]
    pool = _pool(tmp_path, len(scores))
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(len(scores)) for _ in range(N_MODELS)],
            "model": [f"m{m}" for _ in range(len(scores)) for m in range(N_MODELS)],
            "score": (-scores).ravel(),
        },
        kind="numeric",
        higher_is_better=False,
    )
    # Negated scores with lower-is-better: the same order as `rankings` reversed twice.
    expected = _centred(choix.ilsr_rankings(N_MODELS, rankings, alpha=0.0, tol=1e-12))
    np.testing.assert_allclose(_scores(pool), expected, atol=1e-6)
