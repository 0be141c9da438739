"""Ranking fidelity under sparsity: the joint model against Plackett-Luce, Bradley-Terry, mean.

For every cell (a way of thinning data) and seed, each method ranks the thinned data and is
scored by Kendall tau-b against the reference ranking:

* synthetic data (``onebench.synthetic.generate``, 100 models x 10,000 samples, half binary
  and half numeric): the true strengths; cells missing at random (0-99 %) and structured
  (``benchmarks``: models are run on benchmarks whose difficulty matches their strength;
  ``difficulty``: each sample has its own difficulty and models see the ones near their level);
* ``mmlu_pro`` and ``chembench_irt`` (``ONEBENCH_DATA``): the full-data ranking (per-model
  accuracy on all cells, the figure of the source's ``stats.json``); cells removed at random
  (50/90/95/99 %) and structured removal (mmlu_pro: each model keeps 3-7 of the 14 subject
  categories at random; chembench_irt: 2 of the 3 difficulty buckets at random; ``by
  strength``: weaker models keep easier groups, stronger ones harder), then random removal
  on top.

Samples carry their benchmark and their ``category`` / ``difficulty`` metadata, as
``onebench import`` of the source folder gives them; ``joint, benchmark only`` is the joint
model on the same cells with that metadata withheld. Models that thinning leaves without a
ranking count as tied at the bottom. The verdict asks of each cell what the issue asks:
joint >= best other - 0.01.

With ``--diagnostics`` it prints instead the precision and recall of the item diagnostics
flags on synthetic pools where 2% of the samples have every label flipped.

Run: ``ONEBENCH_DATA=../shared/data python benches/fidelity_bench.py [--seeds 5] [--json]``
and ``python benches/fidelity_bench.py --diagnostics --seeds 3``.
``tests/test_fidelity.py`` asserts the same thresholds on fewer cells and seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onebench
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ties import leaderboard_tau
from onebench.synthetic import generate

METHODS = ("joint", "plackett-luce", "bradley-terry", "mean")
VARIANT = "joint, benchmark only"
TOLERANCE = 0.01
# The samples.parquet column that structured removal keeps or drops whole.
GROUPS = {"mmlu_pro": "category", "chembench_irt": "difficulty"}


@dataclass(frozen=True)
class Cell:
    """One way of thinning data: ``source`` is "synthetic" or a folder of ONEBENCH_DATA."""

    source: str
    missing: float
    structure: str | None = None  # synthetic: generator structure; real: kept-groups scheme

    @property
    def label(self) -> str:
        structure = f", {self.structure}" if self.structure else ""
        return f"{self.source}{structure}, {self.missing:.0%} removed"


SYNTHETIC_CELLS = tuple(
    [Cell("synthetic", m) for m in (0.0, 0.5, 0.9, 0.95, 0.99)]
    + [Cell("synthetic", m, s) for s in ("benchmarks", "difficulty") for m in (0.5, 0.9)]
)
REAL_CELLS = tuple(
    cell
    for name in GROUPS
    for cell in [Cell(name, m) for m in (0.5, 0.9, 0.95, 0.99)]
    + [Cell(name, m, s) for s in ("random groups", "by strength") for m in (0.0, 0.5, 0.9)]
)


def data_dir() -> Path | None:
    value = os.environ.get("ONEBENCH_DATA")
    return Path(value) if value and Path(value).is_dir() else None


def _taus(pool: onebench.Pool, truth: dict[str, float], methods: Sequence[str]) -> dict[str, float]:
    return {
        method: leaderboard_tau(pool.rank(method=method, interval="none"), truth)
        for method in methods
    }


def _pool_taus(
    measurements: pd.DataFrame,
    samples: pd.DataFrame,
    truth: dict[str, float],
    methods: Sequence[str],
) -> dict[str, float]:
    """Ranks ``measurements`` (long format) in a fresh pool; tau per method over the models
    that kept at least one measurement."""
    measured = set(measurements["model"].astype(str).unique())
    truth = {model: value for model, value in truth.items() if model in measured}
    with tempfile.TemporaryDirectory() as folder:
        pool = onebench.Pool.create(Path(folder) / "pool")
        pool.add_measurements(
            measurements, samples=samples, models=sorted(measured), source="fidelity"
        )
        return _taus(pool, truth, methods)


def synthetic_taus(cell: Cell, seed: int, methods: Sequence[str] = METHODS) -> dict[str, float]:
    data = generate(100, 10_000, missing=cell.missing, structure=cell.structure, seed=seed)
    truth = dict(zip(data.model_ids, data.true_strength.tolist(), strict=True))
    return _pool_taus(data.measurements_frame(), data.samples_frame(), truth, methods)


def real_source(root: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Binary measurements (sample_id, model, score, group), samples with their benchmark
    and group metadata, and the full-data accuracies."""
    folder = root / name
    rows = pq.read_table(
        folder / "measurements.parquet", columns=["sample_id", "model", "score"]
    ).to_pandas()
    samples = pq.read_table(
        folder / "samples.parquet", columns=["sample_id", "benchmark", GROUPS[name]]
    ).to_pandas()
    rows = rows.merge(
        samples[["sample_id", GROUPS[name]]].rename(columns={GROUPS[name]: "group"}),
        on="sample_id",
    )
    truth = json.loads((folder / "stats.json").read_text())["accuracy_per_model"]
    return rows, samples, truth


