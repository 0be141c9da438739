"""Lexical search (Okapi BM25) over sample texts: no model, no embeddings, exact words.

It serves pools without embeddings, machines without torch, and queries that name exact
strings (identifiers, rare terms) that a sentence encoder blurs. Robertson & Zaragoza,
"The Probabilistic Relevance Framework: BM25 and Beyond" (2009), with k1 = 1.2, b = 0.75.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ._search import Hits, merge
from ._view import SampleView

__all__ = ["bm25_scores", "search_lexical", "tokens"]

_TOKEN = re.compile(r"\w+", re.UNICODE)
_K1 = 1.2
_B = 0.75


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class _Postings:
    documents: dict[str, np.ndarray]  # term -> sample indexes
    frequencies: dict[str, np.ndarray]  # term -> term frequency in each of them
    lengths: np.ndarray
    count: int


def _postings(view: SampleView, field: str) -> _Postings:
    key = ("bm25", field)
    cached = view.cache.get(key)
    if cached is not None:
        return cached
    if field == "references":
        texts = ["\n".join(refs or []) for refs in view.column_values("references")]
    elif field == "metadata":
        from ._embed import description

        texts = [
            description(benchmark, raw)
            for benchmark, raw in zip(
                view.column_values("benchmark"), view.column_values("metadata"), strict=True
            )
        ]
    else:
        texts = [text or "" for text in view.column_values("text")]
    documents: dict[str, list[int]] = {}
    frequencies: dict[str, list[int]] = {}
    lengths = np.zeros(len(texts), dtype=np.float32)
    for position, text in enumerate(texts):
        counts = Counter(tokens(text))
        lengths[position] = sum(counts.values())
        for term, count in counts.items():
            documents.setdefault(term, []).append(position)
            frequencies.setdefault(term, []).append(count)
    postings = _Postings(
        {term: np.asarray(rows, dtype=np.int64) for term, rows in documents.items()},
        {term: np.asarray(c, dtype=np.float32) for term, c in frequencies.items()},
        lengths,
        int((lengths > 0).sum()),
    )
    view.cache[key] = postings
    return postings


def bm25_scores(view: SampleView, query: str, field: str = "text") -> np.ndarray:
    """The BM25 score of every sample of the pool (0 where no query word occurs)."""
    postings = _postings(view, field)
    scores = np.zeros(len(view.ids), dtype=np.float32)
    average = float(postings.lengths.sum()) / max(postings.count, 1)
    for term in set(tokens(query)):
        rows = postings.documents.get(term)
        if rows is None:
            continue
        tf = postings.frequencies[term]
        idf = np.log1p((postings.count - len(rows) + 0.5) / (len(rows) + 0.5))
        norm = _K1 * (1 - _B + _B * postings.lengths[rows] / max(average, 1e-9))
        scores[rows] += idf * tf * (_K1 + 1) / (tf + norm)
    return scores


def search_lexical(
    view: SampleView,
    query: str,
    fields: list[str],
    *,
    top_k: int | None,
    threshold: float | None,
    allowed: np.ndarray | None,
) -> Hits:
    """BM25 scores of the samples that share a word with ``query``; ``threshold`` applies
    to the BM25 score."""
    found = []
    for field in fields:
        scores = bm25_scores(view, query, field)
        matched = scores > 0
        if allowed is not None:
            matched &= allowed
        if threshold is not None:
            matched &= scores >= threshold
        rows = np.flatnonzero(matched)
        found.append(Hits(rows, scores[rows]))
    return merge(found, top_k)
