"""Tests for onebench.metrics.kendall_tau."""

from __future__ import annotations

import numpy as np
import pytest
from onebench.metrics import kendall_tau


@pytest.mark.parametrize("n", [2, 3, 17, 600, 1500])
def test_matches_scipy_with_ties(n: int) -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(n)
    # Few distinct values in a, some in b: exercises tau-b's tie correction on both sides.
    a = rng.integers(0, 5, n).astype(float)
    b = np.round(rng.normal(size=n), 1)
    expected = stats.kendalltau(a, b).statistic
    assert kendall_tau(a, b) == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_identical_and_reversed_orders() -> None:
    x = np.arange(10.0)
    assert kendall_tau(x, x) == pytest.approx(1.0)
    assert kendall_tau(x, -x) == pytest.approx(-1.0)
    # Only the order matters, not the scale.
    assert kendall_tau(x, np.exp(x)) == pytest.approx(1.0)


def test_rankings_of_string_ids() -> None:
    # One swap among three items: 2 concordant, 1 discordant pair.
    assert kendall_tau(["a", "b", "c"], ["a", "c", "b"]) == pytest.approx(1 / 3)
    assert kendall_tau(["a", "b", "c"], ["c", "b", "a"]) == pytest.approx(-1.0)


def test_rankings_flag_reads_integer_ids_as_orderings() -> None:
    # The same integer lists mean different things as aligned scores and as orderings of ids.
    a, b = [0, 1, 3, 2], [2, 0, 3, 1]
    assert kendall_tau(a, b) == pytest.approx(1 / 3)
    assert kendall_tau(a, b, rankings=True) == pytest.approx(-1 / 3)
    # Strings given as rankings and their position scores agree.
    ids = ["m0", "m1", "m3", "m2"]
    other = ["m2", "m0", "m3", "m1"]
    assert kendall_tau(ids, other) == pytest.approx(-1 / 3)


def test_infinite_scores_compare_as_equal() -> None:
    stats = pytest.importorskip("scipy.stats")
    a = [1.0, np.inf, np.inf, -np.inf]
    b = [1.0, 2.0, 3.0, 0.0]
    assert kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)


def test_constant_input_gives_nan() -> None:
    assert np.isnan(kendall_tau([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], "differ in length"),
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], "^a contains NaN"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, np.nan], "^b contains NaN"),
        ([1.0], [1.0], "^a needs at least 2"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "^a must be 1-D"),
        (["x", "y"], ["x", "z"], "lacks"),
        (["x", "x"], ["x", "y"], "^a contains a repeated id"),
        (["x", "y", "z"], ["x", "y"], "differ in length"),
    ],
)
def test_bad_input_raises_naming_argument(a: object, b: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        kendall_tau(a, b)  # type: ignore[arg-type]
