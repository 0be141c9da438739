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
            block = part.vectors[start : start + _BLOCK_ROWS]
            if device == "cpu" and _torch() is not None:
                chosen = _candidates_cpu(block, vector, block_valid, top_k, threshold)
            else:
                key = (_identity(matrix, part), start)
                scores = _scores_exact(block, vector, device, key)
                scores[~block_valid] = -np.inf
                chosen = _select(scores, top_k, threshold)
            kept.append(offset + start + chosen)
        if selective:
            kept.append(offset + np.flatnonzero(part_valid))
        offset += rows
    if not kept:
        return Hits.empty()
    rows_kept = np.concatenate(kept)
    scores = exact_scores(matrix, rows_kept, vector)
    final = _select(scores, top_k, threshold)
    final = final[np.lexsort((rows_kept[final], -scores[final]))]
    return Hits(matrix.row_samples[rows_kept[final]], scores[final])


def _identity(matrix: FieldMatrix, part: EmbeddingPart) -> tuple[str, int, int]:
    """A part file's identity for the device cache: a pool deleted and created again at
    the same path reuses part names, never inode and modification time."""
    path = matrix.embedding_set.directory / f"{part.name}.f16"
    stat = path.stat()
    return str(path), stat.st_ino, stat.st_mtime_ns


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # filters, tests and precomputed queries work without torch
        return None
    return torch


# The float16 product's error: the kernel accumulates in float32 but rounds the result to
# float16, and the query itself is rounded to float16; each costs at most 2^-12 of a unit
# dot product. 2e-3 leaves a wide margin over their sum (7.3e-4).
_FLOAT16_ERROR = 2e-3


def _candidates_cpu(
    block: np.ndarray,
    vector: np.ndarray,
    valid: np.ndarray,
    top_k: int | None,
    threshold: float | None,
) -> np.ndarray:
    """Rows of a block that may make the cut, by a float16 product on the CPU: half the
    bytes of float32, and bytes are what bound a matrix-vector product. The selection
    stays in torch on float16 (converting a million scores to float32 alone costs 11 ms)."""
    torch = _torch()
    scores = torch.from_numpy(np.asarray(block)) @ torch.from_numpy(vector).to(torch.float16)
    if not valid.all():
        scores.masked_fill_(torch.from_numpy(~valid), -torch.inf)
    candidates = None
    if threshold is not None:
        candidates = _nonzero(scores >= threshold - _FLOAT16_ERROR)
    if top_k is not None:
        values = scores if candidates is None else scores[candidates]
        if len(values) > top_k:
            kth = torch.topk(values, top_k, sorted=False).values.min()
            keep = _nonzero(values >= kth - 2 * _FLOAT16_ERROR)
            candidates = keep if candidates is None else candidates[keep]
    if candidates is None:
        candidates = torch.arange(len(scores))
    candidates = candidates[torch.isfinite(scores[candidates])]
    return candidates.numpy().astype(np.int64)


def _nonzero(mask: Any) -> Any:
    """``torch.nonzero`` of a boolean tensor, through numpy (20x faster on a 1M mask)."""
    import torch

    return torch.from_numpy(np.flatnonzero(mask.numpy()))


def _scores_exact(
    block: np.ndarray, vector: np.ndarray, device: str, cache_key: tuple[Any, int]
) -> np.ndarray:
    """float32 scores of a block, on an accelerator (or in numpy without torch)."""
    torch = _torch()
    if torch is None:
        return np.asarray(block, dtype=np.float32) @ vector
    tensor = _DEVICE_TENSORS.get(cache_key)
    if tensor is None:
        # On a GPU the parts are kept as float32: memory is plentiful and scores exact.
        tensor = torch.from_numpy(np.array(block)).to(device).float()
        _DEVICE_TENSORS[cache_key] = tensor
    return (tensor @ torch.from_numpy(vector).to(device)).cpu().numpy()


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


def _select(scores: np.ndarray, top_k: int | None, threshold: float | None) -> np.ndarray:
    """Positions (unordered) of the scores at or above ``threshold``, then the ``top_k``
    best of them."""
    candidates = np.flatnonzero(
        scores >= threshold if threshold is not None else np.isfinite(scores)
    )
    if top_k is not None and len(candidates) > top_k:
        best = np.argpartition(-scores[candidates], top_k - 1)[:top_k]
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
