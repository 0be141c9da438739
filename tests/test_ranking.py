from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onebench
import pytest
from onebench import InvalidInputError, UnknownIdError


def _binary_pool(tmp_path: Path, accuracy: list[float], n_samples: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    pool = onebench.Pool.create(tmp_path / "p")
    pool.add_samples(
        {
            "sample_id": [f"s{i}" for i in range(n_samples)],
            "benchmark": ["b0" if i % 2 else "b1" for i in range(n_samples)],
        }
    )
    models = [f"m{i}" for i in range(len(accuracy))]
    pool.add_models(models)
    correct = rng.random((n_samples, len(models))) < np.array(accuracy)
    pool.add_measurements(
        {
            "sample_id": np.repeat([f"s{i}" for i in range(n_samples)], len(models)),
            "model": np.tile(models, n_samples),
            "score": correct.ravel().astype(float),
        },
        kind="binary",
    )
    return pool


def test_leaderboard_orders_models_and_reports_coverage(tmp_path: Path) -> None:
    pool = _binary_pool(tmp_path, [0.2, 0.5, 0.8])
    board = pool.rank(method="plackett-luce")
    assert board.method == "plackett-luce"
    assert board.models == ["m2", "m1", "m0"]
    assert [row.rank for row in board] == [1, 2, 3]
    for row in board:
        assert row.ci_low < row.score < row.ci_high
        assert row.rank_low <= row.rank <= row.rank_high
        assert (row.n_measurements, row.n_samples) == (400, 400)
    text = str(board)
    assert "plackett-luce" in text and "m2" in text.splitlines()[3]
    payload = json.loads(board.to_json())
    assert payload["method"] == "plackett-luce"
    assert [entry["model"] for entry in payload["models"]] == ["m2", "m1", "m0"]
    assert set(payload["models"][0]) == {
        "model",
        "score",
        "rank",
        "ci_low",
        "ci_high",
        "rank_low",
        "rank_high",
        "n_measurements",
        "n_samples",
    }
    assert list(board.to_pandas()["model"]) == ["m2", "m1", "m0"]


@pytest.mark.parametrize("method", onebench.METHODS)
def test_every_method_ranks_a_clear_case(tmp_path: Path, method: str) -> None:
    pool = _binary_pool(tmp_path, [0.1, 0.5, 0.9])
    board = pool.rank(method=method)
    assert board.method == method
    assert board.models == ["m2", "m1", "m0"]


def test_subset_ranking_uses_only_those_samples(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "p")
    pool.add_samples({"sample_id": ["x1", "x2", "y1", "y2"]})
    pool.add_models(["a", "b"])
    # a wins on x samples, b wins on y samples.
    pool.add_measurements(
        {
            "sample_id": ["x1", "x1", "x2", "x2", "y1", "y1", "y2", "y2"],
            "model": ["a", "b"] * 4,
            "score": [1, 0, 1, 0, 0, 1, 0, 1],
        },
        kind="binary",
    )
    assert pool.rank(["x1", "x2"]).models == ["a", "b"]
    assert pool.rank(["y1", "y2"]).models == ["b", "a"]
    assert pool.rank(["y1", "y2"]).n_samples == 2
    with pytest.raises(UnknownIdError, match="z9"):
        pool.rank(["x1", "z9"])
    with pytest.raises(InvalidInputError):
        pool.rank([])


def test_bootstrap_is_reproducible_and_brackets_the_estimate(tmp_path: Path) -> None:
    pool = _binary_pool(tmp_path, [0.3, 0.5, 0.7])
    first = pool.rank(bootstrap=100, seed=3)
    second = pool.rank(bootstrap=100, seed=3)
    assert first.interval == "bootstrap"
    assert first.to_dict() == second.to_dict()
    # A fresh handle solves again from scratch: the same seed gives the same intervals.
    again = onebench.Pool.open(tmp_path / "p").rank(bootstrap=100, seed=3)
    for row, other in zip(first, again, strict=True):
        assert row.model == other.model
        assert row.score == pytest.approx(other.score, abs=1e-6)
        assert row.ci_low == pytest.approx(other.ci_low, abs=1e-6)
        assert row.ci_high == pytest.approx(other.ci_high, abs=1e-6)
    other_seed = onebench.Pool.open(tmp_path / "p").rank(bootstrap=100, seed=4)
    assert [row.ci_low for row in other_seed] != [row.ci_low for row in first]
    for row in first:
        assert row.ci_low <= row.score <= row.ci_high


def _two_sample_pool(path: Path, benchmarks: list[str]) -> onebench.Pool:
    """s1: a right, b wrong; s2: c right, d wrong; no model measured on both."""
    pool = onebench.Pool.create(path)
    pool.add_samples({"sample_id": ["s1", "s2"], "benchmark": benchmarks})
    pool.add_models(["a", "b", "c", "d"])
    pool.add_measurements(
        {
            "sample_id": ["s1", "s1", "s2", "s2"],
            "model": ["a", "b", "c", "d"],
            "score": [1, 0, 1, 0],
        },
        kind="binary",
    )
    return pool


@pytest.mark.parametrize("method", ["plackett-luce", "joint"])
def test_disconnected_models_are_reported_not_ranked(tmp_path: Path, method: str) -> None:
    # Two benchmarks, no model in common: nothing links {a, b} to {c, d}.
    board = _two_sample_pool(tmp_path / "p", ["x", "y"]).rank(method=method)
    assert len(board.models) == 2
    assert len(board.disconnected) == 1
    assert set(board.models) | set(board.disconnected[0]) == {"a", "b", "c", "d"}
    assert "not ranked" in str(board)


def test_joint_model_links_samples_of_one_benchmark(tmp_path: Path) -> None:
    # One benchmark: the two difficulties share a prior, so the joint model (the default)
    # ranks all four, with intervals wide enough to say how little it knows; Plackett-Luce,
    # which compares models only within a sample, cannot.
    pool = _two_sample_pool(tmp_path / "p", ["x", "x"])
    board = pool.rank()
    assert board.method == "joint"
    assert sorted(board.models) == ["a", "b", "c", "d"] and not board.disconnected
    assert set(board.models[:2]) == {"a", "c"}
    assert all(row.ci_high - row.ci_low > 4 for row in board)
    assert len(pool.rank(method="plackett-luce").disconnected) == 1


def test_prior_keeps_an_all_winning_model_finite(tmp_path: Path) -> None:
    pool = _binary_pool(tmp_path, [0.3, 0.6, 1.0])
    board = pool.rank()
    assert board.models[0] == "m2"
    assert np.isfinite(board["m2"].score) and np.isfinite(board["m2"].ci_high)


def test_bad_rank_options(tmp_path: Path) -> None:
    pool = _binary_pool(tmp_path, [0.3, 0.6])
    with pytest.raises(InvalidInputError, match="method"):
        pool.rank(method="magic")
    with pytest.raises(InvalidInputError, match="alpha"):
        pool.rank(alpha=-1)
    with pytest.raises(InvalidInputError, match="ci"):
        pool.rank(ci=1.5)
    with pytest.raises(InvalidInputError, match="bootstrap"):
        pool.rank(bootstrap=-2)


@pytest.mark.parametrize("method", ["plackett-luce", "joint"])
def test_warm_start_after_new_measurements_matches_a_cold_fit(
    tmp_path: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh handle would answer from the fit the warm one kept in the pool (fits/).
    monkeypatch.setenv("ONEBENCH_FITS", "off")
    pool = _binary_pool(tmp_path, [0.2, 0.4, 0.6, 0.8])
    pool.rank(method=method, interval="none")
    pool.add_samples({"sample_id": ["extra"]})
    pool.add_measurements(
        {"sample_id": ["extra"] * 2, "model": ["m0", "m3"], "score": [1, 0]}, kind="binary"
    )
    warm = pool.rank(method=method, interval="none")
    cold = onebench.Pool.open(pool.path).rank(method=method, interval="none")
    np.testing.assert_allclose([r.score for r in warm], [r.score for r in cold], atol=1e-6)
    # The joint model resumes its whole solution (skills, difficulties and hubs).
    assert warm.iterations < cold.iterations


def test_min_samples_leaves_thinly_measured_models_out_but_fits_them(tmp_path: Path) -> None:
    pool = _binary_pool(tmp_path, [0.2, 0.4, 0.6, 0.8], n_samples=200)
    pool.add_models(["lucky"])
    pool.add_measurements(
        {"sample_id": ["s0", "s1"], "model": ["lucky"] * 2, "score": [1.0, 1.0]}, kind="binary"
    )
    # Two right answers put it at the top of the joint model's table, on an interval as
    # wide as the scale.
    top = pool.rank().rows[0]
    assert top.model == "lucky" and top.ci_high - top.ci_low > 10
    for method, bootstrap in (("joint", 0), ("plackett-luce", 0), ("joint", 30)):
        everyone = pool.rank(method=method, bootstrap=bootstrap)
        assert everyone["lucky"].n_samples == 2
        board = pool.rank(method=method, bootstrap=bootstrap, min_samples=10)
        assert board.hidden == ("lucky",) and board.min_samples == 10
        assert board.models == [model for model in everyone.models if model != "lucky"]
        assert [row.rank for row in board] == [1, 2, 3, 4]
        assert all(1 <= row.rank_low <= row.rank <= row.rank_high <= 4 for row in board)
        # Still fitted: the others' scores and intervals are those of the full fit (to the
        # tolerance: the second call starts warm from the first).
        for row in board:
            assert row.score == pytest.approx(everyone[row.model].score, abs=1e-6)
            assert row.ci_low == pytest.approx(everyone[row.model].ci_low, abs=1e-6)
        assert board.to_dict()["hidden"] == ["lucky"]
        assert "left out (measured on fewer than 10 of these samples): lucky" in str(board)
    assert pool.rank(min_samples=2).hidden == ()


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10"])
def test_min_samples_must_be_a_positive_integer(tmp_path: Path, bad: object) -> None:
    pool = _binary_pool(tmp_path, [0.3, 0.7], n_samples=20)
    with pytest.raises(onebench.InvalidInputError, match="min_samples") as error:
        pool.rank(min_samples=bad)  # type: ignore[arg-type]
    assert error.value.field == "min_samples"


@pytest.mark.parametrize("method", ["plackett-luce", "joint"])
def test_a_fit_or_replicates_that_stop_early_say_so(tmp_path: Path, method: str) -> None:
    pool = _binary_pool(tmp_path, [0.2, 0.4, 0.6, 0.8], n_samples=100)
    cut = pool.rank(method=method, bootstrap=10, max_iterations=2)
    assert not cut.converged
    assert any("solver stopped after 2 iterations" in note for note in cut.notes)
    assert any("10 of 10 bootstrap replicates stopped" in note for note in cut.notes)
    assert "10 of 10 bootstrap replicates" in str(cut)
    full = pool.rank(method=method, bootstrap=10)
    assert full.converged and full.notes == ()
