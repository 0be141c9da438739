"""``onebench samples``: the pool's samples with their item diagnostics."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ._cli_benchmarks import benchmark_samples

__all__ = ["add_samples_arguments", "run_samples"]


def add_samples_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flagged",
        action="store_true",
        help="only samples that look broken (strong models fail where weak ones pass)",
    )
    parser.add_argument(
        "--benchmark", action="append", help="only this benchmark's samples (repeatable)"
    )
    parser.add_argument("--limit", type=int, default=50, help="rows to show (0: all; default 50)")
    parser.add_argument(
        "--alpha", type=float, help="skill prior strength (default 0.1, as for rank)"
    )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def run_samples(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from ._table import format_table
    from .exceptions import InvalidInputError
    from .pool import Pool

    if args.limit < 0:
        raise InvalidInputError(
            f"--limit: must be 0 (all rows) or more, got {args.limit}", field="limit"
        )
    pool = Pool.open(pool_path)
    samples = benchmark_samples(pool, args.benchmark)
    rows = pool.item_diagnostics(samples, alpha=args.alpha).to_pylist()
    total = len(rows)
    if args.flagged:
        # Most clearly reversed first.
        rows = sorted(
            (row for row in rows if row["flagged"]),
            key=lambda row: row["discrimination"] / max(row["discrimination_se"], 1e-12),
        )
    shown = rows if args.limit == 0 else rows[: args.limit]
    payload: dict[str, Any] = {
        "samples": total,
        "flagged": sum(1 for row in rows if row["flagged"]),
        "rows": [
            {
                key: _number(value) if isinstance(value, float) else value
                for key, value in row.items()
            }
            for row in shown
        ],
    }

    def cell(value: float | None, digits: int = 2) -> str:
        # Samples no ranked model has a binary or numeric measurement of come back null.
        return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"

    body = [
        [
            row["sample_id"],
            row["benchmark"],
            str(row["n_models"]),
            cell(row["difficulty"]),
            cell(row["discrimination"]),
            cell(row["discrimination_se"]),
            "yes" if row["flagged"] else "",
        ]
        for row in shown
    ]
    header = ["sample", "benchmark", "models", "difficulty", "discrim.", "se", "flagged"]
    lines = []
    if args.flagged:
        lines.append(
            f"{len(rows)} of {total} samples flagged: discrimination below 0 at the one-sided "
            "95% level (strong models fail where weak ones pass; check the reference answer)"
        )
    lines.append(format_table(header, body, align="llrrrrl"))
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more (--limit 0 shows all)")
    return payload, "\n".join(lines)
