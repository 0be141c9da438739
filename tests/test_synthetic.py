"""Tests for onebench.synthetic.generate."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from onebench.metrics import kendall_tau
from onebench.synthetic import SyntheticData, generate


def _mean_by_model(data: SyntheticData) -> np.ndarray:
    n = len(data.model_ids)
    total = np.bincount(data.model, weights=data.value, minlength=n)
    return total / np.bincount(data.model, minlength=n)


def _pairwise_strengths(data: SyntheticData) -> np.ndarray:
    """Bradley-Terry strengths from all pairs within each sample (a small ordinal reference)."""
    choix = pytest.importorskip("choix")
    n = len(data.model_ids)
    wins = np.zeros((n, n))
    starts = np.flatnonzero(np.r_[True, np.diff(data.sample) != 0])
    for lo, hi in zip(starts, np.r_[starts[1:], data.sample.size], strict=True):
        idx, v = data.model[lo:hi], data.value[lo:hi]
        beats = (v[:, None] > v[None, :]) + 0.5 * (v[:, None] == v[None, :])
        np.fill_diagonal(beats, 0.0)
        wins[np.ix_(idx, idx)] += beats
    return choix.ilsr_pairwise_dense(wins, alpha=1e-6)


def test_shapes_ids_and_dtypes() -> None:
    data = generate(12, 300, missing=0.5, seed=3)
    assert data.model_ids[:2] == ["model-000", "model-001"]
    assert data.sample_ids[0] == "synthetic/000000"
    assert len(data.model_ids) == 12 and len(data.sample_ids) == 300
    assert data.benchmarks.shape == (300,) and data.benchmarks[0] == "synthetic-b0"
    assert data.binary.shape == (300,) and data.binary.dtype == bool
    assert data.true_strength.shape == (12,)
    assert data.sample.dtype == np.int32 and data.model.dtype == np.int32
    assert data.value.dtype == np.float32
    assert data.sample.shape == data.model.shape == data.value.shape
    assert data.model.min() >= 0 and data.model.max() < 12
    assert data.sample.min() >= 0 and data.sample.max() < 300
    # Sorted by sample then model, and no cell twice.
    flat = data.sample.astype(np.int64) * 12 + data.model
    assert np.all(np.diff(flat) > 0)


def test_dense_has_every_cell() -> None:
    data = generate(7, 50, seed=1)
    assert data.n_measurements == 7 * 50


def test_deterministic_by_seed() -> None:
    a = generate(20, 500, missing=0.8, structure="difficulty", seed=11)
    b = generate(20, 500, missing=0.8, structure="difficulty", seed=11)
    c = generate(20, 500, missing=0.8, structure="difficulty", seed=12)
    for field in ("sample", "model", "value", "binary", "true_strength", "benchmarks"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.true_strength, c.true_strength)


@pytest.mark.parametrize("missing", [0.1, 0.5, 0.95])
def test_missing_fraction_close_to_requested(missing: float) -> None:
    data = generate(50, 4000, missing=missing, seed=5)
    kept = data.n_measurements / (50 * 4000)
    assert kept == pytest.approx(1 - missing, abs=0.01)


@pytest.mark.parametrize("structure", ["benchmarks", "difficulty"])
def test_missing_applies_on_top_of_structure(structure: str) -> None:
    # The structural layout is drawn before the cells, so one seed gives one layout.
    full = generate(40, 3000, structure=structure, seed=2)
    half = generate(40, 3000, missing=0.5, structure=structure, seed=2)
    assert full.n_measurements < 40 * 3000  # structure itself leaves cells out
    assert half.n_measurements / full.n_measurements == pytest.approx(0.5, abs=0.02)


def test_binary_values_are_zero_or_one_and_share_follows_request() -> None:
    data = generate(30, 4000, missing=0.3, binary_fraction=0.25, seed=4)
    on_binary = data.binary[data.sample]
    assert set(np.unique(data.value[on_binary]).tolist()) == {0.0, 1.0}
    numeric = data.value[~on_binary]
    assert np.unique(numeric).size > 1000  # raw Gaussian scores, not thresholded
    assert data.binary.mean() == pytest.approx(0.25, abs=0.03)
    assert not generate(5, 100, binary_fraction=0.0).binary.any()
    assert generate(5, 100, binary_fraction=1.0).binary.all()


def test_true_order_is_by_strength() -> None:
    data = generate(25, 10, seed=9)
    order = data.true_order()
    assert order[0] == data.model_ids[int(np.argmax(data.true_strength))]
    assert order[-1] == data.model_ids[int(np.argmin(data.true_strength))]
    assert sorted(order) == data.model_ids


def test_dispersion_bounds_each_models_spread() -> None:
    data = generate(20, 4000, binary_fraction=0.0, dispersion=0.1, seed=2)
    spreads = np.array([data.value[data.model == m].std() for m in range(20)])
    assert spreads.max() < 0.11 and spreads.min() >= 0.0
    assert spreads.max() > 0.05  # sigma ~ U(0, 0.1): the widest of 20 is near the bound
    flat = generate(5, 50, binary_fraction=0.0, dispersion=0.0, seed=2)
    for m in range(5):
        assert np.allclose(flat.value[flat.model == m], flat.true_strength[m])


def test_frames() -> None:
    data = generate(6, 40, missing=0.4, seed=8)
    frame = data.measurements_frame()
    assert list(frame.columns) == ["sample_id", "model", "kind", "score"]
    assert len(frame) == data.n_measurements
    for column in ("sample_id", "model", "kind"):
        assert str(frame[column].dtype) == "category"
    row = 3
    assert frame["sample_id"].iloc[row] == data.sample_ids[data.sample[row]]
    assert frame["model"].iloc[row] == data.model_ids[data.model[row]]
    expected_kind = np.where(data.binary[data.sample], "binary", "numeric")
    np.testing.assert_array_equal(frame["kind"].to_numpy(dtype=str), expected_kind)
    samples = data.samples_frame()
    assert list(samples.columns) == ["sample_id", "benchmark"]
    assert len(samples) == 40


def test_benchmarks_differ_in_difficulty_and_coverage() -> None:
    data = generate(60, 6000, structure="benchmarks", n_benchmarks=10, seed=6)
    # Each model is run on 4 of the 10 benchmarks.
    bench_of = data.benchmarks[data.sample]
    per_model = {len(set(bench_of[data.model == m])) for m in range(60)}
    assert per_model == {4}
    # Binary accuracy per benchmark spreads widely even though strong models are run on the
    # hard benchmarks: the benchmarks really differ in difficulty.
    on_binary = data.binary[data.sample]
    accuracy = [data.value[on_binary & (bench_of == b)].mean() for b in np.unique(bench_of)]
    assert max(accuracy) - min(accuracy) > 0.2


@pytest.mark.parametrize("structure", ["benchmarks", "difficulty"])
@pytest.mark.parametrize("missing", [0.0, 0.9])
def test_structure_misleads_the_mean_but_not_the_comparisons(
    structure: str, missing: float
) -> None:
    """The reason the generator exists: the plain mean fails, within-sample order does not."""
    dense = generate(100, 5000, missing=missing, seed=0)
    assert kendall_tau(_mean_by_model(dense), dense.true_strength) >= 0.9

    data = generate(100, 5000, missing=missing, structure=structure, seed=0)
    assert kendall_tau(_mean_by_model(data), data.true_strength) < 0.8
    assert kendall_tau(_pairwise_strengths(data), data.true_strength) >= 0.88


def test_large_case_reduced_is_sparse_and_never_dense() -> None:
    # 1000 models x 100k samples at 95% missing: 5M cells out of 100M. The dense float32
    # matrix alone would be 400 MB; the output is 12 bytes a cell, about 60 MB.
    tracemalloc.start()
    try:
        data = generate(1000, 100_000, missing=0.95, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.n_measurements == pytest.approx(5_000_000, rel=0.01)
    assert peak < 200 * 2**20


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_models": 1}, "n_models"),
        ({"n_models": 2.5}, "n_models"),
        ({"n_samples": 0}, "n_samples"),
        ({"missing": 1.0}, "missing"),
        ({"missing": -0.1}, "missing"),
        ({"missing": float("nan")}, "missing"),
        ({"binary_fraction": 1.5}, "binary_fraction"),
        ({"structure": "clusters"}, "structure"),
        ({"structure": "benchmarks", "n_benchmarks": 1}, "n_benchmarks"),
        ({"n_benchmarks": 0}, "n_benchmarks"),
        ({"dispersion": -0.1}, "dispersion"),
        ({"dispersion": "wide"}, "dispersion"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} "):
        generate(**kwargs)  # type: ignore[arg-type]
