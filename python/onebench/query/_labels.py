"""Labels that travel: a metadata label (``category``) carried from the samples that have
one to those that do not, by their nearest labelled neighbours in the embedding space.

The inferred labels live in ``labels/<key>.json`` in the pool directory, beside the
source's own metadata and never in place of it. A filter or a query then reads, per
sample, its own label, else the inferred one when its confidence reaches the file's
``min_confidence``; ``<key>_inferred`` and ``<key>_confidence`` name them explicitly.

Confidence is the similarity-weighted share of the ``k`` nearest labelled neighbours that
carry the winning label (a k-nearest-neighbour vote; Zhu & Ghahramani's label propagation,
CMU-CALD-02-107, spreads the same votes further through the unlabelled samples).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import write_atomic
from ..exceptions import CorruptPoolError, InvalidInputError

if TYPE_CHECKING:
    from pathlib import Path

    from ..pool import Pool
    from ._view import SampleView

__all__ = [
    "DEFAULT_NEIGHBOURS",
    "MIN_CONFIDENCE",
    "InferredLabels",
    "LabelReport",
    "load_inferred",
    "propagate_labels",
]

_FORMAT = "onebench.labels"
_VERSION = 1
#: Neighbours that vote, and the vote share under which an inferred label does not stand
#: in for a missing one: both chosen on half of mmlu_pro's categories and confirmed on the
#: other half (benches/README.md).
DEFAULT_NEIGHBOURS = 10
MIN_CONFIDENCE = 0.3
_BLOCK = 4096


@dataclass(frozen=True)
class LabelReport:
    key: str
    labelled: int
    inferred: int
    #: Inferred labels at or above ``min_confidence`` (those that stand in for a label).
    confident: int
    values: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class InferredLabels:
    key: str
    values: dict[str, str]
    confidences: dict[str, float]
    min_confidence: float
    header: dict[str, Any]


def labels_path(pool_path: Path, key: str) -> Path:
    return pool_path / "labels" / f"{key}.json"


def propagate_labels(
    pool: Pool,
    key: str = "category",
    *,
    encoder: str | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    min_confidence: float = MIN_CONFIDENCE,
) -> LabelReport:
    """Infers ``key`` for every embedded sample without one from its ``neighbours``
    nearest labelled samples (text embeddings), and saves the result in the pool."""
    from ._encoders import normalise_encoder_name
    from ._search import field_matrix
    from ._store import EmbeddingSet
    from ._view import sample_view

    if not isinstance(key, str) or not key or "/" in key or key.startswith("."):
        raise InvalidInputError(f"key: expected a metadata key, got {key!r}", field="key")
    if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours <= 0:
        raise InvalidInputError("neighbours: must be a positive integer", field="neighbours")
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise InvalidInputError("min_confidence: must lie in [0, 1]", field="min_confidence")
    started = time.perf_counter()
    name = normalise_encoder_name(encoder)
    view = sample_view(pool)
    embedding_set = EmbeddingSet(pool.path, name, "text")
    matrix = field_matrix(embedding_set, view)
    if matrix is None:
        raise InvalidInputError(
            f"the pool has no text embeddings for encoder {name}: run `onebench embed` first",
            field="encoder",
        )
    own = [entry.get(key) for entry in view.metadata]
    if not any(isinstance(value, str) and value for value in own):
        raise InvalidInputError(
            f"key: no sample of the pool has a {key!r} label to propagate", field="key"
        )
    rows = np.flatnonzero(matrix.row_samples >= 0)
    samples = matrix.row_samples[rows]
    has_label = np.array([isinstance(own[s], str) and bool(own[s]) for s in samples], dtype=bool)
    vectors = np.concatenate([np.asarray(part.vectors, dtype=np.float32) for part in matrix.parts])
    labelled = vectors[rows[has_label]]
    names = sorted({own[s] for s in samples[has_label]})
    codes = np.array([names.index(own[s]) for s in samples[has_label]], dtype=np.int64)
    targets = np.flatnonzero(~has_label)
    k = min(neighbours, len(labelled))
    values: dict[str, str] = {}
    confidences: dict[str, float] = {}
    for start in range(0, len(targets), _BLOCK):
        chunk = targets[start : start + _BLOCK]
        similarity = vectors[rows[chunk]] @ labelled.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.maximum(np.take_along_axis(similarity, nearest, axis=1), 1e-6)
        votes = np.zeros((len(chunk), len(names)), dtype=np.float64)
        np.add.at(
            votes, (np.repeat(np.arange(len(chunk)), k), codes[nearest].ravel()), weights.ravel()
        )
        best = votes.argmax(axis=1)
        share = votes[np.arange(len(chunk)), best] / votes.sum(axis=1)
        for position, code, confidence in zip(chunk, best, share, strict=True):
            sample_id = view.ids[samples[position]]
            values[sample_id] = names[code]
            confidences[sample_id] = round(float(confidence), 4)
    header = {
        "format": _FORMAT,
        "version": _VERSION,
        "key": key,
        "encoder": name,
        "variant": embedding_set.variant(),
        "neighbours": k,
        "min_confidence": float(min_confidence),
        "pool_version": pool.version,
        "labelled": int(has_label.sum()),
    }
    document = {**header, "labels": {i: [values[i], confidences[i]] for i in values}}
    path = labels_path(pool.path, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document).encode())
    counts: dict[str, int] = {}
    for sample_id, value in values.items():
        if confidences[sample_id] >= min_confidence:
            counts[value] = counts.get(value, 0) + 1
    return LabelReport(
        key=key,
        labelled=int(has_label.sum()),
        inferred=len(values),
        confident=sum(counts.values()),
        values=dict(sorted(counts.items(), key=lambda item: -item[1])),
        seconds=time.perf_counter() - started,
    )


def load_inferred(pool_path: Path) -> dict[str, InferredLabels]:
    """Every inferred label set of the pool, by key."""
    folder = pool_path / "labels"
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise CorruptPoolError(f"{path}: not JSON ({error})", path=str(path)) from error
        if document.get("format") != _FORMAT or document.get("version", 0) > _VERSION:
            raise CorruptPoolError(f"{path}: not an onebench labels file", path=str(path))
        labels = document.pop("labels")
        found[document["key"]] = InferredLabels(
            document["key"],
            {i: pair[0] for i, pair in labels.items()},
            {i: float(pair[1]) for i, pair in labels.items()},
            float(document["min_confidence"]),
            document,
        )
    return found


def label_columns(view: SampleView, inferred: InferredLabels) -> dict[str, list[Any]]:
    """The three columns a labels file adds for its key: the label (own, else a confident
    inferred one), the inferred label, and the confidence (1 for a source's own label)."""
    own = [entry.get(inferred.key) for entry in view.metadata]
    guessed = [inferred.values.get(sample_id) for sample_id in view.ids]
    confidence = [
        1.0 if mine is not None else inferred.confidences.get(sample_id)
        for mine, sample_id in zip(own, view.ids, strict=True)
    ]
    merged = [
        mine
        if mine is not None
        else (guess if guess is not None and (c or 0) >= inferred.min_confidence else None)
        for mine, guess, c in zip(own, guessed, confidence, strict=True)
    ]
    return {
        inferred.key: merged,
        f"{inferred.key}_inferred": guessed,
        f"{inferred.key}_confidence": confidence,
    }
