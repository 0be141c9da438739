"""How many passes the joint model's fit takes, over synthetic data of every kind of
missingness, with Plackett–Luce's passes beside it.

ONEBench's generator (``onebench.synthetic.generate``), 100 models × 5,000 samples, for
each cell of the grid (structure of the missingness, share of binary samples, share
missing) over ``--seeds`` seeds: the median and largest number of passes over the data
(the unit of a fit's cost), how many fits stopped at the 10,000-pass limit unconverged,
Kendall tau-b against the true skills, and the cell's total fit time. The stopping rule is
the default tolerance (1e-8 on the largest change of a pass).

Run: ``python benches/convergence_bench.py [--seeds 16] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onebench
from onebench.metrics import kendall_tau
from onebench.synthetic import generate

#: (structure, binary fraction, missing share) cells.
CELLS: tuple[tuple[str | None, float, float], ...] = (
    ("benchmarks", 1.0, 0.9),
    ("benchmarks", 0.5, 0.9),
    ("benchmarks", 1.0, 0.5),
    ("difficulty", 1.0, 0.9),
    (None, 1.0, 0.95),
    (None, 0.5, 0.5),
)
METHODS = ("joint", "plackett-luce")


def cell_runs(cell: tuple[str | None, float, float], seeds: int) -> dict[str, dict[str, float]]:
    structure, binary_fraction, missing = cell
    runs: dict[str, dict[str, list[float]]] = {
        method: {"passes": [], "unconverged": [], "tau": [], "seconds": []} for method in METHODS
    }
    for seed in range(seeds):
        data = generate(
            100,
            5_000,
            missing=missing,
            structure=structure,
            binary_fraction=binary_fraction,
            seed=seed,
        )
        with tempfile.TemporaryDirectory() as folder:
            pool = onebench.Pool.create(Path(folder) / "pool")
            pool.add_measurements(
                data.measurements_frame(),
                samples=data.samples_frame(),
                models=list(data.model_ids),
                source="convergence",
            )
            for method in METHODS:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    # An unconverged fit warns; here it is counted instead.
                    warnings.simplefilter("ignore")
                    board = pool.rank(method=method, interval="none")
                seconds = time.perf_counter() - start
                scores = {row.model: row.score for row in board.rows}
                run = runs[method]
                run["passes"].append(board.iterations)
                run["unconverged"].append(0.0 if board.converged else 1.0)
                run["tau"].append(
                    kendall_tau([scores[m] for m in data.model_ids], data.true_strength)
                )
                run["seconds"].append(seconds)
    return {
        method: {
            "median_passes": float(np.median(run["passes"])),
            "max_passes": float(np.max(run["passes"])),
            "unconverged": float(np.sum(run["unconverged"])),
            "tau": float(np.mean(run["tau"])),
            "seconds": float(np.sum(run["seconds"])),
        }
        for method, run in runs.items()
    }


def label(cell: tuple[str | None, float, float]) -> str:
    structure, binary_fraction, missing = cell
    return f"{structure or 'random'}, {binary_fraction:.0%} binary, {missing:.0%} missing"


def main(argv: Sequence[str] | None = None) -> int:
    # Every fit is timed or scored afresh: no answer kept in a pool by an earlier run.
    os.environ.setdefault("ONEBENCH_FITS", "off")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args(argv)
    results = {label(cell): cell_runs(cell, arguments.seeds) for cell in CELLS}
    if arguments.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{arguments.seeds} seeds, 100 models x 5,000 samples\n")
    print(
        "| cell | joint passes: median / max | unconverged | tau | seconds "
        "| plackett-luce passes: median / max | seconds |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, figures in results.items():
        joint, plackett_luce = figures["joint"], figures["plackett-luce"]
        print(
            f"| {name} | {joint['median_passes']:.0f} / {joint['max_passes']:.0f} "
            f"| {joint['unconverged']:.0f} | {joint['tau']:.3f} | {joint['seconds']:.1f} "
            f"| {plackett_luce['median_passes']:.0f} / {plackett_luce['max_passes']:.0f} "
            f"| {plackett_luce['seconds']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
