"""Peer ranking methods that the benches compare onebench with.

Every peer takes the same long-format measurements and returns one score per model (higher is
better; NaN where a model has no data the method can use):

    peer(sample, model, value, binary, n_models) -> np.ndarray of shape (n_models,)

``sample`` and ``model`` are integer indexes per measurement, ``value`` the measurement (0/1 on
binary samples, a score where higher is better on numeric ones) and ``binary`` a bool per
*sample* index. They are written as a competent user of each tool would write them: numpy for
the data reshaping, the tool itself for the fit, nothing deliberately slow. The O(k²) pair
expansion of a sample with k models is what ONEBench's and LMArena's recipes do, so it stays.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import choix
import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = [
    "PEERS",
    "choix_top1",
    "lmarena_bradley_terry",
    "mean_score",
    "onebench_pipeline",
    "pairwise_wins",
]

# LMArena's notebook reports Bradley-Terry coefficients on the Elo scale.
_ELO_SCALE = 400.0
_ELO_BASE = 10.0
_ELO_INIT = 1000.0


def _by_sample(
    sample: np.ndarray, model: np.ndarray, value: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (sample index, model indexes, values) per sample with at least two models."""
    sample = np.asarray(sample)
    if sample.size and np.any(sample[1:] < sample[:-1]):
        order = np.argsort(sample, kind="stable")
        sample, model, value = sample[order], np.asarray(model)[order], np.asarray(value)[order]
    model = np.asarray(model, dtype=np.intp)
    value = np.asarray(value, dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sample[1:] != sample[:-1]]) if sample.size else []
    bounds = np.r_[starts, sample.size]
    for lo, hi in itertools.pairwise(bounds):
        if hi - lo >= 2:
            yield int(sample[lo]), model[lo:hi], value[lo:hi]


def pairwise_wins(
    sample: np.ndarray, model: np.ndarray, value: np.ndarray, n_models: int
) -> np.ndarray:
    """Dense win matrix over every pair of models within every sample.

    ``W[i, j]`` counts the samples where model ``i`` scored above model ``j``; an equal score
    (both right or both wrong on a binary sample) adds one half each way, as ONEBench's tie
    option and LMArena's tie handling do. Each sample costs O(k²) for its k models.
    """
    wins = np.zeros((n_models, n_models), dtype=np.float64)
    for _, idx, v in _by_sample(sample, model, value):
        beats = (v[:, None] > v[None, :]) + 0.5 * (v[:, None] == v[None, :])
        np.fill_diagonal(beats, 0.0)
        # The models of one sample are distinct, so fancy-index += never sees duplicates.
        wins[np.ix_(idx, idx)] += beats
    return wins


def onebench_pipeline(
    sample: np.ndarray,
    model: np.ndarray,
    value: np.ndarray,
    binary: np.ndarray,
    n_models: int,
    *,
    alpha: float = 1e-6,
) -> np.ndarray:
    """ONEBench's own recipe: all pairs per sample -> win matrix -> ``choix.ilsr_pairwise_dense``.

    Binary and numeric samples are treated alike (both are orderings of the sample's models),
    so ``binary`` is unused. ``alpha`` is a tiny prior so that a model that never wins keeps a
    finite score. Returns choix's log-strengths (mean zero).
    """
    del binary
    wins = pairwise_wins(sample, model, value, n_models)
    return np.asarray(choix.ilsr_pairwise_dense(wins, alpha=alpha), dtype=np.float64)


