"""Hybrid retrieval: dense and BM25 rankings fused by reciprocal rank, one round of
pseudo-relevance feedback, and two label-aware terms (the samples' own or inferred labels,
and the capability map's topics for short queries).

    RRF (Cormack, Clarke & Büttcher, SIGIR 2009): fused(s) = sum over lists of 1 / (k + rank)
    Rocchio (1971) feedback: q' = q + beta * centroid(top m fused hits), renormalised
    final(s) = fused(s) / max fused + label_weight * label(s) + topic_weight * topic(s)

label(s) is the query's match to the sample's label (a softmax over the label names'
similarities to the query, zero below ``label_gate``) times the label's confidence (1 for
a source's own label). The constants were chosen on half of mmlu_pro's categories and
confirmed on the other half (benches/README.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._search import FieldMatrix, exact_scores, merge, search_exact
from ._view import SampleView

__all__ = ["HybridSettings", "Ranked", "rank_hybrid"]

LABEL_KEYS = ("category", "subject")


@dataclass(frozen=True)
class HybridSettings:
    # Chosen on half of mmlu_pro's categories (benches/README.md): BM25 and the topics'
    # routing lowered the chosen objective there, so both start switched off (weight 0);
    # give them a weight to use them.
    rrf_k: int = 60
    lexical_weight: float = 0.0
    feedback_top: int = 20
    feedback_weight: float = 0.5
    label_weight: float = 2.0
    label_temperature: float = 0.05
    label_gate: float = 0.4
    topic_weight: float = 0.0
    topic_temperature: float = 0.05
    topic_words: int = 4  # queries of at most this many words are routed through topics
    candidates: int = 4096

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Ranked:
    samples: np.ndarray  # pool indexes, best first
    similarity: np.ndarray  # cosine to the query as given (max over fields; NaN: no vector)
    score: np.ndarray  # the ranking score
    #: What the automatic cut-off splits: the similarity the ranking used (to the query
    #: after feedback) plus the label and topic terms; a similarity scale, unlike the
    #: rank-based fused score.
    cut_score: np.ndarray
    details: dict[str, Any]


def _row_of(matrix: FieldMatrix, pool_size: int) -> np.ndarray:
    cached = getattr(matrix, "_row_of", None)
    if cached is None or len(cached) != pool_size:
        cached = np.full(pool_size, -1, dtype=np.int64)
        valid = matrix.row_samples >= 0
        cached[matrix.row_samples[valid]] = np.flatnonzero(valid)
        matrix._row_of = cached  # type: ignore[attr-defined]
    return cached


def dense_of(
    matrices: list[FieldMatrix], vectors: list[np.ndarray], samples: np.ndarray, pool_size: int
) -> np.ndarray:
    """Each sample's best cosine similarity over the fields (-inf: no vector)."""
    best = np.full(len(samples), -np.inf, dtype=np.float32)
    for matrix, vector in zip(matrices, vectors, strict=True):
        rows = _row_of(matrix, pool_size)[samples]
        have = rows >= 0
        if have.any():
            best[have] = np.maximum(best[have], exact_scores(matrix, rows[have], vector))
    return best


def _ranks(scores: np.ndarray, present: np.ndarray) -> np.ndarray:
    """1-based ranks by descending score among ``present`` (inf elsewhere)."""
    ranks = np.full(len(scores), np.inf)
    order = np.flatnonzero(present)[np.argsort(-scores[present], kind="stable")]
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def label_scores(
    view: SampleView, vector: np.ndarray, model: Any, settings: HybridSettings
) -> tuple[np.ndarray | None, dict[str, float]]:
    """Per sample, how well its label matches the query; and the matched labels."""
    total = np.zeros(len(view.ids), dtype=np.float64)
    matched: dict[str, float] = {}
    for key in LABEL_KEYS:
        if not view.knows(key):
            continue
        cache_key = ("labels", key, model.name, getattr(model, "variant", "float32"))
        cached = view.cache.get(cache_key)
        if cached is None:
            values = view.column(key)
            names = sorted({v for v in values if isinstance(v, str) and v})
            lookup = {name: code for code, name in enumerate(names)}
            codes = np.array([lookup.get(v, -1) if isinstance(v, str) else -1 for v in values])
            known = view.knows(f"{key}_confidence")
            confidence = np.array(
                [(c or 0.0) for c in view.column(f"{key}_confidence")]
                if known
                else [1.0] * len(values),
                dtype=np.float64,
            )
            name_vectors = model.encode_texts(names, batch_size=64) if names else None
            cached = (names, name_vectors, codes, confidence)
            view.cache[cache_key] = cached
        names, name_vectors, codes, confidence = cached
        if not names:
            continue
        similarity = name_vectors @ vector
        if similarity.max() < settings.label_gate:
            continue
        weights = np.exp((similarity - similarity.max()) / settings.label_temperature)
        weights = np.where(similarity >= settings.label_gate, weights, 0.0)
        weights /= weights.sum()
        weights = np.where(weights >= 0.01, weights, 0.0)
        matched.update(
            {
                f"{key}={name}": round(float(w), 3)
                for name, w in zip(names, weights, strict=True)
                if w
            }
        )
        per_sample = np.where(codes >= 0, np.append(weights, 0.0)[codes], 0.0) * confidence
        total = np.maximum(total, per_sample)
    return (total if matched else None), matched


