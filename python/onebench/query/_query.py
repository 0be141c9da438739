"""``pool.query``: validate the request, search each field, merge, return a Benchmark."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidInputError
from ._benchmark import Benchmark
from ._cutoff import CUTOFF_CANDIDATES, cut_ranking
from ._encoders import Encoder, encoder_variant, load_encoder, normalise_encoder_name
from ._filters import filter_mask, parse_where
from ._hybrid import HybridSettings
from ._search import Hits, field_matrix, merge, search_exact
from ._store import FIELDS, EmbeddingSet, check_field
from ._topics import load_topics
from ._view import sample_view

if TYPE_CHECKING:
    from ..pool import Pool

__all__ = ["DEFAULT_METHOD", "DEFAULT_TOP_K", "MAX_QUERY_CHARS", "query_pool"]

log = logging.getLogger("onebench")

#: Samples a lexical query returns when neither ``top_k`` nor ``threshold`` is given (a
#: semantic or hybrid one is cut automatically, ``_cutoff``).
DEFAULT_TOP_K = 100
MAX_QUERY_CHARS = 10_000
METHODS = ("hybrid", "semantic", "lexical")
#: Dense + BM25 fused, feedback, labels and topics (``_hybrid``).
DEFAULT_METHOD = "hybrid"
INDEXES = ("auto", "exact", "ann")


def query_pool(
    pool: Pool,
    text: str | None = None,
    *,
    image: Any = None,
    top_k: int | None = None,
    threshold: float | str | None = None,
    where: Any = None,
    on: str | Sequence[str] | None = None,
    method: str = DEFAULT_METHOD,
    encoder: str | Encoder | None = None,
    index: str = "auto",
    device: str | None = None,
    settings: HybridSettings | None = None,
) -> Benchmark:
    text = _check_text(text)
    top_k = _check_top_k(top_k)
    if method not in METHODS:
        raise InvalidInputError(
            f"method: expected one of {', '.join(METHODS)}, got {method!r}", field="method"
        )
    if index not in INDEXES:
        raise InvalidInputError(
            f"index: expected one of {', '.join(INDEXES)}, got {index!r}", field="index"
        )
    if text is not None and image is not None:
        raise InvalidInputError("query: give a text or an image, not both", field="query")
    conditions = parse_where(where)
    if text is None and image is None and not conditions:
        raise InvalidInputError("query: give a text, an image or a where filter", field="query")
    if top_k is None and threshold is None and method == "lexical":
        top_k = DEFAULT_TOP_K  # BM25 scores have no scale to cut by
    view = sample_view(pool)
    allowed = filter_mask(view, conditions) if conditions else None
    spec: dict[str, Any] = {
        "text": text,
        "image": _describe_image(image),
        "top_k": top_k,
        "threshold": threshold,
        "where": [condition.to_list() for condition in conditions] or None,
        "method": method,
        "pool_version": pool.version,
    }
    if allowed is not None and text is None and image is None:
        rows = np.flatnonzero(allowed)[:top_k]
        spec["method"] = "filter"
        return Benchmark(tuple(view.ids[i] for i in rows), (math.nan,) * len(rows), spec)
    if method == "lexical":
        from ._lexical import search_lexical

        if image is not None:
            raise InvalidInputError("method: lexical search takes a text query", field="method")
        fields = _lexical_fields(on)
        value = _check_threshold(threshold, None, lexical=True)
        hits = search_lexical(
            view, text or "", fields, top_k=top_k, threshold=value, allowed=allowed
        )
        spec.update(on=fields, threshold=value)
        return _benchmark(view.ids, hits, spec)

    if threshold != "default":  # a bad number fails before a model loads
        _check_threshold(threshold, None, lexical=False)
    if index == "ann" and method == "hybrid":
        method = spec["method"] = "semantic"  # the index ranks by the dense similarity alone
    if index == "ann" and top_k is None and threshold is None and allowed is None:
        top_k = spec["top_k"] = DEFAULT_TOP_K  # the index answers top-k queries
    if index == "ann" and (allowed is not None or top_k is None):
        raise InvalidInputError(
            "index: the ANN index answers semantic top_k queries without where filters; "
            "use index='exact' (or 'auto')",
            field="index",
        )
    name = encoder.name if isinstance(encoder, Encoder) else normalise_encoder_name(encoder)
    sets = _embedding_sets(pool, name, on)
    models = [_set_encoder(s, encoder, device) for s in sets]
    model = models[0]
    value = _check_threshold(threshold, model.default_threshold, lexical=False)
    matrices = [(s, field_matrix(s, view)) for s in sets]
    vectors = _query_vectors(models, text, image)
    spec.update(on=[s.field for s in sets], threshold=value, encoder=model.name)
    spec["variant"] = sorted({encoder_variant(m) for m in models})
    _warn_unembedded(view, matrices)
    present = [(m, v) for (_, m), v in zip(matrices, vectors, strict=True) if m is not None]
    if method == "hybrid" and (text is None or "text" not in spec["on"]):
        # BM25, labels and topics read the samples' texts: an image query, or one over
        # other fields alone, is ranked by the dense similarity.
        method = spec["method"] = "semantic"
    if method == "hybrid":
        from ._hybrid import rank_hybrid

        topics = load_topics(pool.path, model.name) if text is not None else None
        if topics is not None and topics.get("variant") != sets[0].variant():
            topics = None  # made from another variant's vectors: not comparable
        ranked = rank_hybrid(
            view,
            [m for m, _ in present],
            [v for _, v in present],
            text,
            allowed,
            model,
            topics,
            settings or HybridSettings(),
        )
        spec["index"] = "exact"
        spec["retrieval"] = ranked.details
        return cut_ranking(
            view.ids, ranked.samples, ranked.similarity, ranked.cut_score, spec, model, text
        )
    found: list[Hits] = []
    used = "exact"
    automatic = top_k is None and value is None
    for matrix, vector in present:
        # Filters need every allowed row scored: exact search (which reads only the allowed
        # rows when they are few) rather than an index that cannot skip the others.
        use_ann = index == "ann" or (
            index == "auto" and "ann" in matrix.header and allowed is None and top_k is not None
        )
        if use_ann and top_k is not None:
            from ._ann import search_ann

            found.append(search_ann(matrix, vector, top_k=top_k, threshold=value))
            used = "ann"
        else:
            count = CUTOFF_CANDIDATES if automatic else top_k
            found.append(
                search_exact(
                    matrix,
                    vector,
                    top_k=count,
                    threshold=value,
                    allowed=allowed,
                    device=_search_device(device),
                )
            )
    spec["index"] = used
    hits = merge(found, CUTOFF_CANDIDATES if automatic else top_k)
    scores = hits.scores.astype(np.float64)
    return cut_ranking(view.ids, hits.samples, scores, scores, spec, model, text)


def _set_encoder(
    embedding_set: EmbeddingSet, encoder: str | Encoder | None, device: str | None
) -> Encoder:
    """The encoder of the variant that made the set's vectors: a query is never compared
    with vectors of another variant."""
    stored = embedding_set.variant()
    if isinstance(encoder, Encoder):
        if stored is not None and encoder_variant(encoder) != stored:
            raise InvalidInputError(
                f"encoder: the pool's {embedding_set.field} embeddings were made by the "
                f"{stored} variant of {encoder.name}, this encoder is {encoder_variant(encoder)}",
                field="encoder",
            )
        return encoder
    return load_encoder(embedding_set.encoder, device, stored)


def _query_vectors(models: list[Encoder], text: str | None, image: Any) -> list[np.ndarray]:
    encoded: dict[int, np.ndarray] = {}
    out = []
    with _one_thread():
        for model in models:
            if id(model) not in encoded:
                if image is not None:
                    from ._images import open_image

                    picture = open_image(image, base=Path.cwd())
                    encoded[id(model)] = model.encode_images([picture], batch_size=1)[0]
                else:
                    encoded[id(model)] = model.encode_texts([text or ""], batch_size=1)[0]
            out.append(encoded[id(model)])
    return out


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One query is too small to split across threads: their barriers cost more than the
    work (MiniLM, one short query on 2 busy cores: 65 ms with 2 threads, 25 ms with 1)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _benchmark(ids: list[str], hits: Hits, spec: dict[str, Any]) -> Benchmark:
    return Benchmark(
        tuple(ids[i] for i in hits.samples),
        tuple(float(score) for score in hits.scores),
        {key: value for key, value in spec.items() if value is not None},
    )


def _check_text(text: Any) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidInputError(
            f"query: expected a string, got {type(text).__name__}", field="query"
        )
    if not text.strip():
        raise InvalidInputError("query: the query text is empty", field="query")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError(
            f"query: {len(text)} characters; at most {MAX_QUERY_CHARS}", field="query"
        )
    return text


def _check_top_k(top_k: Any) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k <= 0:
        raise InvalidInputError(f"top_k: must be a positive integer, got {top_k!r}", field="top_k")
    return int(top_k)


def _check_threshold(threshold: Any, default: float | None, *, lexical: bool) -> float | None:
    if threshold is None:
        return None
    if threshold == "default":
        if default is None:
            raise InvalidInputError(
                "threshold: lexical search has no default threshold; give a BM25 score",
                field="threshold",
            )
        return default
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.floating):
        raise InvalidInputError(
            f"threshold: expected a number or 'default', got {threshold!r}", field="threshold"
        )
    value = float(threshold)
    if not math.isfinite(value) or (not lexical and not -1.0 <= value <= 1.0):
        raise InvalidInputError(
            f"threshold: a cosine similarity in [-1, 1], got {threshold!r}", field="threshold"
        )
    return value


def _fields(on: str | Sequence[str] | None) -> list[str] | None:
    if on is None:
        return None
    names = [on] if isinstance(on, str) else list(on)
    if not names:
        raise InvalidInputError("on: name at least one field", field="on")
    return [check_field(name) for name in names]


def _lexical_fields(on: str | Sequence[str] | None) -> list[str]:
    fields = _fields(on) or ["text"]
    if "image" in fields:
        raise InvalidInputError("on: lexical search reads text and references", field="on")
    return fields


def _embedding_sets(pool: Pool, encoder: str, on: str | Sequence[str] | None) -> list[EmbeddingSet]:
    wanted = _fields(on)
    candidates = [EmbeddingSet(pool.path, encoder, field) for field in wanted or FIELDS]
    present = [s for s in candidates if s.header()["parts"]]
    missing = [s.field for s in candidates if not s.header()["parts"]]
    if not present or (wanted and missing):
        what = f"{', '.join(missing)} " if wanted else ""
        raise InvalidInputError(
            f"the pool has no {what}embeddings for encoder {normalise_encoder_name(encoder)}: "
            "run `onebench embed` (or pool.embed()) first, or search without embeddings "
            "with method='lexical' (--lexical)",
            field="encoder",
        )
    return present


def _search_device(device: str | None) -> str:
    if device:
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _warn_unembedded(view: Any, matrices: list[tuple[EmbeddingSet, Any]]) -> None:
    """Samples added since the last ``embed`` are invisible to semantic search: say so."""
    from ._embed import field_contents

    for embedding_set, matrix in matrices:
        key = ("content", embedding_set.field)
        if key not in view.cache:
            view.cache[key] = len(field_contents(view.table, embedding_set.field)[0])
        with_content = view.cache[key]
        embedded = 0 if matrix is None else len(matrix.embedded_samples())
        said = ("warned", embedding_set.field, embedded)
        if with_content > embedded and said not in view.cache:  # once, not every query
            view.cache[said] = True
            log.warning(
                "%d of %d samples with a %s have no embedding and were not searched; "
                "run `onebench embed` to add them",
                with_content - embedded,
                with_content,
                embedding_set.field,
            )


def _describe_image(image: Any) -> str | None:
    if image is None:
        return None
    if isinstance(image, str | Path) and not str(image).startswith("data:"):
        return str(image)
    return "<image>"
