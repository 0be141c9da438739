"""Calibration of the 95% intervals on thinned real data (issue 20, item 5).

Each data set of ``ONEBENCH_DATA`` (mmlu_pro and chembench_irt: binary; arena_bench_v1:
numeric GPT-4 grades 1-10) is thinned by each regime and seed, and every estimator ranks
what is left. Regimes: ``random 95%`` / ``random 99%`` (cells removed at random),
``structured`` (each model keeps 3-7 of the groups at random, ``fidelity_bench.kept_groups``
"random groups": mmlu_pro's 14 categories, chembench_irt 2 of its 3 difficulty buckets,
arena_bench_v1, which has no metadata, 10 blocks of questions in sample-id order, i.e. at
random), and ``structured + 80%`` (then 80% of the rest removed at random).

Definitions:

* truth = the full data. True rank: the model's rank by full-data accuracy (arena: mean
  grade), the figures of ``stats.json``, among the models the estimator ranked; tied models
  hold the range of their tied ranks, and a rank range is covered if it meets that range.
* rank coverage: fraction of (model, seed) pairs with rank_low <= true rank <= rank_high.
* score coverage: fraction with ci_low <= truth score <= ci_high, where the truth score is
  the same method's point score fitted on the full data (mean: the full-data accuracy).
  joint, plackett-luce and onebench report scores centred (mean zero over the ranked
  models), so the full-data scores are re-centred over the models the thinned fit ranked;
  the mean is on the data's scale and needs no alignment.
* widths: rank width = rank_high - rank_low (0 is a single rank); score width = ci_high -
  ci_low, also divided by the standard deviation over models of the method's full-data
  scores (``÷sd``, so that methods on different scales compare), and both as ratios to
  Plackett-Luce's bootstrap (``×PL``) and ONEBench's bootstrap (``×OB``) in the same cell.
* scale: the least-squares slope of the thinned fit's point scores on the aligned
  full-data scores, pooled over models and seeds; away from 1, thinning changed what the
  method's score measures, and a score interval cannot cover the full-data score however
  honest it is about the thinned data.
* missing: pairs where the estimator gave no interval (a model it did not rank, a NaN ci,
  or an unknown rank range); counted apart, left out of the coverage and widths, never
  silently dropped. ``n`` counts every pair.

Estimators: the default joint model with Fisher and with bootstrap intervals,
Plackett-Luce and ONEBench's estimator (both kinds), and the mean: the library's own
(``interval="fisher"``: Agresti-Coull for scores in [0, 1], the normal interval otherwise,
rank ranges simulated from it), its bootstrap, and a reference computed here from the
thinned data (Wilson; for the numeric arena grades the normal interval mean ± z·sd/√n,
missing for n < 2) with rank ranges read off overlapping intervals (LMArena's rule).
Target: coverage in [0.90, 0.98] (``✗`` marks a miss).

Run: ``ONEBENCH_DATA=../shared/data python benches/calibration_bench.py [--seeds 5]
[--bootstrap 100] [--json] [--quick]`` (``--quick``: chembench_irt, random 95%, 1 seed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onebench
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fidelity_bench import data_dir, kept_groups, real_source

SOURCES = ("mmlu_pro", "chembench_irt", "arena_bench_v1")
TARGET = (0.90, 0.98)
CI = 0.95
Z = 1.959963984540054  # the normal quantile of 0.975
ARENA_BLOCKS = 10


@dataclass(frozen=True)
class Regime:
    name: str
    missing: float
    structure: str | None = None


REGIMES = (
    Regime("random 95%", 0.95),
    Regime("random 99%", 0.99),
    Regime("structured", 0.0, "random groups"),
    Regime("structured + 80%", 0.8, "random groups"),
)
# (label, method, interval); interval "binomial" is computed here, not by the library.
ESTIMATORS = (
    ("joint, fisher", "joint", "fisher"),
    ("joint, bootstrap", "joint", "bootstrap"),
    ("plackett-luce, fisher", "plackett-luce", "fisher"),
    ("plackett-luce, bootstrap", "plackett-luce", "bootstrap"),
    ("onebench, fisher", "onebench", "fisher"),
    ("onebench, bootstrap", "onebench", "bootstrap"),
    ("mean, library (Agresti-Coull)", "mean", "fisher"),
    ("mean, bootstrap", "mean", "bootstrap"),
    ("mean, binomial", "mean", "binomial"),
)
CENTRED = {"joint", "plackett-luce", "onebench"}
PL_BOOT, OB_BOOT = "plackett-luce, bootstrap", "onebench, bootstrap"


@dataclass
class Source:
    """Measurements (sample_id, model, score, group), samples, full-data truth, kind."""

    name: str
    rows: pd.DataFrame
    samples: pd.DataFrame
    truth: dict[str, float]
    kind: str
    full: dict[str, dict[str, float]] | None = None  # method -> full-data point scores


def load(root: Path, name: str) -> Source:
    if name != "arena_bench_v1":
        return Source(name, *real_source(root, name), kind="binary")
    folder = root / name
    rows = pq.read_table(
        folder / "measurements.parquet", columns=["sample_id", "model", "score"]
    ).to_pandas()
    samples = pq.read_table(folder / "samples.parquet", columns=["sample_id", "benchmark"])
    samples = samples.to_pandas().sort_values("sample_id", ignore_index=True)
    blocks = np.arange(len(samples)) * ARENA_BLOCKS // len(samples)
    groups = dict(zip(samples["sample_id"], (f"block {b}" for b in blocks), strict=True))
    rows["group"] = rows["sample_id"].map(groups)
    truth = json.loads((folder / "stats.json").read_text())["mean_score_per_model"]
    return Source(name, rows, samples, truth, kind="numeric")


def _pool(folder: Path, source: Source, rows: pd.DataFrame) -> onebench.Pool:
    pool = onebench.Pool.create(folder)
    measurements = rows[["sample_id", "model", "score"]].assign(kind=source.kind)
    used = source.samples[source.samples["sample_id"].isin(rows["sample_id"].unique())]
    models = sorted(rows["model"].astype(str).unique())
    pool.add_measurements(measurements, samples=used, models=models, source="calibration")
    return pool


def full_scores(source: Source) -> dict[str, dict[str, float]]:
    """Each method's point scores on the full data (cached on the source)."""
    if source.full is None:
        with tempfile.TemporaryDirectory() as folder:
            pool = _pool(Path(folder) / "pool", source, source.rows)
            source.full = {
                method: {row.model: row.score for row in pool.rank(method=method, interval="none")}
                for method in {method for _, method, _ in ESTIMATORS}
            }
    return source.full


