"""Kendall tau of a leaderboard against reference figures, as the fidelity benches count it.

Two models whose measurements carry the same information get the same score in exact
arithmetic (under a Rasch-type model: the same number correct on the same samples), but a
fit leaves them a few ulps apart, and which comes first is then decided by rounding. On
chembench_irt (22 models, kept buckets by strength) one such pair moved a cell's tau by
0.009 when a change to the solver's acceleration flipped the last bit. Scores that agree to
within :data:`TIE` (far above rounding, far below any difference that means something)
count as tied, as tau-b counts ties. Models the thinning cut off from the rest are not
ranked: they count against the method as tied at the bottom, never silently dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import onebench
from onebench.metrics import kendall_tau

__all__ = ["TIE", "leaderboard_tau", "merge_ties"]

#: Scores closer than this are one score.
TIE = 1e-9


def merge_ties(scores: np.ndarray, tie: float = TIE) -> np.ndarray:
    """``scores`` with each run of values that are within ``tie`` of their neighbour in
    sorted order replaced by the run's smallest value."""
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(scores, kind="stable")
    merged = scores.copy()
    for previous, current in itertools.pairwise(order):
        if scores[current] - scores[previous] <= tie:
            merged[current] = merged[previous]
    return merged


def leaderboard_tau(board: onebench.Leaderboard, truth: Mapping[str, float]) -> float:
    """Tau-b between the board's scores and ``truth`` over every model in ``truth``."""
    scores = {row.model: row.score for row in board}
    floor = min(scores.values(), default=0.0) - 1.0
    models = sorted(truth)
    values = merge_ties(np.array([scores.get(model, floor) for model in models]))
    return kendall_tau(values, [truth[model] for model in models])
