"""Ranking speed, memory and accuracy: onebench side by side with its peers, in one run.

    python benches/rank_bench.py                 # every dataset (about 10 minutes on 2 cores)
    python benches/rank_bench.py --quick         # the 100 x 10k datasets only
    python benches/rank_bench.py --datasets dense-100x10k sparse-500x1M-95

For each dataset of ``_datasets.DATASETS`` every method runs once in a fresh process
(``_datasets.measure``): wall time, peak resident memory of the call, and Kendall tau of its
scores to the true order of the synthetic models. onebench runs from a pool on disk, so its time
includes opening the pool and building the sample index (``open+rank``); the peers get numpy
arrays already in memory. A peer that would need more than its time budget is stopped and shown
as ``timeout``. Bulk ingest (rows/s of ``Pool.add_measurements``) is measured on the largest
dataset. Figures go to stdout as a Markdown table for ``benches/README.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers
from _datasets import DATASETS, build_dataset, dataset_inputs, measure
from onebench import Pool
from onebench.metrics import kendall_tau

QUICK = ("dense-100x10k", "sparse-100x10k-95", "benchmarks-100x10k-90", "difficulty-100x10k-90")
LARGE = ("sparse-500x1M-95", "sparse-1000x1M-95")
# Peers expand every sample into its pairs in Python; on the 1M-sample sets that takes many
# minutes and tens of GB, so they get a budget and are reported as timeouts beyond it.
PEER_TIMEOUT_S = {"small": 180.0, "large": 60.0}


def write_pool(spec: str, path: str) -> int:
    """Writes the dataset into a new pool at ``path`` (run in its own process, so that the
    measured processes start clean); returns the number of measurements."""
    data = build_dataset(spec)
    pool = Pool.create(path)
    pool.add_samples(data.samples_frame())
    pool.add_models(data.model_ids)
    return pool.add_measurements(data.measurements_frame(), source="bench").added


def _open_inputs(path: str, method: str, interval: str) -> tuple[Pool, str, str]:
    """The pool opened, with its sample index built (by a mean ranking), so that only the
    fit is measured."""
    pool = Pool.open(path)
    pool.rank(method="mean", interval="none")
    return pool, method, interval


def onebench_rank(path: str, method: str, interval: str) -> np.ndarray:
    """Open the pool, rank; scores in model order (NaN for models that are not ranked)."""
    return onebench_fit(Pool.open(path), method, interval)


def onebench_fit(pool: Pool, method: str, interval: str) -> np.ndarray:
    """Rank an open pool; scores in model order (NaN for models that are not ranked)."""
    board = pool.rank(method=method, interval=interval)
    index = {model: i for i, model in enumerate(pool.model_ids())}
    scores = np.full(len(index), np.nan)
    for row in board:
        scores[index[row.model]] = row.score
    return scores


def _ingest_inputs(spec: str, folder: str) -> tuple[object, object]:
    data = build_dataset(spec)
    pool = Pool.create(Path(folder) / "pool")
    pool.add_samples(data.samples_frame())
    pool.add_models(data.model_ids)
    return pool, data.measurements_frame()


def ingest(pool: Pool, frame: object) -> int:
    """One ``add_measurements`` call of the whole frame; returns rows added."""
    return pool.add_measurements(frame, source="bench").added


def _tau(scores: np.ndarray, truth: np.ndarray) -> float:
    keep = np.isfinite(scores)
    if keep.sum() < 2:
        return float("nan")
    return float(kendall_tau(scores[keep], truth[keep]))


def _row(label: str, spec: str, what: str, result: object, truth: np.ndarray) -> list[str]:
    if isinstance(result, str):
        return [spec, label, what, result, "", "", ""]
    wall, peak, added, scores = result
    return [
        spec,
        label,
        what,
        f"{wall:.3f}",
        f"{peak / 2**20:.0f}",
        f"{added / 2**20:.0f}",
        f"{_tau(scores, truth):.3f}",
    ]


def _run(fn, make_inputs, *args: object, timeout: float | None = None):
    try:
        m = measure(fn, make_inputs, *args, timeout=timeout)
    except TimeoutError:
        return f"timeout (> {timeout:.0f} s)"
    except RuntimeError as error:
        return f"failed: {error}"[:80]
    return m.wall_s, m.peak_rss_bytes, m.added_rss_bytes, np.asarray(m.result, dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    # Every fit is timed or scored afresh: no answer kept in a pool by an earlier run.
    os.environ.setdefault("ONEBENCH_FITS", "off")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", help="names from benches/_datasets.py")
    parser.add_argument("--quick", action="store_true", help="only the 100 x 10k datasets")
    parser.add_argument("--no-ingest", action="store_true", help="skip the ingest measurement")
    arguments = parser.parse_args(argv)
    names = arguments.datasets or (list(QUICK) if arguments.quick else [*QUICK, *LARGE])
    print(
        f"# rank_bench on {os.cpu_count()} cores; peer budgets (s) {PEER_TIMEOUT_S}",
        file=sys.stderr,
    )
    header = [
        "dataset",
        "method",
        "what is timed",
        "time (s)",
        "peak RSS (MiB)",
        "added by the call (MiB)",
        "tau",
    ]
    rows: list[list[str]] = []
    ratios: list[str] = []
    for spec in names:
        truth = build_dataset(spec).true_strength
        print(f"# {spec} ({DATASETS[spec].n_models} models)", file=sys.stderr)
        ours = {}
        with tempfile.TemporaryDirectory(prefix="onebench-bench-") as folder:
            path = str(Path(folder) / "pool")
            measure(write_pool, None, spec, path)
            for method, interval, what, fn, make in (
                ("joint", "none", "rank", onebench_fit, _open_inputs),
                ("plackett-luce", "none", "rank", onebench_fit, _open_inputs),
                ("plackett-luce", "fisher", "rank + Fisher CI", onebench_fit, _open_inputs),
                ("plackett-luce", "none", "open pool + rank", onebench_rank, None),
                ("mean", "none", "open pool + rank", onebench_rank, None),
            ):
                result = _run(fn, make, path, method, interval)
                ours.setdefault((method, interval), result)
                rows.append(_row(f"onebench {method}", spec, what, result, truth))
        for name, peer in _peers.PEERS.items():
            budget = PEER_TIMEOUT_S["large" if DATASETS[spec].n_samples >= 1_000_000 else "small"]
            result = _run(peer, dataset_inputs, spec, timeout=budget)
            rows.append(_row(name, spec, "fit from arrays", result, truth))
            base = ours[("plackett-luce", "none")]
            if not isinstance(result, str) and not isinstance(base, str) and name != "mean_score":
                ratios.append(f"{spec}: {name} / onebench PL = {result[0] / base[0]:.0f}x time")
        print(rows[-1], file=sys.stderr)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for line in ratios:
        print(f"- {line}")
    if not arguments.no_ingest:
        spec = "sparse-1000x1M-95" if "sparse-1000x1M-95" in names else names[-1]
        with tempfile.TemporaryDirectory(prefix="onebench-ingest-") as folder:
            m = measure(ingest, _ingest_inputs, spec, folder)
        rate = m.result / m.wall_s / 1e6
        print(
            f"\ningest ({spec}): {m.result / 1e6:.1f}M measurements in {m.wall_s:.2f} s = "
            f"{rate:.1f}M rows/s, peak added {m.added_rss_bytes / 2**20:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
