"""``onebench rank`` and ``onebench export``: a leaderboard, or Parquet files of the
measurements, on the whole pool or the samples of chosen benchmarks (``--benchmark``).

Separate from cli.py, which keeps the parser's skeleton and the one-line commands, as the
other ``_*_cli.py`` modules are. Each command returns ``(payload, text)``: the JSON
document for ``--json`` and the human text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._cli_benchmarks import benchmark_samples

__all__ = [
    "DEFAULT_METHOD",
    "add_export_arguments",
    "add_rank_arguments",
    "rank_methods",
    "run_export",
    "run_rank",
]

# onebench.ranking.DEFAULT_METHOD, which the parser cannot import without numpy (the
# help of `rank` and `query` names it); tests/test_startup.py checks that the two agree.
DEFAULT_METHOD = "joint"


def rank_methods() -> list[str]:
    """onebench.ranking.METHODS, from the Rust core directly: the core loads in a
    millisecond, onebench.ranking pulls in numpy."""
    from . import _core

    return _core.rank_dataset_methods()


def add_rank_arguments(parser: argparse.ArgumentParser) -> None:
    methods = rank_methods()
    parser.add_argument(
        "--method",
        default=DEFAULT_METHOD,
        choices=methods,
        help=f"(default {DEFAULT_METHOD}; onebench: ONEBench's estimator)",
    )
    parser.add_argument("--ci", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--bootstrap", type=int, default=0, help="bootstrap replicates (0: Fisher)")
    parser.add_argument(
        "--alpha",
        type=float,
        help="prior strength (default 0.1 for joint, 0.01 for onebench, 1 for the others)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--min-samples",
        type=int,
        default=1,
        metavar="N",
        help="leave out models measured on fewer than N of the samples (still fitted)",
    )
    parser.add_argument(
        "--form",
        default="auto",
        help="the joint model's form: auto (chosen by held-out measurements), core, full, "
        "or core+spreads, core+deviations, ... (default auto)",
    )
    parser.add_argument(
        "--benchmark", action="append", help="rank on this benchmark's samples (repeatable)"
    )


def run_rank(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from .pool import Pool

    pool = Pool.open(pool_path)
    samples = benchmark_samples(pool, args.benchmark)
    leaderboard = pool.rank(
        samples,
        method=args.method,
        ci=args.ci,
        bootstrap=args.bootstrap,
        alpha=args.alpha,
        seed=args.seed,
        min_samples=args.min_samples,
        form=args.form,
    )
    # Only the form that is printed.
    if args.json:
        return leaderboard.to_dict(), ""
    return {}, str(leaderboard)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--benchmark", action="append", help="only samples of this benchmark (repeatable)"
    )
    parser.add_argument(
        "--model", action="append", help="only measurements of this model (repeatable)"
    )
    parser.add_argument(
        "--kind",
        action="append",
        choices=["binary", "numeric", "pairwise", "ranking"],
        help="only this kind of measurement (repeatable)",
    )


def run_export(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from ._pool_reads import output_folder
    from .pool import Pool

    # Before the pool opens, and naming the option (Pool.export names its argument).
    output_folder(args.out, "--out", create=False)
    pool = Pool.open(pool_path)
    samples = benchmark_samples(pool, args.benchmark)
    paths = pool.export(args.out, samples, models=args.model, kinds=args.kind)
    payload = {name: str(path) for name, path in paths.items()}
    return payload, "\n".join(f"wrote {path}" for path in payload.values())
