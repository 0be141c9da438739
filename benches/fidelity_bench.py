"""Ranking fidelity under sparsity: the joint model against ONEBench's estimator, the mean
and a plain Rasch reference, and a leave-one-data-set-out check of the design choices.

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
  on top (0/50/90 %).

Columns: ``joint`` (``Pool.rank`` default, ``form="auto"``; the form it chose is listed),
``onebench`` (ONEBench's published estimator, choix ``ilsr_top1``, alpha 0.01: the
"Plackett-Luce" of the issue's verdict), ``plackett-luce`` (tied groups), ``mean``, ``rasch
reference`` (``_reference.py``, independent of the Rust code, given the same strata as the
joint model), ``joint, benchmark only`` and ``rasch, benchmark only`` (the same with the
samples' ``category`` / ``difficulty`` metadata withheld). Models
that thinning leaves without a ranking count as tied at the bottom. The verdict asks of each
cell what issue 20 asks: joint >= max(mean, onebench, rasch reference) - 0.01.

Leave one data set out (LODO): for each design choice (the joint ``form``, onebench's
``alpha``, the strata metadata) and each of the three data sets, the value with the best mean
tau over the other two sets is the one chosen; its tau on the held-out set stands beside the
held-out set's best value and the default's.

With ``--diagnostics`` it prints instead the precision and recall of the item diagnostics
flags on synthetic pools where 2% of the samples have every label flipped.

Run: ``ONEBENCH_DATA=../shared/data python benches/fidelity_bench.py [--quick] [--seeds 5]
[--json]`` and ``python benches/fidelity_bench.py --diagnostics --seeds 3``.
``tests/test_fidelity.py`` asserts the same verdict on fewer cells and seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onebench
import pandas as pd
import pyarrow.parquet as pq
from onebench.metrics import kendall_tau

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _reference import rasch_scores
from _ties import leaderboard_tau, merge_ties
from onebench.synthetic import generate

RASCH = "rasch reference"
RASCH_BARE = "rasch, benchmark only"
VARIANT = "joint, benchmark only"
TOLERANCE = 0.01
# Issue 20: joint >= the best of these - TOLERANCE.
COMPARED = ("onebench", "mean", RASCH)
COLUMNS = ("joint", "onebench", "plackett-luce", "mean", RASCH, VARIANT, RASCH_BARE)
FORMS = ("auto", "core", "core+spreads", "core+deviations", "core+measurer", "full")
ALPHAS = (0.01, 0.1, 1.0)

# Every arm ranked on a pool: its name, the method and the keyword arguments of Pool.rank.
ARMS: dict[str, tuple[str, dict]] = {
    "joint": ("joint", {}),
    **{f"joint, form={form}": ("joint", {"form": form}) for form in FORMS[1:]},
    "onebench": ("onebench", {}),
    **{f"onebench, alpha={alpha:g}": ("onebench", {"alpha": alpha}) for alpha in ALPHAS[1:]},
    "plackett-luce": ("plackett-luce", {}),
    "mean": ("mean", {}),
}
VERDICT_ARMS = ("joint", *COMPARED)
ALL_ARMS = (*ARMS, RASCH, VARIANT, RASCH_BARE)

# The design choices of the LODO check: value -> arm, and the default value.
CHOICES: dict[str, tuple[dict[str, str], str]] = {
    "joint form": (
        {form: "joint" if form == "auto" else f"joint, form={form}" for form in FORMS},
        "auto",
    ),
    "onebench alpha": (
        {
            f"{alpha:g}": "onebench" if alpha == 0.01 else f"onebench, alpha={alpha:g}"
            for alpha in ALPHAS
        },
        "0.01",
    ),
    "sample strata": ({"used": "joint", "withheld": VARIANT}, "used"),
}
DATA_SETS = ("synthetic", "mmlu_pro", "chembench_irt")
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

    @property
    def deterministic(self) -> bool:
        """Real data kept by strength with nothing removed at random: every seed is alike."""
        return self.structure == "by strength" and not self.missing


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
QUICK_CELLS = (
    Cell("synthetic", 0.9),
    Cell("synthetic", 0.9, "benchmarks"),
    Cell("mmlu_pro", 0.95),
    Cell("mmlu_pro", 0.5, "by strength"),
    Cell("chembench_irt", 0.9),
    Cell("chembench_irt", 0.5, "random groups"),
)


def data_dir() -> Path | None:
    value = os.environ.get("ONEBENCH_DATA")
    return Path(value) if value and Path(value).is_dir() else None


def scores_tau(scores: Mapping[str, float], truth: Mapping[str, float]) -> float:
    """Tau-b of a score per model, as ``_ties.leaderboard_tau`` counts a leaderboard: models
    without a score tied at the bottom, scores within rounding tied."""
    floor = min(scores.values(), default=0.0) - 1.0
    models = sorted(truth)
    values = merge_ties(np.array([scores.get(model, floor) for model in models]))
    return kendall_tau(values, [truth[model] for model in models])


def _pool_taus(
    measurements: pd.DataFrame,
    samples: pd.DataFrame,
    truth: dict[str, float],
    arms: Sequence[str],
) -> tuple[dict[str, float], str | None]:
    """Ranks ``measurements`` (long format) in a fresh pool by each arm of ``ARMS`` and the
    Rasch reference; tau over the models that kept at least one measurement, and the form
    ``joint`` chose."""
    measured = set(measurements["model"].astype(str).unique())
    truth = {model: value for model, value in truth.items() if model in measured}
    taus: dict[str, float] = {}
    form = None
    with tempfile.TemporaryDirectory() as folder:
        pool = onebench.Pool.create(Path(folder) / "pool")
        pool.add_measurements(
            measurements, samples=samples, models=sorted(measured), source="fidelity"
        )
        for arm in arms:
            if arm in ARMS:
                method, options = ARMS[arm]
                board = pool.rank(method=method, interval="none", **options)
                taus[arm] = leaderboard_tau(board, truth)
                if arm == "joint":
                    form = board.model_form.name
    if RASCH in arms:
        taus[RASCH] = scores_tau(rasch_scores(measurements, samples), truth)
    if RASCH_BARE in arms:
        bare = samples[["sample_id", "benchmark"]]
        same = len(bare.columns) == len(samples.columns) and RASCH in taus
        # Without strata metadata the two are one fit.
        taus[RASCH_BARE] = (
            taus[RASCH] if same else scores_tau(rasch_scores(measurements, bare), truth)
        )
    return taus, form


def synthetic_taus(
    cell: Cell, seed: int, arms: Sequence[str] = ALL_ARMS
) -> tuple[dict[str, float], str | None]:
    data = generate(100, 10_000, missing=cell.missing, structure=cell.structure, seed=seed)
    truth = dict(zip(data.model_ids, data.true_strength.tolist(), strict=True))
    taus, form = _pool_taus(data.measurements_frame(), data.samples_frame(), truth, arms)
    if VARIANT in arms:
        # Synthetic samples carry only their benchmark: withholding the strata metadata
        # leaves the same pool, so the same fit.
        taus[VARIANT] = taus["joint"]
    return taus, form


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
    keep = np.zeros((len(weakest_first), count), dtype=bool)
    for position in range(len(weakest_first)):
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
        keep[position, chosen] = True
    model = pd.Index(weakest_first).get_indexer(rows["model"])
    group = pd.Index(easiest_first).get_indexer(rows["group"])
    if (model < 0).any() or (group < 0).any():
        raise ValueError("a row's model has no reference accuracy")
    return keep[model, group]


def real_taus(
    cell: Cell,
    seed: int,
    source: tuple[pd.DataFrame, pd.DataFrame, dict[str, float]],
    arms: Sequence[str] = ALL_ARMS,
) -> tuple[dict[str, float], str | None]:
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
    taus, form = _pool_taus(measurements, used, truth, arms)
    if VARIANT in arms:
        bare = used[["sample_id", "benchmark"]]
        taus[VARIANT] = _pool_taus(measurements, bare, truth, ["joint"])[0]["joint"]
    return taus, form


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


Run = dict[str, float]


def cell_runs(
    cell: Cell, seeds: int, sources: dict, arms: Sequence[str] = ALL_ARMS
) -> tuple[list[Run], list[str | None]]:
    """Taus per seed of one cell, and the form ``joint`` chose in each."""
    runs, forms = [], []
    for seed in range(seeds):
        if cell.deterministic and seed:
            # The same data as seed 0, and every fit is deterministic.
            runs.append(runs[0])
            forms.append(forms[0])
            continue
        if cell.source == "synthetic":
            taus, form = synthetic_taus(cell, seed, arms)
        else:
            taus, form = real_taus(cell, seed, sources[cell.source], arms)
        runs.append(taus)
        forms.append(form)
    return runs, forms


def collect(
    seeds: int, cells: Sequence[Cell] | None = None
) -> dict[Cell, tuple[list[Run], list[str | None]]]:
    root = data_dir()
    if cells is None:
        cells = SYNTHETIC_CELLS + (REAL_CELLS if root is not None else ())
    sources = {}
    results = {}
    for cell in cells:
        started = time.perf_counter()
        if cell.source != "synthetic" and cell.source not in sources:
            if root is None:
                raise SystemExit("set ONEBENCH_DATA to the folder of real evaluation data")
            sources[cell.source] = real_source(root, cell.source)
        results[cell] = cell_runs(cell, seeds, sources)
        elapsed = time.perf_counter() - started
        print(f"{cell.label}: done in {elapsed:.0f} s", file=sys.stderr, flush=True)
    return results


def summary(runs: list[Run]) -> dict[str, float]:
    """Mean tau per arm, and the margin of the joint model over the best compared one."""
    means = {arm: float(np.mean([run[arm] for run in runs])) for arm in runs[0]}
    means["margin"] = means["joint"] - max(means[arm] for arm in COMPARED)
    return means


def _forms(forms: list[str | None]) -> str:
    counts = Counter(forms)
    return ", ".join(f"{form} ×{n}" if len(forms) > 1 else str(form) for form, n in counts.items())


def render(results: dict, seeds: int) -> str:
    header = "| cell | " + " | ".join(COLUMNS) + " | form chosen | joint − best of compared |"
    lines = [header, "|---|" + "---:|" * len(COLUMNS) + "---|---:|"]
    for cell, (runs, forms) in results.items():
        row = summary(runs)
        values = []
        for arm in COLUMNS:
            spread = float(np.std([run[arm] for run in runs]))
            text = f"{row[arm]:.3f}" + (f" ± {spread:.3f}" if seeds > 1 else "")
            values.append(f"**{text}**" if arm == "joint" else text)
        verdict = "" if row["margin"] >= -TOLERANCE else " ✗"
        lines.append(
            f"| {cell.label} | "
            + " | ".join(values)
            + f" | {_forms(forms)} | {row['margin']:+.3f}{verdict} |"
        )
    return "\n".join(lines)


def set_means(results: dict) -> dict[str, dict[str, float]]:
    """Mean tau per data set and arm, over the set's cells and seeds (each cell alike)."""
    per_set: dict[str, dict[str, list[float]]] = {}
    for cell, (runs, _) in results.items():
        means = summary(runs)
        for arm in ALL_ARMS:
            per_set.setdefault(cell.source, {}).setdefault(arm, []).append(means[arm])
    return {
        name: {arm: float(np.mean(v)) for arm, v in arms.items()} for name, arms in per_set.items()
    }