def topic_scores(
    view: SampleView, vector: np.ndarray, topics: dict[str, Any], settings: HybridSettings
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    descriptors = np.asarray(topics["descriptors"], dtype=np.float32)
    similarity = descriptors @ vector
    weights = np.exp((similarity - similarity.max()) / settings.topic_temperature)
    weights /= weights.max()
    key = ("topics", id(topics))
    assigned = view.cache.get(key)
    if assigned is None:
        assigned = np.full(len(view.ids), -1, dtype=np.int64)
        index = view.index
        for sample_id, topic in topics["assignment"].items():
            position = index.get(sample_id)
            if position is not None:
                assigned[position] = topic
        view.cache[key] = assigned
    per_sample = np.where(assigned >= 0, np.append(weights, 0.0)[assigned], 0.0)
    routed = [
        {
            "topic": int(t),
            "label": topics["topics"][t]["label"],
            "weight": round(float(weights[t]), 3),
        }
        for t in np.argsort(-weights)[:3]
        if weights[t] >= 0.05
    ]
    return per_sample, routed


def rank_hybrid(
    view: SampleView,
    matrices: list[FieldMatrix],
    vectors: list[np.ndarray],
    text: str | None,
    allowed: np.ndarray | None,
    model: Any,
    topics: dict[str, Any] | None,
    settings: HybridSettings,
) -> Ranked:
    from ._lexical import bm25_scores

    size = len(view.ids)
    mask = np.ones(size, dtype=bool) if allowed is None else allowed
    count = min(size, settings.candidates)

    def dense_top(query_vectors: list[np.ndarray]) -> np.ndarray:
        found = [
            search_exact(m, v, top_k=count, threshold=None, allowed=allowed)
            for m, v in zip(matrices, query_vectors, strict=True)
        ]
        return merge(found, count).samples

    use_lexical = bool(text) and settings.lexical_weight > 0
    lexical = (
        bm25_scores(view, text or "", "text") if use_lexical else np.zeros(size, dtype=np.float32)
    )
    lexical[~mask] = 0
    labels, matched = label_scores(view, vectors[0], model, settings) if text else (None, {})
    routed: list[dict[str, Any]] = []
    topic = None
    short = bool(text) and len((text or "").split()) <= settings.topic_words
    if topics is not None and short and settings.topic_weight > 0:
        topic, routed = topic_scores(view, vectors[0], topics, settings)
    pieces = [dense_top(vectors), np.flatnonzero(lexical > 0)]
    if labels is not None:
        pieces.append(np.flatnonzero((labels > 0) & mask))
    candidates = np.unique(np.concatenate(pieces))
    lexical_ranks = _ranks(lexical[candidates], lexical[candidates] > 0)
    extra = np.zeros(len(candidates))
    if labels is not None:
        extra += settings.label_weight * labels[candidates]
    if topic is not None:
        extra += settings.topic_weight * topic[candidates]

    def fuse(similarity: np.ndarray) -> np.ndarray:
        dense_ranks = _ranks(similarity, np.isfinite(similarity))
        fused = 1.0 / (settings.rrf_k + dense_ranks)
        fused += settings.lexical_weight / (settings.rrf_k + lexical_ranks)
        return fused / max(float(fused.max()), 1e-12) + extra

    original = dense_of(matrices, vectors, candidates, size)
    used = original
    score = fuse(original)
    if settings.feedback_top > 0 and settings.feedback_weight > 0:
        top = candidates[np.argsort(-score, kind="stable")[: settings.feedback_top]]
        expanded = []
        for matrix, vector in zip(matrices, vectors, strict=True):
            rows = _row_of(matrix, size)[top]
            rows = rows[rows >= 0]
            if not len(rows):
                expanded.append(vector)
                continue
            centroid = np.asarray(np.concatenate([_vectors(matrix, rows)]), dtype=np.float32).mean(
                axis=0
            )
            moved = vector + settings.feedback_weight * centroid
            expanded.append((moved / max(np.linalg.norm(moved), 1e-12)).astype(np.float32))
        more = np.setdiff1d(dense_top(expanded), candidates)
        if len(more):
            candidates = np.concatenate([candidates, more])
            lexical_ranks = _ranks(lexical[candidates], lexical[candidates] > 0)
            grown = np.zeros(len(more))
            if labels is not None:
                grown += settings.label_weight * labels[more]
            if topic is not None:
                grown += settings.topic_weight * topic[more]
            extra = np.concatenate([extra, grown])
            original = np.concatenate([original, dense_of(matrices, vectors, more, size)])
        used = dense_of(matrices, expanded, candidates, size)
        score = fuse(used)
    order = np.argsort(-score, kind="stable")
    cut_score = np.where(np.isfinite(used), used, -1.0) + extra
    similarity = original[order].astype(np.float64)
    similarity[~np.isfinite(similarity)] = np.nan
    details: dict[str, Any] = {"settings": settings.to_dict()}
    if matched:
        details["labels"] = matched
    if routed:
        details["topics"] = routed
    return Ranked(candidates[order], similarity, score[order], cut_score[order], details)


def _vectors(matrix: FieldMatrix, rows: np.ndarray) -> np.ndarray:
    bounds = np.cumsum([0] + [len(part.sample_ids) for part in matrix.parts])
    out = []
    for row in np.sort(rows):
        part = int(np.searchsorted(bounds, row, side="right") - 1)
        out.append(np.asarray(matrix.parts[part].vectors[row - bounds[part]], dtype=np.float32))
    return np.stack(out)
