"""``method="onebench"`` is ONEBench's estimator: it equals choix's I-LSR (``ilsr_top1``,
``ilsr_rankings``, ``ilsr_pairwise``) at ONEBench's alpha, on slices of the real data and on
synthetic pools, to 1e-6 in centred log-strength."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import choix
import numpy as np
import onebench
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from onebench.ranking import default_alpha

ALPHA = 0.01  # ONEBench's regularisation


def _pool(path: Path, sample_ids: list[str], models: list[str]) -> onebench.Pool:
    pool = onebench.Pool.create(path)
    pool.add_samples({"sample_id": list(dict.fromkeys(sample_ids))})
    pool.add_models(models)
    return pool


def _scores(pool: onebench.Pool, models: list[str], **options: object) -> np.ndarray:
    board = pool.rank(method="onebench", interval="none", **options)  # type: ignore[arg-type]
    scores = np.array([board[model].score for model in models])
    assert np.all(np.isfinite(scores)), "every model is ranked"
    return scores - scores.mean()


def _centred(params: np.ndarray) -> np.ndarray:
    return params - params.mean()


def _choices(values_by_sample: dict[str, dict[int, float]]) -> list[tuple[int, tuple[int, ...]]]:
    """ONEBench's top-1 data: each model chosen over the models strictly below it."""
    choices = []
    for values in values_by_sample.values():
        for model, value in values.items():
            worse = tuple(other for other, v in values.items() if v < value)
            if worse:
                choices.append((model, worse))
    return choices


def _cardinal_slice(data_dir: Path, name: str, n_samples: int) -> tuple[list[str], dict]:
    table = pq.read_table(
        data_dir / name / "measurements.parquet", columns=["sample_id", "model", "score"]
    )
    kept = sorted(set(table.column("sample_id").to_pylist()))[:n_samples]
    table = table.filter(pc.is_in(table.column("sample_id"), value_set=pa.array(kept)))
    return sorted(set(table.column("model").to_pylist())), table.to_pydict()


@pytest.mark.parametrize(("name", "n_samples"), [("mmlu_pro", 1500), ("chembench_irt", 1500)])
def test_binary_real_data_equals_ilsr_top1(
    data_dir: Path, tmp_path: Path, name: str, n_samples: int
) -> None:
    models, rows = _cardinal_slice(data_dir, name, n_samples)
    index = {model: i for i, model in enumerate(models)}
    pool = _pool(tmp_path / "p", rows["sample_id"], models)
    pool.add_measurements(rows, kind="binary")
    values: dict[str, dict[int, float]] = defaultdict(dict)
    for sample, model, score in zip(rows["sample_id"], rows["model"], rows["score"], strict=True):
        values[sample][index[model]] = score
    choices = _choices(values)
    expected = _centred(choix.ilsr_top1(len(models), choices, alpha=ALPHA, max_iter=10_000))
    # ONEBench's alpha is the method's default, and the default tolerance is enough.
    assert default_alpha("onebench") == ALPHA
    np.testing.assert_allclose(_scores(pool, models), expected, atol=1e-6)


def test_numeric_real_data_with_ties_equals_ilsr_top1(data_dir: Path, tmp_path: Path) -> None:
    # arena_bench_v1: GPT-4 grades 1-10, so most samples tie some models.
    models, rows = _cardinal_slice(data_dir, "arena_bench_v1", 300)
    index = {model: i for i, model in enumerate(models)}
    pool = _pool(tmp_path / "p", rows["sample_id"], models)
    pool.add_measurements(rows, kind="numeric")
    values: dict[str, dict[int, float]] = defaultdict(dict)
    for sample, model, score in zip(rows["sample_id"], rows["model"], rows["score"], strict=True):
        values[sample][index[model]] = score
    assert any(len(set(v.values())) < len(v) for v in values.values()), "the slice has ties"
    expected = _centred(
        choix.ilsr_top1(len(models), _choices(values), alpha=ALPHA, max_iter=10_000)
    )
    np.testing.assert_allclose(_scores(pool, models), expected, atol=1e-6)


def test_pairwise_real_data_with_ties_equals_ilsr_pairwise(data_dir: Path, tmp_path: Path) -> None:
    table = pq.read_table(
        data_dir / "alpaca_eval" / "measurements.parquet",
        columns=["sample_id", "model_a", "model_b", "winner", "judge"],
    )
    table = table.filter(pc.equal(table.column("judge"), "alpaca_eval_gpt4")).slice(0, 6000)
    rows = table.select(["sample_id", "model_a", "model_b", "winner"]).to_pydict()
    models = sorted(set(rows["model_a"]) | set(rows["model_b"]))
    index = {model: i for i, model in enumerate(models)}
    pool = _pool(tmp_path / "p", rows["sample_id"], models)
    pool.add_measurements(rows, kind="pairwise")
    # A tie is half a choice each way. choix takes whole pairs, but doubling every pair and
    # alpha scales every rate of its chain by 2 and leaves the fixed point where it is: so
    # each decisive pair goes in twice, each tie once each way, at alpha 2 * 0.01.
    pairs = []
    for a, b, winner in zip(rows["model_a"], rows["model_b"], rows["winner"], strict=True):
        a, b = index[a], index[b]
        pairs += {"a": [(a, b)] * 2, "b": [(b, a)] * 2, "tie": [(a, b), (b, a)]}[winner]
    assert rows["winner"].count("tie") > 0
    expected = _centred(choix.ilsr_pairwise(len(models), pairs, alpha=2 * ALPHA, max_iter=10_000))
    np.testing.assert_allclose(_scores(pool, models), expected, atol=1e-6)


