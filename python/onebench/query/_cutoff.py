"""How many samples make the benchmark when the user gives neither ``top_k`` nor
``threshold``, and when nothing in the pool matches well.

The cut-off splits the candidates' ranking scores in two by Otsu's method (Otsu, "A
threshold selection method from gray-level histograms", IEEE SMC 1979: the split that
maximises the variance between the two groups), which needs no constant of its own. A
query matches nothing well when neither a label nor any sample comes near it: its best
cosine similarity stays under the encoder's match floor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MATCH_FLOORS", "match_floor", "no_match_note", "otsu_threshold"]

#: Per encoder: the best similarity under which a query is said to match nothing. For
#: all-MiniLM-L6-v2 chosen on made-up absent capabilities and half of mmlu_pro's
#: categories, confirmed on the others (benches/README.md).
MATCH_FLOORS = {"all-MiniLM-L6-v2": 0.4}
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
