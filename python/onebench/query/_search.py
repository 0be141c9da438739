"""Semantic search over stored embeddings: exact (chunked matrix product) or approximate
(a usearch HNSW index), restricted to the samples a filter allows.

Stored vectors are unit length, so a dot product is a cosine similarity. Exact search
multiplies the memory-mapped float16 parts by the query block by block (on the GPU when
there is one: parts are copied there once and kept), so the whole matrix never has to
fit in memory as float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._store import EmbeddingPart, EmbeddingSet
from ._view import SampleView

__all__ = ["FieldMatrix", "Hits", "exact_scores", "field_matrix", "merge", "search_exact"]

# Rows per block of the exact product. On the CPU the block is a view of the mapped file
# and larger calls run faster (the product of 1M rows in one call takes half the time of
# 16 calls of 65,536); on a GPU each block is copied there once, as float32 (1.5 GiB).
_BLOCK_ROWS = 1_048_576
_DEVICE_TENSORS: dict[tuple[Any, int], Any] = {}


@dataclass(frozen=True)
class Hits:
    """Matched samples (dense pool indexes) and their similarities, best first."""

    samples: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> Hits:
        return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@dataclass
class FieldMatrix:
    """The committed embedding parts of one field, with the pool sample of each row."""

    embedding_set: EmbeddingSet
    header: dict[str, Any]
    parts: list[EmbeddingPart]
    #: For each stored row, in part order: the dense index of its sample, or -1 when this
    #: handle's version of the pool does not know it (embedded by a newer writer).
    row_samples: np.ndarray
    parts_key: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.row_samples)

    def embedded_samples(self) -> np.ndarray:
        return self.row_samples[self.row_samples >= 0]


def field_matrix(embedding_set: EmbeddingSet, view: SampleView) -> FieldMatrix | None:
    """The field's matrix at the committed header (cached per pool version and header)."""
    header = embedding_set.header()
    if not header["parts"]:
        return None
    parts_key = tuple(p["name"] for p in header["parts"])
    key = ("matrix", str(embedding_set.directory))
    cached = view.cache.get(key)
    if cached is not None and cached.parts_key == parts_key:
        cached.header = header  # an index built since is seen at once
    else:
        parts = embedding_set.parts()
        index = view.index
        row_samples = np.fromiter(
            (index.get(sample_id, -1) for part in parts for sample_id in part.sample_ids),
            dtype=np.int64,
            count=sum(len(part.sample_ids) for part in parts),
        )
        cached = FieldMatrix(embedding_set, header, parts, row_samples, parts_key)
        view.cache[key] = cached
    return cached


def search_exact(
    matrix: FieldMatrix,
    query: np.ndarray,
    *,
    top_k: int | None,
    threshold: float | None,
    allowed: np.ndarray | None,
    device: str = "cpu",
) -> Hits:
    """Every row's similarity to ``query``, keeping the ``top_k`` best and/or those at or
    above ``threshold``, among rows whose sample is ``allowed`` (a mask over the pool).

    Two passes: a fast pass scores every row with a known error bound and keeps each
    row that could belong to the answer (within the bound of the cut), then the few kept
    rows are scored again in float32, so that the answer is exact.
    """
    vector = np.ascontiguousarray(query, dtype=np.float32)
    kept: list[np.ndarray] = []
    valid = matrix.row_samples >= 0
    if allowed is not None:
        valid &= allowed[np.maximum(matrix.row_samples, 0)]
    # A narrow filter: read only the allowed rows instead of every block.
    selective = bool(len(valid)) and valid.mean() < 0.05
    offset = 0
    for part in matrix.parts:
        rows = len(part.sample_ids)
        part_valid = valid[offset : offset + rows]
        for start in range(0, rows if not selective else 0, _BLOCK_ROWS):
            block_valid = part_valid[start : start + _BLOCK_ROWS]
            if not block_valid.any():
                continue
            key = (_identity(matrix, part), start) if device != "cpu" else None
            scores, error = _fast_scores(
                part.vectors[start : start + _BLOCK_ROWS], vector, device, key
            )
            scores[~block_valid] = -np.inf
            kept.append(offset + start + _select(scores, top_k, threshold, error))
        if selective:
            kept.append(offset + np.flatnonzero(part_valid))
        offset += rows
    if not kept:
        return Hits.empty()
    rows_kept = np.concatenate(kept)
    scores = exact_scores(matrix, rows_kept, vector)
    final = _select(scores, top_k, threshold, 0.0)
    final = final[np.lexsort((rows_kept[final], -scores[final]))]
    return Hits(matrix.row_samples[rows_kept[final]], scores[final])


