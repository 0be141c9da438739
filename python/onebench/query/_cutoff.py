"""How many samples make the benchmark when the user gives neither ``top_k`` nor
``threshold``, and when nothing in the pool matches well.

The cut-off splits the candidates' ranking scores in two by Otsu's method (Otsu, "A
threshold selection method from gray-level histograms", IEEE SMC 1979: the split that
maximises the variance between the two groups), which needs no constant of its own. A
query matches nothing well when neither a label nor any sample comes near it: its best
cosine similarity stays under the encoder's match floor.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ._benchmark import Benchmark

__all__ = [
    "CUTOFF_CANDIDATES",
    "MATCH_FLOORS",
    "cut_ranking",
    "match_floor",
    "no_match_note",
    "otsu_threshold",
]

log = logging.getLogger("onebench")

#: Per encoder: the best similarity under which a query is said to match nothing. For
#: all-MiniLM-L6-v2 chosen on made-up absent capabilities and half of mmlu_pro's
#: categories, confirmed on the others (benches/README.md).
MATCH_FLOORS = {"all-MiniLM-L6-v2": 0.443}
_HISTOGRAM_BINS = 256


def match_floor(encoder: Any) -> float:
    floor = getattr(encoder, "match_floor", None)
    if floor is not None:
        return float(floor)
    return MATCH_FLOORS.get(encoder.name, float(encoder.default_threshold))


def otsu_threshold(scores: np.ndarray) -> float:
    """The score that splits ``scores`` into the two groups of greatest between-group
    variance (the upper group keeps scores at or above it)."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 2 or values.max() == values.min():
        return float(values.min()) if len(values) else 0.0
    counts, edges = np.histogram(values, bins=_HISTOGRAM_BINS)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass = np.cumsum(counts * centres)
    mean_low = mass / np.maximum(weight_low, 1)
    mean_high = (mass[-1] - mass) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between[:-1])) + 1])


def no_match_note(text: str, best: float, floor: float) -> str:
    return (
        f"nothing in the pool matches {text!r} well: the closest sample's similarity is "
        f"{best:.2f}, under {floor:.2f}, and no label matches it"
    )


#: Candidates the automatic cut-off chooses among (the best by the ranking score).
CUTOFF_CANDIDATES = 4096


def cut_ranking(
    ids: list[str],
    samples: np.ndarray,
    similarity: np.ndarray,
    score: np.ndarray,
    spec: dict[str, Any],
    model: Any,
    text: str | None,
) -> Benchmark:
    """Applies ``top_k``, ``threshold`` or the automatic cut-off to a ranking, and says
    when nothing in it matches the query well."""
    top_k, threshold = spec.get("top_k"), spec.get("threshold")
    keep = np.ones(len(samples), dtype=bool)
    if threshold is not None:
        keep &= similarity >= threshold
    floor = match_floor(model)
    finite = similarity[np.isfinite(similarity)]
    best = float(finite.max()) if len(finite) else float("nan")
    labelled = bool(spec.get("retrieval", {}).get("labels"))
    weak = text is not None and not labelled and not best >= floor
    if top_k is None and threshold is None:
        if weak:
            keep[:] = False
        else:
            cut = otsu_threshold(score[:CUTOFF_CANDIDATES])
            keep &= score >= cut
            spec["cutoff"] = {
                "method": "otsu",
                "score": round(cut, 6),
                "candidates": int(min(len(score), CUTOFF_CANDIDATES)),
                "kept": int(keep.sum()),
            }
    rows = np.flatnonzero(keep)
    if top_k is not None:
        rows = rows[:top_k]
    if len(samples):
        spec["best_similarity"] = round(best, 4)
    if weak:
        note = no_match_note(text or "", best, floor)
        spec["note"] = note
        log.warning("%s", note)
    return Benchmark(
        tuple(ids[i] for i in samples[rows]),
        tuple(float(similarity[i]) for i in rows),
        {key: value for key, value in spec.items() if value is not None},
    )