def choix_top1(
    sample: np.ndarray,
    model: np.ndarray,
    value: np.ndarray,
    binary: np.ndarray,
    n_models: int,
    *,
    numeric: str = "ranking",
    alpha: float = 1e-6,
    max_iter: int = 200,
) -> np.ndarray:
    """Plackett-Luce by ``choix.ilsr_top1`` on top-1 choices taken from each sample.

    Binary sample: every model that got it right is one top-1 choice over the set of models
    that got it wrong (ONEBench's ``sample_rankings`` reduction); no choice when either set is
    empty. Numeric sample, ``numeric="ranking"`` (default): the sample's ordering is unrolled
    into successive top-1 choices (best over all the others, second over the rest, ...), which
    is exactly the Plackett-Luce likelihood of the full ranking, i.e. what
    ``choix.ilsr_rankings`` fits; equal scores are broken by model index. With
    ``numeric="top1"`` only the best model's choice over the field is kept (cheaper, less
    information). Returns choix's log-strengths (mean zero).
    """
    if numeric not in ("ranking", "top1"):
        raise ValueError(f"numeric must be 'ranking' or 'top1', got {numeric!r}")
    binary = np.asarray(binary, dtype=bool)
    data: list[tuple[int, list[int]]] = []
    for j, idx, v in _by_sample(sample, model, value):
        if binary[j]:
            right = v > 0.5
            winners, losers = idx[right], idx[~right].tolist()
            if winners.size and losers:
                data.extend((int(w), losers) for w in winners)
        else:
            ranked = idx[np.argsort(-v, kind="stable")].tolist()
            depth = len(ranked) - 1 if numeric == "ranking" else 1
            data.extend((ranked[i], ranked[i + 1 :]) for i in range(depth))
    params = choix.ilsr_top1(n_models, data, alpha=alpha, max_iter=max_iter)
    return np.asarray(params, dtype=np.float64)


def lmarena_bradley_terry(
    sample: np.ndarray,
    model: np.ndarray,
    value: np.ndarray,
    binary: np.ndarray,
    n_models: int,
    *,
    c: float = 1e6,
) -> np.ndarray:
    """Bradley-Terry as LMArena's notebook fits it, on battles made of the pairs in each sample.

    Each pair of models on a sample is a battle; ties count half a win each way (LMArena's
    notebook counts a win twice and a tie once, the same ratio). Per unordered pair of models
    two weighted rows enter a logistic regression without intercept, ``x = log(10) (e_a - e_b)``
    with ``y = 1`` weighted by a's wins and ``y = 0`` weighted by b's wins. ``c`` is large so
    the L2 penalty is negligible. Returns scores on the Elo scale (400 per factor of 10 in odds,
    1000 at zero).
    """
    del binary
    wins = pairwise_wins(sample, model, value, n_models)
    a, b = np.triu_indices(n_models, k=1)
    keep = (wins[a, b] + wins[b, a]) > 0
    a, b = a[keep], b[keep]
    rows = np.zeros((2 * a.size, n_models), dtype=np.float64)
    r = np.arange(a.size)
    for half in (0, 1):
        rows[2 * r + half, a] = np.log(_ELO_BASE)
        rows[2 * r + half, b] = -np.log(_ELO_BASE)
    target = np.tile([1.0, 0.0], a.size)
    weight = np.column_stack([wins[a, b], wins[b, a]]).ravel()
    fit = LogisticRegression(fit_intercept=False, C=c, tol=1e-6, max_iter=1000)
    fit.fit(rows, target, sample_weight=weight)
    return _ELO_SCALE * fit.coef_[0] + _ELO_INIT


def mean_score(
    sample: np.ndarray,
    model: np.ndarray,
    value: np.ndarray,
    binary: np.ndarray,
    n_models: int,
) -> np.ndarray:
    """Plain per-model mean of all its values (binary and numeric alike); NaN if unmeasured."""
    del sample, binary
    model = np.asarray(model, dtype=np.intp)
    total = np.bincount(model, weights=np.asarray(value, dtype=np.float64), minlength=n_models)
    count = np.bincount(model, minlength=n_models)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


PEERS = {
    "onebench_pipeline": onebench_pipeline,
    "choix_top1": choix_top1,
    "lmarena_bradley_terry": lmarena_bradley_terry,
    "mean_score": mean_score,
}