def _identity(matrix: FieldMatrix, part: EmbeddingPart) -> tuple[str, int, int]:
    """A part file's identity for the device cache: a pool deleted and created again at
    the same path reuses part names, never inode and modification time."""
    path = matrix.embedding_set.directory / f"{part.name}.f16"
    stat = path.stat()
    return str(path), stat.st_ino, stat.st_mtime_ns


def _fast_scores(
    block: np.ndarray, vector: np.ndarray, device: str, cache_key: tuple[Any, int] | None
) -> tuple[np.ndarray, float]:
    """Scores of a block and a bound on their error."""
    try:
        import torch
    except ImportError:  # filters, tests and precomputed queries work without torch
        return np.asarray(block, dtype=np.float32) @ vector, 0.0
    if device == "cpu":
        # float16 x float16: half the bytes of float32, and bytes bound a matrix-vector
        # product. The kernel accumulates in float32 but rounds the result, and the query
        # itself to float16: each costs at most 2^-12 relative to a unit dot product.
        # 2e-3 leaves a wide margin over their sum (7.3e-4).
        matrix = torch.from_numpy(np.asarray(block))
        query = torch.from_numpy(vector).to(torch.float16)
        return (matrix @ query).float().numpy(), 2e-3
    tensor = _DEVICE_TENSORS.get(cache_key) if cache_key is not None else None
    if tensor is None:
        # On a GPU the parts are kept as float32: memory is plentiful and scores exact.
        tensor = torch.from_numpy(np.array(block)).to(device).float()
        if cache_key is not None:
            _DEVICE_TENSORS[cache_key] = tensor
    return (tensor @ torch.from_numpy(vector).to(device)).cpu().numpy(), 0.0


def exact_scores(matrix: FieldMatrix, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """float32 scores of the given rows (row numbers across all parts)."""
    bounds = np.cumsum([0] + [len(part.sample_ids) for part in matrix.parts])
    which = np.searchsorted(bounds, rows, side="right") - 1
    scores = np.empty(len(rows), dtype=np.float32)
    for number, part in enumerate(matrix.parts):
        mine = np.flatnonzero(which == number)
        if len(mine):
            local = rows[mine] - bounds[number]
            order = np.argsort(local)  # memory-mapped reads in file order
            vectors = np.asarray(part.vectors[local[order]], dtype=np.float32)
            scores[mine[order]] = vectors @ vector
    return scores


def _select(
    scores: np.ndarray, top_k: int | None, threshold: float | None, error: float
) -> np.ndarray:
    """Positions (unordered) of every score that may be at or above ``threshold`` and
    among the ``top_k`` best, given that each score may be off by ``error``."""
    candidates = np.flatnonzero(
        scores >= threshold - error if threshold is not None else np.isfinite(scores)
    )
    if top_k is not None and len(candidates) > top_k:
        values = scores[candidates]
        kth = np.partition(values, len(values) - top_k)[len(values) - top_k]
        if error == 0.0:
            best = np.argpartition(-values, top_k - 1)[:top_k]
        else:
            best = np.flatnonzero(values >= kth - 2 * error)
        candidates = candidates[best]
    return candidates


def merge(hits: list[Hits], top_k: int | None) -> Hits:
    """One sample once, with its best similarity, best first, cut to ``top_k``."""
    samples = np.concatenate([h.samples for h in hits])
    scores = np.concatenate([h.scores for h in hits])
    order = np.lexsort((-scores, samples))
    samples, scores = samples[order], scores[order]
    first = np.ones(len(samples), dtype=bool)
    first[1:] = samples[1:] != samples[:-1]
    samples, scores = samples[first], scores[first]
    best = np.argsort(-scores, kind="stable")[:top_k]
    return Hits(samples[best], scores[best])