def kept_groups(
    rows: pd.DataFrame, truth: dict[str, float], scheme: str, rng: np.random.Generator
) -> np.ndarray:
    """Mask of the rows each model keeps under a kept-groups scheme."""
    easiest_first = list(rows.groupby("group")["score"].mean().sort_values(ascending=False).index)
    count = len(easiest_first)
    weakest_first = sorted(truth, key=truth.__getitem__)
    keep: dict[str, set[str]] = {}
    for position, model in enumerate(weakest_first):
        if scheme == "random groups":
            # mmlu_pro: 3-7 of 14 categories (the setting); 3 buckets: 2 of them.
            width = int(rng.integers(3, 8)) if count > 7 else count - 1
            chosen = rng.choice(count, size=width, replace=False)
        elif scheme == "by strength":
            width = (count + 1) // 2
            tier = min(3 * position // len(weakest_first), 2)
            start = round(tier * (count - width) / 2)
            chosen = np.arange(start, start + width)
        else:
            raise ValueError(f"unknown scheme {scheme!r}")
        keep[model] = {easiest_first[index] for index in chosen}
    return np.array(
        [group in keep[model] for model, group in zip(rows["model"], rows["group"], strict=True)]
    )


def real_taus(
    cell: Cell,
    seed: int,
    source: tuple[pd.DataFrame, pd.DataFrame, dict[str, float]],
    methods: Sequence[str] = METHODS,
    variant: bool = True,
) -> dict[str, float]:
    rows, samples, truth = source
    rng = np.random.default_rng(seed)
    mask = np.ones(len(rows), dtype=bool)
    if cell.structure:
        mask &= kept_groups(rows, truth, cell.structure, rng)
    if cell.missing:
        mask &= rng.random(len(rows)) >= cell.missing
    kept = rows[mask]
    measurements = kept[["sample_id", "model", "score"]].assign(kind="binary")
    used = samples[samples["sample_id"].isin(kept["sample_id"].unique())]
    taus = _pool_taus(measurements, used, truth, methods)
    if variant:
        bare = used[["sample_id", "benchmark"]]
        taus[VARIANT] = _pool_taus(measurements, bare, truth, ["joint"])["joint"]
    return taus


def flipped_labels(missing: float, seed: int) -> tuple[float, float]:
    """Precision and recall of ``Pool.item_diagnostics`` flags when 2% of the binary
    samples of a synthetic pool (100 models x 5,000 samples) have every label flipped."""
    data = generate(100, 5_000, missing=missing, binary_fraction=1.0, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    flipped = set(rng.choice(5_000, size=100, replace=False).tolist())
    frame = data.measurements_frame()
    chosen = np.isin(data.sample, list(flipped))
    frame["score"] = np.where(chosen, 1.0 - data.value, data.value)
    with tempfile.TemporaryDirectory() as folder:
        pool = onebench.Pool.create(Path(folder) / "pool")
        pool.add_measurements(frame, samples=data.samples_frame(), models=data.model_ids)
        table = pool.item_diagnostics()
    index = {sample: position for position, sample in enumerate(data.sample_ids)}
    rows = zip(
        table.column("sample_id").to_pylist(), table.column("flagged").to_pylist(), strict=True
    )
    flagged = {index[sample] for sample, flag in rows if flag}
    found = len(flagged & flipped)
    return found / max(len(flagged), 1), found / len(flipped)


def render_diagnostics(seeds: int) -> str:
    lines = [
        "| missing | precision | recall |",
        "|---|---:|---:|",
    ]
    for missing in (0.0, 0.5, 0.9):
        runs = [flipped_labels(missing, seed) for seed in range(seeds)]
        precision, recall = np.mean(runs, axis=0)
        lines.append(f"| {missing:.0%} | {precision:.3f} | {recall:.3f} |")
    return "\n".join(lines)


def collect(seeds: int, cells: Sequence[Cell] | None = None) -> dict[Cell, list[dict[str, float]]]:
    root = data_dir()
    if cells is None:
        cells = SYNTHETIC_CELLS + (REAL_CELLS if root is not None else ())
    sources = {}
    results: dict[Cell, list[dict[str, float]]] = {}
    for cell in cells:
        if cell.source == "synthetic":
            results[cell] = [synthetic_taus(cell, seed) for seed in range(seeds)]
        else:
            if root is None:
                raise SystemExit("set ONEBENCH_DATA to the folder of real evaluation data")
            if cell.source not in sources:
                sources[cell.source] = real_source(root, cell.source)
            results[cell] = [real_taus(cell, seed, sources[cell.source]) for seed in range(seeds)]
        print(f"{cell.label}: done", file=sys.stderr, flush=True)
    return results


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Mean tau per method, and the margin of the joint model over the best other."""
    means = {method: float(np.mean([run[method] for run in runs])) for method in runs[0]}
    others = max(means[method] for method in METHODS if method != "joint")
    means["margin"] = means["joint"] - others
    return means


def render(results: dict[Cell, list[dict[str, float]]], seeds: int) -> str:
    columns = [*METHODS, VARIANT]
    header = "| cell | " + " | ".join(columns) + " | joint − best other |"
    lines = [header, "|---|" + "---:|" * (len(columns) + 1)]
    for cell, runs in results.items():
        row = summary(runs)
        values = []
        for method in columns:
            if method not in row:
                values.append("")
                continue
            spread = float(np.std([run[method] for run in runs]))
            text = f"{row[method]:.3f}" + (f" ± {spread:.3f}" if seeds > 1 else "")
            values.append(f"**{text}**" if method == "joint" else text)
        verdict = "" if row["margin"] >= -TOLERANCE else " ✗"
        lines.append(
            f"| {cell.label} | " + " | ".join(values) + f" | {row['margin']:+.3f}{verdict} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--diagnostics", action="store_true", help="only the flipped-label table (item flags)"
    )
    args = parser.parse_args(argv)
    if args.diagnostics:
        print(render_diagnostics(args.seeds))
        return 0
    results = collect(args.seeds)
    if args.json:
        payload = [
            {"cell": cell.label, "runs": runs, "summary": summary(runs)}
            for cell, runs in results.items()
        ]
        print(json.dumps(payload, indent=2))
    else:
        print(render(results, args.seeds))
    failed = [cell.label for cell, runs in results.items() if summary(runs)["margin"] < -TOLERANCE]
    if failed:
        print("joint below best other - 0.01 in: " + "; ".join(failed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
