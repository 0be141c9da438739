"""Which samples a tool call is about: a benchmark (source or saved), explicit ids, a
query, or the whole pool."""

from __future__ import annotations

import json
from typing import Any, Literal, NamedTuple

from ..exceptions import InvalidInputError, UnknownIdError
from ..pool import Pool
from ..query import DEFAULT_ENCODER, Benchmark, EmbeddingSet
from ._models import SampleSelection
from ._state import PoolState, Snapshot

__all__ = ["Selection", "has_embeddings", "run_query", "select"]

SearchKind = Literal["hybrid", "semantic", "lexical", "filter"]
#: What a tool says when it searched by words because the pool has no embeddings.
LEXICAL_FALLBACK = (
    "the pool has no embeddings, so this was lexical (BM25) search: it matches the query's "
    "words, not its meaning, and can return samples that merely contain a word; for "
    "semantic search run `onebench embed --pool <pool> --propagate category --topics` (or "
    "pool.embed()) and search again"
)

#: Query results remembered per pool version (an agent asks the same query of several tools).
_REMEMBERED_QUERIES = 32


class Selection(NamedTuple):
    ids: list[str] | None  # None: the whole pool
    info: SampleSelection


def has_embeddings(pool: Pool) -> bool:
    """Whether semantic search can run: the default encoder embedded some sample texts."""
    return EmbeddingSet(pool.path, DEFAULT_ENCODER, "text").exists()


def run_query(
    pool: Pool,
    text: str | None,
    top_k: int | None,
    threshold: float | None,
    where: Any,
    method: str,
) -> tuple[Benchmark, SearchKind]:
    """``pool.query`` with ``method='auto'`` resolved: hybrid search when the pool has
    embeddings, lexical (BM25) search otherwise. Without a text, the samples that pass
    ``where`` (all of them unless top_k is given). Returns the benchmark and the method."""
    if text is None:
        if threshold is not None:
            raise InvalidInputError("threshold: needs a query text", field="threshold")
        limit = top_k if top_k is not None else max(pool.stats().samples, 1)
        return pool.query(None, where=where, top_k=limit), "filter"
    if not text.strip():
        raise InvalidInputError("query: the query text is empty", field="query")
    used: SearchKind = "lexical"
    if method == "auto":
        used = "hybrid" if has_embeddings(pool) else "lexical"
    elif method in ("semantic", "hybrid") and not has_embeddings(pool):
        # Said before loading the encoder: that alone takes seconds.
        raise InvalidInputError(
            "search: the pool has no embeddings for semantic search; run `onebench embed` "
            "on it, or use search='lexical'",
            field="search",
        )
    elif method == "semantic":
        used = "semantic"
    elif method == "hybrid":
        used = "hybrid"
    options: dict[str, Any] = {"method": used, "where": where}
    if top_k is not None:
        options["top_k"] = top_k
    if threshold is not None:
        options["threshold"] = threshold
    return pool.query(text, **options), used


async def select(
    state: PoolState,
    snapshot: Snapshot,
    *,
    benchmark: str | None = None,
    sample_ids: list[str] | None = None,
    query: str | None = None,
    top_k: int | None = None,
    threshold: float | None = None,
    where: Any = None,
    method: str = "auto",
) -> Selection:
    given = [
        name
        for name, value in (("benchmark", benchmark), ("sample_ids", sample_ids), ("query", query))
        if value is not None
    ]
    if len(given) > 1:
        raise InvalidInputError(
            f"give one of benchmark, sample_ids or query, not {' and '.join(given)}",
            field=given[1],
        )
    if where is not None and (benchmark is not None or sample_ids is not None):
        raise InvalidInputError(
            f"where: filters a query or the whole pool, not {given[0]}", field="where"
        )
    if query is None and where is None and (top_k is not None or threshold is not None):
        raise InvalidInputError(
            "top_k and threshold refine a query or a where filter; pass one", field="query"
        )
    if benchmark is not None:
        return await _benchmark(state, snapshot, benchmark)
    if sample_ids is not None:
        if not sample_ids:
            raise InvalidInputError("sample_ids: the list is empty", field="sample_ids")
        ids = list(dict.fromkeys(sample_ids))
        return Selection(
            ids,
            SampleSelection(
                kind="sample_ids", description=f"{len(ids)} given samples", n_samples=len(ids)
            ),
        )
    if query is not None or where is not None:
        found, used = await query_benchmark(state, snapshot, query, top_k, threshold, where, method)
        if not found.sample_ids:
            raise InvalidInputError(
                "no sample matches; lower the threshold or loosen where", field="query"
            )
        description = (
            f"query {query!r} ({used} search, {len(found)} samples)"
            if query is not None
            else f"samples where {json.dumps(where)} ({len(found)})"
        )
        return Selection(
            list(found.sample_ids),
            SampleSelection(
                kind="query" if query is not None else "filter",
                description=description,
                n_samples=len(found),
            ),
        )
    return Selection(
        None,
        SampleSelection(
            kind="pool", description="the whole pool", n_samples=len(snapshot.sample_ids)
        ),
    )


async def query_benchmark(
    state: PoolState,
    snapshot: Snapshot,
    query: str | None,
    top_k: int | None,
    threshold: float | None,
    where: Any,
    method: str,
) -> tuple[Benchmark, SearchKind]:
    """The query's result, computed once per pool version (embedding the query and
    searching run in a worker thread)."""
    key = ("query", query, top_k, threshold, json.dumps(where, sort_keys=True), method)
    cached: tuple[Benchmark, SearchKind] | None = snapshot.cache.get(key)
    if cached is not None:
        return cached
    found: tuple[Benchmark, SearchKind] = await state.run_long(
        run_query, state.pool, query, top_k, threshold, where, method
    )
    queries = snapshot.cache.setdefault("queries", [])
    queries.append(key)
    if len(queries) > _REMEMBERED_QUERIES:
        snapshot.cache.pop(queries.pop(0), None)
    snapshot.cache[key] = found
    return found


async def _benchmark(state: PoolState, snapshot: Snapshot, name: str) -> Selection:
    kept = state.session_benchmarks.get(name)
    if kept is not None:
        ids = list(kept.sample_ids)
        return Selection(
            ids,
            SampleSelection(
                kind="session_benchmark",
                description=f"benchmark {name} of this session",
                n_samples=len(ids),
            ),
        )
    saved = await state.run_quick(state.pool.benchmarks)
    if name in saved:
        benchmark = await state.run_quick(state.pool.benchmark, name)
        spec = benchmark.query.get("text")
        description = f"saved benchmark {name}" + (f" (query {spec!r})" if spec else "")
        ids = list(benchmark.sample_ids)
        return Selection(
            ids,
            SampleSelection(kind="saved_benchmark", description=description, n_samples=len(ids)),
        )
    ids = snapshot.samples_of_benchmark(name)
    if not ids:
        known = sorted({*snapshot.summary["benchmarks"], *saved, *state.session_benchmarks})
        shown = ", ".join(repr(item) for item in known[:20])
        raise UnknownIdError(
            f"benchmark: unknown benchmark {name!r}; known: {shown}"
            + (" ..." if len(known) > 20 else ""),
            field="benchmark",
            id=name,
        )
    return Selection(
        ids, SampleSelection(kind="benchmark", description=f"benchmark {name}", n_samples=len(ids))
    )
