"""Item diagnostics: per-sample difficulty and discrimination under the joint model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["item_diagnostics"]


def item_diagnostics(
    pool: Pool, samples: Any, *, alpha: float | None, tolerance: float, max_iterations: int
) -> pa.Table:
    """One row per sample of ``samples`` (all samples when None), in that order."""
    from ._rank_options import check_diagnostics_options
    from .ranking import default_alpha, resolve_samples, warm_key, warm_solution

    alpha, tolerance, max_iterations = check_diagnostics_options(alpha, tolerance, max_iterations)
    if alpha is None:
        alpha = default_alpha("joint")
    subset = None if samples is None else resolve_samples(pool, samples)
    # The joint fit underneath is Pool.rank's: it resumes that call's solution (the same
    # key), so diagnostics after a leaderboard cost little more than their own 2PL fits.
    previous = pool._warm.get(warm_key("joint", alpha, subset))
    result = pool._inner.item_diagnostics(
        subset,
        float(alpha),
        float(tolerance),
        int(max_iterations),
        None if previous is None else warm_solution(previous[1]),
    )
    table = pool.samples()
    indexes = result["samples"].astype(np.int64)
    return pa.table(
        {
            "sample_id": table.column("sample_id").take(indexes),
            "benchmark": table.column("benchmark").take(indexes),
            "metric": table.column("metric").take(indexes),
            "n_models": pa.array(result["n_models"], pa.uint32()),
            "difficulty": pa.array(result["difficulty"], pa.float64(), from_pandas=True),
            "discrimination": pa.array(result["discrimination"], pa.float64(), from_pandas=True),
            "discrimination_se": pa.array(
                result["discrimination_se"], pa.float64(), from_pandas=True
            ),
            "flagged": pa.array(result["flagged"], pa.bool_()),
        }
    )
