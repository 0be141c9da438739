"""An approximate nearest-neighbour index (usearch HNSW) over one field's embeddings.

The index file sits beside the parts and the header names it with the number of rows it
covers. Parts are append-only, so rows embedded after the index was built are a tail that
an ANN search covers exactly; ``build_index`` again folds them in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError, OnebenchError
from ._search import FieldMatrix, Hits, exact_scores, merge, search_exact
from ._store import EmbeddingSet

__all__ = ["IndexReport", "build_ann", "search_ann"]

_LOADED: dict[str, Any] = {}


@dataclass(frozen=True)
class IndexReport:
    encoder: str
    field: str
    rows: int
    seconds: float
    path: str


def _usearch() -> Any:
    try:
        from usearch import index
    except ImportError as error:
        raise OnebenchError("the ANN index needs usearch: pip install 'onebench[query]'") from error
    return index


def build_ann(
    embedding_set: EmbeddingSet,
    *,
    connectivity: int = 16,
    expansion_add: int = 64,
    expansion_search: int = 128,
    dtype: str = "i8",
    threads: int = 0,
) -> IndexReport:
    """Builds (or rebuilds) the HNSW index over every committed row of the field.

    The graph holds int8 copies of the unit vectors: half the memory and twice the build
    speed of float16; what int8 costs in accuracy, searching for twice the candidates and
    rescoring them from the float16 rows wins back (``benches/query_bench.py``)."""
    usearch = _usearch()
    started = time.perf_counter()
    with embedding_set.writer() as writer:
        parts = embedding_set.parts()
        if not parts:
            raise InvalidInputError(
                f"no {embedding_set.field!r} embeddings for encoder {embedding_set.encoder} "
                "to index; embed the pool first",
                field="encoder",
            )
        dimension = parts[0].vectors.shape[1]
        index = usearch.Index(
            ndim=dimension,
            metric="ip",  # rows are unit vectors: inner product = cosine similarity
            dtype=dtype,
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        offset = 0
        for part in parts:
            rows = len(part.sample_ids)
            keys = np.arange(offset, offset + rows, dtype=np.uint64)
            index.add(keys, np.asarray(part.vectors), threads=threads)
            offset += rows
        # A new name per build: readers holding the old index keep a valid file.
        name = f"ann-{offset:012d}-{time.time_ns():x}.usearch"
        temporary = embedding_set.directory / f".tmp-{name}"
        index.save(str(temporary))
        writer.commit_file(temporary, name)
        writer.set_ann(
            {
                "file": name,
                "rows": offset,
                "metric": "ip",
                "dtype": dtype,
                "connectivity": connectivity,
                "expansion_add": expansion_add,
                "expansion_search": expansion_search,
            }
        )
    return IndexReport(
        encoder=embedding_set.encoder,
        field=embedding_set.field,
        rows=offset,
        seconds=time.perf_counter() - started,
        path=str(embedding_set.directory / name),
    )


def search_ann(
    matrix: FieldMatrix,
    query: np.ndarray,
    *,
    top_k: int,
    threshold: float | None,
) -> Hits:
    """The approximate ``top_k`` (and/or those above ``threshold``) from the index, with
    rows added after the index was built searched exactly and merged in."""
    ann = matrix.header.get("ann")
    if not ann:
        raise InvalidInputError(
            f"no ANN index for {matrix.embedding_set.field!r} embeddings of encoder "
            f"{matrix.embedding_set.encoder}; build one (pool.build_index() or "
            "`onebench embed --index`) or search exactly (index='exact')",
            field="index",
        )
    path = str(matrix.embedding_set.directory / ann["file"])
    index = _LOADED.get(path)
    if index is None:
        index = _usearch().Index.restore(path, view=True)  # memory-mapped, not loaded
        if index is None:
            raise OnebenchError(f"{path}: cannot be opened as a usearch index")
        _LOADED[path] = index
    index.expansion_search = max(int(ann.get("expansion_search", 128)), 2 * top_k)
    covered = int(ann["rows"])
    # Twice the candidates, rescored exactly: the graph's int8 distances only choose them.
    count = min(covered, 2 * top_k)
    matches = index.search(np.asarray(query, dtype=np.float16), count)
    rows = np.asarray(matches.keys, dtype=np.int64)
    rows = rows[matrix.row_samples[rows] >= 0]
    scores = exact_scores(matrix, rows, np.asarray(query, dtype=np.float32))
    keep = np.argsort(-scores, kind="stable")[:top_k]
    if threshold is not None:
        keep = keep[scores[keep] >= threshold]
    hits = Hits(matrix.row_samples[rows[keep]], scores[keep])
    if matrix.rows > covered:
        tail = np.zeros(len(matrix.row_samples), dtype=bool)
        tail[covered:] = True
        hits = merge([hits, _exact_rows(matrix, query, tail, top_k, threshold)], top_k)
    return hits


def _exact_rows(
    matrix: FieldMatrix, query: np.ndarray, rows: np.ndarray, top_k: int, threshold: float | None
) -> Hits:
    # Restrict exact search to the uncovered rows through a row-level mask on a copy.
    restricted = FieldMatrix(
        matrix.embedding_set,
        matrix.header,
        matrix.parts,
        np.where(rows, matrix.row_samples, -1),
    )
    return search_exact(restricted, query, top_k=top_k, threshold=threshold, allowed=None)
