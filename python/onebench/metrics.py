"""Agreement metrics between rankings of models.

The benches and tests judge a ranking by how well it agrees with a reference (the true order of a
synthetic pool, or a ranking computed on dense data). Kendall's tau-b is the measure used by the
ONEBench paper, so it is implemented here without a scipy dependency: the number of models is at
most a few thousand, where an O(n²) pass over pairs in numpy blocks is fast and simple to verify.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["kendall_tau"]

# Rows of the pair matrix handled at once; bounds the temporary memory to about
# _BLOCK_ROWS * n bytes per temporary whatever n is.
_BLOCK_ROWS = 512


def _is_id_sequence(x: Any) -> bool:
    """Return True when ``x`` looks like an ordered list of string ids rather than scores."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO" and x.size > 0 and isinstance(x.flat[0], str)
    if isinstance(x, (str, bytes)):
        return False
    if isinstance(x, Sequence) and len(x) > 0:
        return isinstance(x[0], str)
    return False


def _scores(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Convert a score vector to float64, rejecting anything that is not a flat list of numbers."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D vector of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 items, got {arr.size}")
    nan = np.flatnonzero(np.isnan(arr))
    if nan.size:
        raise ValueError(f"{name} contains NaN (first at position {int(nan[0])})")
    return arr


def _positions(
    a: Sequence[Hashable], b: Sequence[Hashable]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn two orderings of the same ids into aligned score vectors (higher = earlier)."""
    for name, seq in (("a", a), ("b", b)):
        if len(seq) < 2:
            raise ValueError(f"{name} needs at least 2 items, got {len(seq)}")
        if len(set(seq)) != len(seq):
            raise ValueError(f"{name} contains a repeated id")
    if len(a) != len(b):
        raise ValueError(f"a and b differ in length: {len(a)} != {len(b)}")
    rank_b = {item: i for i, item in enumerate(b)}
    missing = [item for item in a if item not in rank_b]
    if missing:
        raise ValueError(f"a contains id {missing[0]!r} that b lacks")
    n = len(a)
    # Score = minus position, so the first id of each ranking scores highest.
    score_a = -np.arange(n, dtype=np.float64)
    score_b = -np.array([rank_b[item] for item in a], dtype=np.float64)
    return score_a, score_b


def _tied_pairs(x: NDArray[np.float64]) -> int:
    """Number of unordered pairs with equal values in ``x``."""
    _, counts = np.unique(x, return_counts=True)
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _pair_signs(rows: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.int8]:
    """sign(rows[i] - x[j]) as int8, by comparison so that equal infinities give 0, not NaN."""
    gt = rows[:, None] > x[None, :]
    lt = rows[:, None] < x[None, :]
    return gt.view(np.int8) - lt.view(np.int8)


def kendall_tau(a: ArrayLike, b: ArrayLike, *, rankings: bool | None = None) -> float:
    """Kendall's tau-b between two score vectors or two rankings.

    Parameters
    ----------
    a, b
        Either two score vectors aligned by item (``a[i]`` and ``b[i]`` score the same item,
        higher is better), or two rankings given as ordered lists of the same ids, best first.
    rankings
        ``True`` reads ``a`` and ``b`` as rankings, ``False`` as scores. ``None`` (default)
        decides from the elements: lists of strings are rankings, anything numeric is scores.
        Pass ``True`` for rankings of integer ids, which would otherwise be read as scores.

    Returns
    -------
    float
        Tau-b in [-1, 1]: the difference between concordant and discordant pairs, normalised by
        the pairs untied in each input (ties counted as in ``scipy.stats.kendalltau``). NaN when
        one input is constant, since the correlation is then undefined (as scipy does).

    Raises
    ------
    ValueError
        If the inputs differ in length, contain NaN, have fewer than 2 items, or (as rankings)
        repeat an id or do not hold the same ids. The message names the argument.
    """
    if rankings is None:
        rankings = _is_id_sequence(a) and _is_id_sequence(b)
    if rankings:
        x, y = _positions(list(a), list(b))  # type: ignore[arg-type]
    else:
        x = _scores(a, "a")
        y = _scores(b, "b")
        if x.size != y.size:
            raise ValueError(f"a and b differ in length: {x.size} != {y.size}")

    n = x.size
    # Sum over ordered pairs of sign(x_i - x_j) * sign(y_i - y_j) counts every unordered pair
    # twice; the pairs tied in either input contribute zero, as tau-b wants.
    total = 0
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        sx = _pair_signs(x[start:stop], x)
        sy = _pair_signs(y[start:stop], y)
        total += int(np.einsum("ij,ij->", sx, sy, dtype=np.int64))
    concordant_minus_discordant = total // 2

    n_pairs = n * (n - 1) // 2
    denom = float(n_pairs - _tied_pairs(x)) * float(n_pairs - _tied_pairs(y))
    if denom == 0.0:
        return float("nan")
    return float(np.clip(concordant_minus_discordant / np.sqrt(denom), -1.0, 1.0))