N_MODELS = 6


def _synthetic_pool(tmp_path: Path, n_samples: int) -> tuple[onebench.Pool, list[str]]:
    models = [f"m{i}" for i in range(N_MODELS)]
    return _pool(tmp_path / "p", [f"s{i}" for i in range(n_samples)], models), models


@pytest.mark.parametrize(("seed", "alpha"), [(0, 0.01), (1, 0.01), (2, 1.0)])
def test_synthetic_rankings_and_numeric_equal_ilsr_rankings(
    tmp_path: Path, seed: int, alpha: float
) -> None:
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, 1, N_MODELS)
    rankings = []
    for _ in range(250):
        field = rng.choice(N_MODELS, rng.integers(2, N_MODELS + 1), replace=False)
        utility = beta[field] + rng.gumbel(size=len(field))  # a Plackett-Luce draw
        rankings.append(tuple(int(m) for m in field[np.argsort(-utility)]))
    expected = _centred(choix.ilsr_rankings(N_MODELS, rankings, alpha=alpha, max_iter=10_000))
    pool, models = _synthetic_pool(tmp_path / "r", len(rankings))
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(len(rankings))],
            "ranking": [[f"m{m}" for m in ranking] for ranking in rankings],
        },
        kind="ranking",
    )
    np.testing.assert_allclose(_scores(pool, models, alpha=alpha), expected, atol=1e-6)
    # The same orders as numeric scores without ties (lower is better).
    numeric, _ = _synthetic_pool(tmp_path / "n", len(rankings))
    numeric.add_measurements(
        {
            "sample_id": [f"s{i}" for i, r in enumerate(rankings) for _ in r],
            "model": [f"m{m}" for r in rankings for m in r],
            "score": [float(position) for r in rankings for position in range(len(r))],
        },
        kind="numeric",
        higher_is_better=False,
    )
    np.testing.assert_allclose(_scores(numeric, models, alpha=alpha), expected, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_binary_and_pairwise_equal_choix(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    skill = rng.normal(0, 1, N_MODELS)
    right = rng.random((400, N_MODELS)) < 1 / (1 + np.exp(-skill))
    present = rng.random((400, N_MODELS)) < 0.7
    values = {
        f"s{i}": {m: float(right[i, m]) for m in range(N_MODELS) if present[i, m]}
        for i in range(400)
    }
    pool, models = _synthetic_pool(tmp_path / "b", 400)
    pool.add_measurements(
        {
            "sample_id": [s for s, v in values.items() for _ in v],
            "model": [f"m{m}" for v in values.values() for m in v],
            "score": [x for v in values.values() for x in v.values()],
        },
        kind="binary",
    )
    expected = _centred(choix.ilsr_top1(N_MODELS, _choices(values), alpha=ALPHA, max_iter=10_000))
    np.testing.assert_allclose(_scores(pool, models), expected, atol=1e-6)
    pairs = []
    for _ in range(300):
        a, b = rng.choice(N_MODELS, 2, replace=False)
        pairs.append((a, b) if rng.random() < 1 / (1 + np.exp(skill[b] - skill[a])) else (b, a))
    pool, models = _synthetic_pool(tmp_path / "c", len(pairs))
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(len(pairs))],
            "model_a": [f"m{w}" for w, _ in pairs],
            "model_b": [f"m{loser}" for _, loser in pairs],
            "winner": ["a"] * len(pairs),
        },
        kind="pairwise",
    )
    expected = _centred(choix.ilsr_pairwise(N_MODELS, pairs, alpha=ALPHA, max_iter=10_000))
    np.testing.assert_allclose(_scores(pool, models), expected, atol=1e-6)


def test_intervals_are_there_and_cover_the_point(tmp_path: Path) -> None:
    """Fisher (the sandwich over samples) and bootstrap intervals are never missing."""
    rng = np.random.default_rng(4)
    skill = np.linspace(-1, 1, N_MODELS)
    n = 600
    difficulty = rng.normal(0, 1, n)
    right = rng.random((n, N_MODELS)) < 1 / (1 + np.exp(difficulty[:, None] - skill))
    pool, models = _synthetic_pool(tmp_path, n)
    pool.add_measurements(
        {
            "sample_id": [f"s{i}" for i in range(n) for _ in range(N_MODELS)],
            "model": models * n,
            "score": right.astype(float).ravel(),
        },
        kind="binary",
    )
    for options in ({}, {"bootstrap": 100}):
        board = pool.rank(method="onebench", **options)  # type: ignore[arg-type]
        for row in board:
            assert row.ci_low < row.score < row.ci_high, (options, row)
        assert board.rows[0].model == "m5" and board.rows[-1].model == "m0"