def lodo(results: dict) -> list[dict]:
    """For each choice and held-out set: the value best on the other sets (by the mean of
    their mean taus, each set weighed alike), its held-out tau, the held-out best, the default."""
    means = set_means(results)
    sets = [name for name in DATA_SETS if name in means]
    rows = []
    for choice, (values, default) in CHOICES.items():
        for held in sets:
            others = [name for name in sets if name != held]
            if not others:
                continue
            score = {v: np.mean([means[o][arm] for o in others]) for v, arm in values.items()}
            chosen = max(score, key=score.__getitem__)
            best = max(values, key=lambda v: means[held][values[v]])
            rows.append(
                {
                    "choice": choice,
                    "held_out": held,
                    "chosen": chosen,
                    "chosen_on_others": float(score[chosen]),
                    "tau": means[held][values[chosen]],
                    "best": best,
                    "best_tau": means[held][values[best]],
                    "default": default,
                    "default_tau": means[held][values[default]],
                }
            )
    return rows


def render_lodo(results: dict) -> str:
    means = set_means(results)
    sets = [name for name in DATA_SETS if name in means]
    lines = ["| choice | value | " + " | ".join(sets) + " |", "|---|---|" + "---:|" * len(sets)]
    for choice, (values, default) in CHOICES.items():
        for value, arm in values.items():
            mark = " (default)" if value == default else ""
            cells = " | ".join(f"{means[name][arm]:.4f}" for name in sets)
            lines.append(f"| {choice} | {value}{mark} | {cells} |")
    lines += [
        "",
        "| choice | held out | chosen on the others | its tau on held-out | best on held-out"
        " | default's tau | regret |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    for row in lodo(results):
        lines.append(
            f"| {row['choice']} | {row['held_out']} | {row['chosen']} | {row['tau']:.4f} | "
            f"{row['best']} ({row['best_tau']:.4f}) | {row['default_tau']:.4f} | "
            f"{row['best_tau'] - row['tau']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    # Every fit is timed or scored afresh: no answer kept in a pool by an earlier run.
    os.environ.setdefault("ONEBENCH_FITS", "off")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="six cells, one seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--save", type=Path, help="also write the JSON to this file")
    parser.add_argument(
        "--diagnostics", action="store_true", help="only the flipped-label table (item flags)"
    )
    args = parser.parse_args(argv)
    if args.diagnostics:
        print(render_diagnostics(args.seeds))
        return 0
    started = time.perf_counter()
    if args.quick:
        root = data_dir()
        cells = [c for c in QUICK_CELLS if c.source == "synthetic" or root is not None]
        seeds = 1
    else:
        cells, seeds = None, args.seeds
    results = collect(seeds, cells)
    payload = {
        "cells": [
            {"cell": cell.label, "runs": runs, "forms": forms, "summary": summary(runs)}
            for cell, (runs, forms) in results.items()
        ],
        "set_means": set_means(results),
        "lodo": lodo(results),
    }
    if args.save:
        args.save.write_text(json.dumps(payload, indent=2))
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(render(results, seeds))
        print()
        print(render_lodo(results))
    failed = [
        f"{cell.label} ({summary(runs)['margin']:+.3f})"
        for cell, (runs, _) in results.items()
        if summary(runs)["margin"] < -TOLERANCE
    ]
    print(f"{len(failed)} of {len(results)} cells fail the verdict", file=sys.stderr)
    if failed:
        print(
            "joint below max(mean, onebench, rasch) - 0.01 in: " + "; ".join(failed),
            file=sys.stderr,
        )
    print(f"took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