def thin(source: Source, regime: Regime, seed: int) -> pd.DataFrame:
    # The same order of draws as fidelity_bench's real cells: groups first, then cells.
    rng = np.random.default_rng(seed)
    mask = np.ones(len(source.rows), dtype=bool)
    if regime.structure:
        mask &= kept_groups(source.rows, source.truth, regime.structure, rng)
    if regime.missing:
        mask &= rng.random(len(source.rows)) >= regime.missing
    return source.rows[mask]


def overlap_ranks(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank ranges from intervals: 1 + the models surely better, n - the models surely
    worse (``fisher::rank_intervals`` in the Rust core)."""
    better = (low[None, :] > high[:, None]).sum(axis=1)
    worse = (high[None, :] < low[:, None]).sum(axis=1)
    return 1 + better, len(low) - worse


def binomial_rows(rows: pd.DataFrame, kind: str) -> list[tuple]:
    """(model, mean, ci_low, ci_high, rank_low, rank_high) of the mean's own interval."""
    stats = rows.groupby("model", observed=True)["score"].agg(["mean", "std", "count"])
    n, p = stats["count"].to_numpy(float), stats["mean"].to_numpy(float)
    if kind == "binary":  # Wilson's score interval
        centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
        half = Z / (1 + Z**2 / n) * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    else:
        centre, half = p, Z * stats["std"].to_numpy(float) / np.sqrt(n)  # NaN for n < 2
    low, high = centre - half, centre + half
    # A model without an interval is not ranked here (so it counts as missing).
    known = np.isfinite(low)
    models, p, low, high = stats.index.astype(str)[known], p[known], low[known], high[known]
    return list(zip(models, p, low, high, *overlap_ranks(low, high), strict=True))


def _records(label, method, rows, source, full) -> list[dict]:
    """One record per model of the truth: covered or missing, and widths."""
    given = {
        row[0]: row
        for row in rows
        if math.isfinite(row[2]) and math.isfinite(row[3]) and row[4] is not None
    }
    ranked = [row[0] for row in rows]
    truth = np.array([source.truth[m] for m in ranked])
    shift = np.mean([full[m] for m in ranked]) if method in CENTRED else 0.0
    records = []
    for model in source.truth:
        if model not in given:
            records.append({"estimator": label, "model": model, "missing": True})
            continue
        _, point, low, high, rank_low, rank_high = given[model]
        value = source.truth[model]
        true_low, true_high = 1 + int((truth > value).sum()), int((truth >= value).sum())
        score = full[model] - shift if method != "mean" else value
        records.append(
            {
                "estimator": label,
                "model": model,
                "missing": False,
                "rank_covered": bool(rank_low <= true_high and rank_high >= true_low),
                "score_covered": bool(low <= score <= high),
                "rank_width": int(rank_high - rank_low),
                "score_width": float(high - low),
                "point": float(point),
                "target": float(score),
            }
        )
    return records


def measure(
    source: Source, regime: Regime, seed: int, bootstrap: int, estimators=ESTIMATORS
) -> list[dict]:
    """Records of every estimator on one thinning of ``source``, plus the library's notes."""
    full = full_scores(source)
    rows = thin(source, regime, seed)
    records = []
    with tempfile.TemporaryDirectory() as folder:
        pool = _pool(Path(folder) / "pool", source, rows)
        for label, method, interval in estimators:
            if interval == "binomial":
                table = binomial_rows(rows, source.kind)
                notes: tuple[str, ...] = ()
            else:
                replicates = bootstrap if interval == "bootstrap" else 0
                board = pool.rank(method=method, interval=interval, bootstrap=replicates, seed=seed)
                table = [
                    (r.model, r.score, r.ci_low, r.ci_high, r.rank_low, r.rank_high) for r in board
                ]
                notes = board.notes
            for record in _records(label, method, table, source, full[method]):
                records.append({**record, "seed": seed, "notes": len(notes)})
    return records


def _average(records: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in records])) if records else math.nan


