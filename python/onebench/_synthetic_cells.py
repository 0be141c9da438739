"""The engine of onebench.synthetic: draws the kept cells of the (never materialised) dense
grid and scores them, chunk by chunk, in memory bounded by the output.

Separate from onebench.synthetic, which validates the arguments and decides what the pool
looks like (strengths, thresholds, structure); this module only draws it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["draw_cells"]

# Candidate cells per chunk. 16 MB int64 temporaries stay under glibc's mmap threshold, so
# chunks reuse heap memory instead of page-faulting fresh mappings each time.
_CHUNK = 1 << 21


def draw_cells(
    rng: np.random.Generator,
    n_models: int,
    n_samples: int,
    keep: float,
    scores: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
    accept: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the kept cells and their scores, chunk by chunk, sorted by sample then model.

    Candidates are the cells of the flattened grid kept with probability ``keep``: the gaps
    between them are geometric, so only kept cells cost work. ``accept`` then thins them to
    the cells the structure keeps, which yields exactly an independent
    Bernoulli(keep * structural) draw per cell. ``scores`` is (mu, sigma, binary, threshold,
    offset).
    """
    mu, sigma, binary, threshold, offset = scores
    total = n_models * n_samples
    expected = keep * total
    capacity = int(min(total, expected + 10.0 * np.sqrt(expected) + 1024))
    out = [np.empty(capacity, dtype) for dtype in (np.int32, np.int32, np.float32)]
    # Small grids need far fewer than _CHUNK draws; the chunk size depends only on the
    # arguments, so the random stream (and the data) stays a function of the seed.
    chunk = min(_CHUNK, capacity + 16)
    filled = 0
    last = -1  # flat position of the last candidate drawn
    while True:
        if keep < 1.0:
            pos = np.cumsum(rng.geometric(keep, size=chunk))
            pos += last
        else:
            pos = np.arange(last + 1, min(last + 1 + chunk, total), dtype=np.int64)
        done = pos.size == 0 or pos[-1] >= total - 1
        if done:
            pos = pos[: np.searchsorted(pos, total)]
        else:
            last = int(pos[-1])
        j, m = np.divmod(pos, n_models)
        del pos
        j = j.astype(np.int32)
        m = m.astype(np.int32)

        if accept is not None:
            ok = accept(j, m)
            j, m = j[ok], m[ok]

        score = rng.standard_normal(j.size, dtype=np.float32)
        score *= sigma[m]
        score += mu[m]
        if offset is not None:
            score -= offset[j]
        is_binary = binary[j]
        score[is_binary] = score[is_binary] > threshold[j[is_binary]]

        n = j.size
        if filled + n > out[0].size:  # a (vanishingly rare) draw above the 10-sigma bound
            grown = max(2 * out[0].size, filled + n)
            out = [np.concatenate([a[:filled], np.empty(grown - filled, a.dtype)]) for a in out]
        out[0][filled : filled + n] = j
        out[1][filled : filled + n] = m
        out[2][filled : filled + n] = score
        filled += n
        if done:
            break
    # Untouched tail pages of np.empty were never resident; resize hands them back anyway.
    for a in out:
        a.resize(filled, refcheck=False)
    return out[0], out[1], out[2]
