"""The query tools: find the samples that test a capability, and save them as a benchmark."""

import json
from typing import Annotated

from pydantic import Field

from ..exceptions import InvalidInputError
from ..query import Benchmark
from ._arguments import (
    READ_ONLY,
    Query,
    SampleIds,
    SearchMethod,
    Threshold,
    ToolSet,
    TopK,
    Where,
)
from ._models import CreatedBenchmark, SampleHit, SearchResult
from ._selection import LEXICAL_FALLBACK, query_benchmark, select
from ._state import PoolState, Snapshot

__all__ = ["query_tools"]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def _hits(snapshot: Snapshot, benchmark: Benchmark, text_chars: int, limit: int) -> list[SampleHit]:
    index = snapshot.index()
    hits = []
    for sample_id, similarity in list(
        zip(benchmark.sample_ids, benchmark.similarities, strict=True)
    )[:limit]:
        position = index[sample_id]
        text = snapshot.text(position)
        hits.append(
            SampleHit(
                sample_id=sample_id,
                benchmark=str(snapshot.benchmarks[position]),
                category=snapshot.categories[position],
                similarity=None if similarity != similarity else round(similarity, 4),
                text=text[:text_chars] + ("..." if len(text) > text_chars else ""),
            )
        )
    return hits


def _notes(benchmark: Benchmark, used: str, method: str) -> list[str]:
    """What the agent should know about how the samples were found."""
    query = benchmark.query
    notes = []
    if used == "lexical" and method == "auto":
        notes.append(LEXICAL_FALLBACK)
    if query.get("note"):
        notes.append(str(query["note"]))
    labels = (query.get("retrieval") or {}).get("labels")
    if labels:
        notes.append(
            "labels the query matched (weight): "
            + ", ".join(f"{label} ({weight})" for label, weight in labels.items())
        )
    cutoff = query.get("cutoff")
    if cutoff:
        notes.append(
            f"automatic cut-off: {cutoff['kept']} samples scored at least {cutoff['score']:.3f} "
            f"(Otsu's split of the {cutoff['candidates']} best candidates' scores); pass top_k "
            "or threshold to choose the size yourself"
        )
    return notes


def query_tools(tools: ToolSet, state: PoolState) -> None:
    """Adds search_samples and create_benchmark to ``tools``."""
    pool = state.pool

    @tools.tool(annotations=READ_ONLY)
    async def search_samples(
        query: Annotated[
            str,
            Field(min_length=1, max_length=1_000, description="a capability described in words"),
        ],
        top_k: TopK = 20,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        text_chars: Annotated[
            int, Field(ge=0, le=2_000, description="characters of each sample's text to return")
        ] = 200,
    ) -> SearchResult:
        """Find the samples of the pool that test a capability described in words.

        Returns the best-matching samples with their similarity, benchmark, category and
        the start of their text, so you can check that they really test the capability
        before ranking on them. `search='auto'` uses hybrid search (sentence embeddings and
        BM25 fused, helped by the samples' labels) when the pool has embeddings and lexical
        (BM25) search otherwise; `notes` says when it fell back to lexical search and how
        to embed, and `matches_well` is false when nothing in the pool matches well.
        Narrow with `where` (e.g. {'category': 'chemistry'}) or a similarity `threshold`.
        Pass the same arguments to create_benchmark to save the result."""
        snapshot = await state.snapshot()
        found, used = await query_benchmark(state, snapshot, query, top_k, threshold, where, search)
        return SearchResult(
            query=query,
            search=used,
            n_results=len(found),
            samples=_hits(snapshot, found, text_chars, len(found)),
            matches_well="note" not in found.query,
            notes=_notes(found, used, search),
        )

    # With writes it saves a file in the pool; on a read-only server it only keeps the
    # benchmark in the server's memory, so it is read-only as far as the pool goes.
    writes = {"read_only_hint": not state.allow_writes, "idempotent_hint": False}

    @tools.tool(annotations=READ_ONLY.model_copy(update=writes))
    async def create_benchmark(
        name: Annotated[str, Field(pattern=_NAME, description="letters, digits, '.', '_' or '-'")],
        query: Query = None,
        sample_ids: SampleIds = None,
        top_k: TopK = None,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        overwrite: bool = False,
    ) -> CreatedBenchmark:
        """Save a custom benchmark under a name: the samples matching a query and/or a
        `where` filter (recorded, so it can be rerun as the pool grows) or an explicit list
        of sample ids. rank_models, compare_models and evaluate_model then accept it as
        `benchmark=<name>`. A read-only server keeps it for as long as it runs, without
        writing it to the pool (list_benchmarks shows it as kind 'session')."""
        snapshot = await state.snapshot()
        if name in snapshot.summary["benchmarks"]:
            raise InvalidInputError(
                f"name: {name!r} is a source benchmark of the pool; choose another name",
                field="name",
            )
        if sample_ids is not None and (query is not None or where is not None):
            raise InvalidInputError("give either a query (or where) or sample_ids", field="query")
        if query is None and where is None and sample_ids is None:
            raise InvalidInputError("give a query, a where filter or sample_ids", field="query")
        used = "ids"
        if sample_ids is None:
            found, used = await query_benchmark(
                state, snapshot, query, top_k, threshold, where, search
            )
        else:
            ids, _ = await select(state, snapshot, sample_ids=sample_ids)
            await state.run_quick(pool.sample_indexes, ids)  # names an unknown id
            found = Benchmark.from_ids(ids or [])
        if not found.sample_ids:
            reason = found.query.get("note") or f"query {query!r} matched no samples"
            raise InvalidInputError(str(reason), field="query")
        if state.allow_writes:
            saved = await state.run_quick(pool.save_benchmark, found, name, overwrite=overwrite)
        else:
            saved = await state.run_quick(
                state.keep_benchmark, found.named(name), overwrite=overwrite
            )
        categories: dict[str, int] = {}
        index = snapshot.index()
        for sample_id in saved.sample_ids:
            position = index.get(sample_id)
            key = snapshot.categories[position] if position is not None else None
            key = key or (str(snapshot.benchmarks[position]) if position is not None else "?")
            categories[key] = categories.get(key, 0) + 1
        return CreatedBenchmark(
            name=name,
            n_samples=len(saved),
            notes=_notes(found, used, search) if sample_ids is None else [],
            query=json.dumps(saved.query, sort_keys=True),
            groups=dict(sorted(categories.items(), key=lambda item: -item[1])),
            preview=_hits(snapshot, saved, 120, 5),
        )
