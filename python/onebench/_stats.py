"""``onebench stats``: what a pool holds, by benchmark and kind."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow.compute as pc

from ._table import format_table
from .pool import Pool

__all__ = ["pool_summary", "summary_text"]


def pool_summary(pool: Pool) -> dict[str, Any]:
    stats = pool.stats()
    samples = pool.samples()
    benchmarks = samples.column("benchmark").to_numpy(zero_copy_only=False)
    names: Iterable[Any]
    sample_counts: Iterable[Any]
    names, sample_counts = (
        np.unique(benchmarks, return_counts=True) if len(benchmarks) else ([], [])
    )
    core = pool._inner
    measured = np.zeros(len(benchmarks), dtype=np.int64)
    cardinal_samples, _, _, _ = core.cardinal_rows()
    pairwise_samples = core.pairwise_rows()[0]
    ranking_samples = core.ranking_rows()[0]
    for rows in (cardinal_samples, pairwise_samples, ranking_samples):
        if len(rows):
            measured += np.bincount(rows, minlength=len(benchmarks))
    per_benchmark = {}
    for name, count in zip(names, sample_counts, strict=True):
        mask = benchmarks == name
        per_benchmark[str(name)] = {
            "samples": int(count),
            "measurements": int(measured[mask].sum()),
        }
    metrics = samples.column("metric")
    kinds = pc.value_counts(metrics.drop_null()).to_pylist() if len(metrics) else []
    cells = stats.samples * stats.models
    return {
        "path": stats.path,
        "version": stats.version,
        "samples": stats.samples,
        "models": stats.models,
        "measurements": {
            "cardinal": stats.cardinal,
            "pairwise": stats.pairwise,
            "rankings": stats.rankings,
            "total": stats.measurements,
        },
        "sample_metrics": {entry["values"]: entry["counts"] for entry in kinds},
        "cardinal_density": stats.cardinal / cells if cells else 0.0,
        "benchmarks": per_benchmark,
        "segments": stats.segments,
        "bytes_on_disk": stats.bytes_on_disk,
    }


def summary_text(summary: dict[str, Any]) -> str:
    counts = summary["measurements"]
    lines = [
        f"pool {summary['path']} (version {summary['version']})",
        f"  samples: {summary['samples']:,}   models: {summary['models']:,}",
        f"  measurements: {counts['total']:,} (cardinal {counts['cardinal']:,}, "
        f"pairwise {counts['pairwise']:,}, rankings {counts['rankings']:,})",
        f"  cardinal density: {summary['cardinal_density']:.2%}   "
        f"on disk: {summary['bytes_on_disk'] / 1e6:.1f} MB in {summary['segments']} segments",
    ]
    if summary["benchmarks"]:
        rows = [
            [name, f"{entry['samples']:,}", f"{entry['measurements']:,}"]
            for name, entry in sorted(summary["benchmarks"].items())
        ]
        lines += ["", format_table(["benchmark", "samples", "measurements"], rows, "lrr")]
    return "\n".join(lines)