def _slope(records: list[dict]) -> float:
    """Least-squares slope of the thinned point scores on the aligned full-data scores:
    1 when thinning keeps the method's scale, above 1 when it stretches it."""
    if len(records) < 3:
        return math.nan
    return float(np.polyfit([r["target"] for r in records], [r["point"] for r in records], 1)[0])


def summary(records: list[dict], source: Source) -> dict[str, dict[str, float]]:
    """Per estimator: n, missing, coverages, widths and width ratios."""
    full = full_scores(source)
    out: dict[str, dict[str, float]] = {}
    for label, method, _ in ESTIMATORS:
        mine = [r for r in records if r["estimator"] == label]
        if not mine:
            continue
        given = [r for r in mine if not r["missing"]]
        spread = float(np.std(list(full[method].values())))
        out[label] = {
            "n": len(mine),
            "missing": len(mine) - len(given),
            "rank_coverage": _average(given, "rank_covered"),
            "score_coverage": _average(given, "score_covered"),
            "rank_width": _average(given, "rank_width"),
            "score_width": _average(given, "score_width"),
            "score_width_sd": _average(given, "score_width") / spread,
            "scale": _slope(given),
            "notes": sum(r["notes"] for r in mine),
        }
    for row in out.values():
        for reference, tag in ((PL_BOOT, "pl"), (OB_BOOT, "ob")):
            base = out.get(reference, {})
            for key in ("rank_width", "score_width_sd"):
                denominator = base.get(key, math.nan)
                row[f"{key}_x{tag}"] = row[key] / denominator if denominator else math.nan
    return out


def _cell(value: float, flag: bool = False) -> str:
    if math.isnan(value):
        return "–"
    text = f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    bad = flag and not TARGET[0] <= value <= TARGET[1]
    return text + (" ✗" if bad else "")


def render(results: list[tuple[str, str, dict[str, dict[str, float]]]]) -> str:
    lines = [
        "| data | regime | estimator | n | missing | rank cover | score cover | rank width "
        "| ×PL | ×OB | score width | ÷sd | ×PL | ×OB | scale |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, regime, table in results:
        for label, row in table.items():
            cells = [
                str(row["n"]),
                str(row["missing"]),
                _cell(row["rank_coverage"], True),
                _cell(row["score_coverage"], True),
                *(_cell(row[k]) for k in ("rank_width", "rank_width_xpl", "rank_width_xob")),
                _cell(row["score_width"]),
                *(_cell(row[k]) for k in ("score_width_sd", "score_width_sd_xpl")),
                _cell(row["score_width_sd_xob"]),
                _cell(row["scale"]),
            ]
            lines.append(f"| {name} | {regime} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    # Every fit is timed or scored afresh: no answer kept in a pool by an earlier run.
    os.environ.setdefault("ONEBENCH_FITS", "off")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="chembench_irt, random 95%%, 1 seed")
    args = parser.parse_args(argv)
    root = data_dir()
    if root is None:
        raise SystemExit("set ONEBENCH_DATA to the folder of real evaluation data")
    names, regimes, seeds = SOURCES, REGIMES, args.seeds
    if args.quick:
        names, regimes, seeds = ("chembench_irt",), REGIMES[:1], 1
    started = time.time()
    results = []
    for name in names:
        source = load(root, name)
        for regime in regimes:
            records = [r for s in range(seeds) for r in measure(source, regime, s, args.bootstrap)]
            results.append((name, regime.name, summary(records, source)))
            print(f"{name}, {regime.name}: {time.time() - started:.0f}s", file=sys.stderr)
    if args.json:
        payload = [{"data": n, "regime": r, "estimators": t} for n, r, t in results]
        print(json.dumps(payload, indent=2))
    else:
        print(render(results))
    print(
        f"{seeds} seeds, {args.bootstrap} replicates, {time.time() - started:.0f}s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
