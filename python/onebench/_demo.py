"""``onebench demo``: a synthetic pool, its leaderboard, and how the ranking holds up
as measurements go missing (at random, and in the structured way real pools are sparse)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from ._table import format_table
from .metrics import kendall_tau
from .pool import Pool
from .synthetic import SyntheticData, generate

__all__ = ["run_demo"]

_MISSING = (0.0, 0.5, 0.9, 0.95, 0.99)
_METHODS = ("joint", "plackett-luce", "mean")


def _load(data: SyntheticData, path: Path) -> Pool:
    pool = Pool.create(path)
    pool.add_samples(data.samples_frame())
    pool.add_models(data.model_ids)
    frame = data.measurements_frame()
    for kind, higher in (("binary", True), ("numeric", True)):
        part = frame[frame["kind"] == kind]
        if len(part):
            pool.add_measurements(part, kind=kind, higher_is_better=higher, source="synthetic")
    return pool


def _taus(pool: Pool, data: SyntheticData) -> dict[str, float]:
    truth = dict(zip(data.model_ids, data.true_strength, strict=True))
    taus = {}
    for method in _METHODS:
        board = pool.rank(method=method, interval="none")
        scores = [row.score for row in board]
        # Too sparse to link two models: there is no order to compare.
        taus[method] = (
            float(kendall_tau(scores, [truth[row.model] for row in board]))
            if len(board) >= 2
            else float("nan")
        )
    return taus


def run_demo(
    n_models: int = 40, n_samples: int = 5000, seed: int = 0, keep: str | None = None
) -> tuple[dict[str, Any], str]:
    """Runs the demo; returns (JSON payload, text for the terminal)."""
    with tempfile.TemporaryDirectory(prefix="onebench-demo-") as scratch:
        root = Path(keep) if keep else Path(scratch)
        started = time.perf_counter()
        dense = generate(n_models, n_samples, seed=seed)
        pool = _load(dense, root / "dense")
        leaderboard = pool.rank()
        rows: list[dict[str, Any]] = []  # JSON rows: a label, a fraction and the taus
        for structure in (None, "benchmarks"):
            for missing in _MISSING:
                data = generate(
                    n_models, n_samples, missing=missing, structure=structure, seed=seed
                )
                label = f"{structure or 'random'}-{missing:g}"
                taus = _taus(_load(data, root / label), data)
                rows.append({"missingness": structure or "random", "missing": missing, **taus})
        elapsed = time.perf_counter() - started
    payload = {
        "leaderboard": leaderboard.to_dict(),
        "robustness": rows,
        "seconds": round(elapsed, 2),
    }
    table = format_table(
        ["missingness", "missing", *(f"tau {method}" for method in _METHODS)],
        [
            [
                row["missingness"],
                f"{row['missing']:.0%}",
                *(f"{row[method]:.3f}" for method in _METHODS),
            ]
            for row in rows
        ],
        "lr" + "r" * len(_METHODS),
    )
    top = "\n".join(str(leaderboard).splitlines()[:12])
    text = "\n".join(
        [
            f"onebench demo: {n_models} synthetic models x {n_samples:,} samples "
            "(half binary, half numeric)",
            "",
            top,
            f"  ... {len(leaderboard)} models in all",
            "",
            "Kendall tau to the true order as measurements go missing:",
            table,
            "",
            "'benchmarks': models measured only on some benchmarks of different difficulty, where",
            "a plain mean rewards whoever got the easy ones. Plackett-Luce compares models only",
            "within samples, so it is not fooled, but learns nothing from a sample that holds one",
            "model (99% missing). The joint model (the default) fits one skill per model and a",
            "difficulty per sample to every measurement, so it handles both.",
            f"({elapsed:.1f} s)",
        ]
    )
    return payload, text
