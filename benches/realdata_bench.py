"""Ranking quality on real public evaluation data (``ONEBENCH_DATA``), method by method.

Tables (Kendall tau-b, mean ± standard deviation over seeds):

1. ``mmlu_pro`` and ``chembench_irt``, cells removed at random (0/50/90/95/99 %, 5 seeds):
   each method's ranking of the thinned data against the full-data ranking (per-model
   accuracy on all cells, the figure of the source's ``stats.json``). The last column is a
   ceiling no method can reach: each model's 2PL skill fitted on its kept cells with every
   question's difficulty and discrimination known from the *full* data (``oracle_ceiling``).
2. The same two, structured removal: each model keeps only some categories (mmlu_pro, 14
   subject categories) or difficulty buckets (chembench_irt, easy/medium/hard):
   ``random``: a random half of them per model (5 seeds); ``by strength``: weaker models
   keep the easier half, stronger ones the harder half (the middle third the middle),
   which is how leaderboards built from whatever each model was run on go wrong.
3. ``alpaca_eval`` under the ``weighted_alpaca_eval_gpt4_turbo`` judge against the mean
   preference per model (its published win rate); ``arena_bench_v1`` (numeric 1–10
   grades) against the mean score per model.

Run: ``ONEBENCH_DATA=../shared/data python benches/realdata_bench.py [--seeds 5] [--json]``.
The test ``tests/test_importers_realdata.py`` asserts thresholds on the same functions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onebench
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from onebench.metrics import kendall_tau

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ties import leaderboard_tau

METHODS = ("joint", "plackett-luce", "bradley-terry", "elo", "mean")
ORACLE = "oracle ceiling"
FRACTIONS = (0.0, 0.5, 0.9, 0.95, 0.99)
JUDGE = "weighted_alpaca_eval_gpt4_turbo"
# The column of samples.parquet that structured removal keeps or drops whole.
GROUPS = {"mmlu_pro": "category", "chembench_irt": "difficulty"}


def data_dir() -> Path:
    value = os.environ.get("ONEBENCH_DATA")
    if not value or not Path(value).is_dir():
        raise SystemExit("set ONEBENCH_DATA to the folder of real evaluation data")
    return Path(value)


def binary_source(root: Path, name: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """Measurements (sample_id, model, score, group) and the full-data accuracies."""
    folder = root / name
    rows = pq.read_table(
        folder / "measurements.parquet", columns=["sample_id", "model", "score"]
    ).to_pandas()
    samples = pq.read_table(
        folder / "samples.parquet", columns=["sample_id", GROUPS[name]]
    ).to_pandas()
    rows = rows.merge(samples.rename(columns={GROUPS[name]: "group"}), on="sample_id")
    truth = json.loads((folder / "stats.json").read_text())["accuracy_per_model"]
    return rows, truth


def _taus(pool: onebench.Pool, truth: dict[str, float], methods: Sequence[str]) -> dict[str, float]:
    return {
        method: leaderboard_tau(pool.rank(method=method, interval="none"), truth)
        for method in methods
    }


def rank_taus(
    rows: pd.DataFrame, kind: str, truth: dict[str, float], methods: Sequence[str] = METHODS
) -> dict[str, float]:
    """Each method's tau to ``truth`` on ``rows`` (a fresh pool in a temporary folder)."""
    with tempfile.TemporaryDirectory() as folder:
        pool = onebench.Pool.create(Path(folder) / "pool")
        columns = ["sample_id", "model_a", "model_b", "winner", "probability"]
        data = rows[columns] if kind == "pairwise" else rows[["sample_id", "model", "score"]]
        names = set(truth)
        if kind == "pairwise":
            names |= set(rows["model_a"]) | set(rows["model_b"])
        pool.add_measurements(
            data,
            kind=kind,
            samples={"sample_id": rows["sample_id"].unique()},
            models=sorted(names),
        )
        return _taus(pool, truth, methods)


def random_removal(
    rows: pd.DataFrame, truth: dict[str, float], fraction: float, seed: int
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    kept = rows[rng.random(len(rows)) >= fraction] if fraction else rows
    return rank_taus(kept, "binary", truth)


def item_parameters(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row, its question's difficulty and discrimination (2PL, ``Pool.item_diagnostics``)
    fitted to all of ``rows``: what a method would know with no cell missing."""
    with tempfile.TemporaryDirectory() as folder:
        pool = onebench.Pool.create(Path(folder) / "pool")
        pool.add_measurements(
            rows[["sample_id", "model", "score"]],
            kind="binary",
            samples={"sample_id": rows["sample_id"].unique()},
            models=sorted(rows["model"].unique()),
        )
        items = pool.item_diagnostics().to_pandas().set_index("sample_id")
    return (
        rows["sample_id"].map(items["difficulty"]).to_numpy(),
        rows["sample_id"].map(items["discrimination"]).to_numpy(),
    )


def _skill(correct: np.ndarray, difficulty: np.ndarray, slope: np.ndarray) -> float:
    """1-D MAP skill under the 2PL model with known items (prior N(0, 100), Newton)."""
    skill = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-slope * (skill - difficulty)))
        step = ((slope * (correct - p)).sum() - skill / 100) / (
            (slope * slope * p * (1 - p)).sum() + 1 / 100
        )
        skill += step
        if abs(step) < 1e-10:
            break
    return skill


def oracle_ceiling(
    rows: pd.DataFrame,
    truth: dict[str, float],
    fraction: float,
    seed: int,
    items: tuple[np.ndarray, np.ndarray],
) -> float:
    """Tau of skills fitted with the full data's item parameters on the cells that
    ``random_removal`` keeps for the same seed: an upper reference for every method."""
    rng = np.random.default_rng(seed)
    kept = rng.random(len(rows)) >= fraction if fraction else np.ones(len(rows), dtype=bool)
    difficulty, slope = items
    slope = np.maximum(slope, 0.05)  # a reversed item would reward wrong answers
    models = sorted(truth)
    column = rows["model"].to_numpy()
    correct = rows["score"].to_numpy(dtype=float)
    skills = []
    for model in models:
        mine = kept & (column == model)
        skills.append(_skill(correct[mine], difficulty[mine], slope[mine]) if mine.any() else -1e9)
    return float(kendall_tau(skills, [truth[model] for model in models]))


def structured_removal(
    rows: pd.DataFrame, truth: dict[str, float], scheme: str, seed: int = 0
) -> dict[str, float]:
    """Each model keeps half of the groups: at random, or by strength (see above)."""
    difficulty = rows.groupby("group")["score"].mean().sort_values(ascending=False)
    groups = list(difficulty.index)  # easiest first
    width = (len(groups) + 1) // 2
    rng = np.random.default_rng(seed)
    order = sorted(truth, key=truth.__getitem__)  # weakest first
    keep: dict[str, set[str]] = {}
    for position, model in enumerate(order):
        if scheme == "random":
            chosen = rng.choice(len(groups), size=width, replace=False)
        elif scheme != "by strength":
            raise ValueError(f"unknown scheme {scheme!r}")
        else:
            tier = min(3 * position // len(order), 2)
            start = round(tier * (len(groups) - width) / 2)
            chosen = np.arange(start, start + width)
        keep[model] = {groups[index] for index in chosen}
    mask = [group in keep[model] for model, group in zip(rows["model"], rows["group"], strict=True)]
    return rank_taus(rows[mask], "binary", truth)


def alpaca_eval(root: Path) -> dict[str, float]:
    table = pq.read_table(root / "alpaca_eval" / "measurements.parquet")
    rows = table.filter(pc.equal(table.column("judge"), JUDGE)).to_pandas()
    rows = rows.assign(probability=rows["score"])
    truth = rows.groupby("model_b")["score"].mean().to_dict()  # the published win rate
    return rank_taus(rows, "pairwise", truth)


def arena_bench(root: Path) -> dict[str, float]:
    folder = root / "arena_bench_v1"
    rows = pq.read_table(folder / "measurements.parquet").to_pandas()
    truth = json.loads((folder / "stats.json").read_text())["mean_score_per_model"]
    return rank_taus(rows, "numeric", truth)


def _summary(runs: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    return {
        method: (
            float(np.mean([run[method] for run in runs])),
            float(np.std([run[method] for run in runs])),
        )
        for method in runs[0]
    }


def _repeat(run: Callable[[int], dict[str, float]], seeds: int) -> dict[str, tuple[float, float]]:
    return _summary([run(seed) for seed in range(seeds)])


def collect(root: Path, seeds: int = 5) -> dict[str, dict]:
    results: dict[str, dict] = {"random": {}, "structured": {}}
    for name in GROUPS:
        rows, truth = binary_source(root, name)
        items = item_parameters(rows)
        results["random"][name] = {
            fraction: _repeat(
                lambda seed, f=fraction, r=rows, t=truth, i=items: {
                    **random_removal(r, t, f, seed),
                    ORACLE: oracle_ceiling(r, t, f, seed, i),
                },
                seeds if fraction else 1,
            )
            for fraction in FRACTIONS
        }
        results["structured"][name] = {
            scheme: _repeat(
                lambda seed, s=scheme, r=rows, t=truth: structured_removal(r, t, s, seed),
                seeds if scheme == "random" else 1,
            )
            for scheme in ("random", "by strength")
        }
    results["alpaca_eval"] = alpaca_eval(root)
    results["arena_bench_v1"] = arena_bench(root)
    return results


def _cell(value: tuple[float, float]) -> str:
    mean, deviation = value
    return f"{mean:.3f} ± {deviation:.3f}" if deviation else f"{mean:.3f}"


def render(results: dict[str, dict], seeds: int) -> str:
    header = "| " + " | ".join(METHODS) + " |"
    rule = "|" + "---|" * (len(METHODS) + 1)
    lines = []
    for name, table in results["random"].items():
        lines += [f"\n{name}: cells removed at random ({seeds} seeds), tau to full-data accuracy\n"]
        lines += [f"| removed {header} {ORACLE} |", rule + "---|"]
        for fraction, cells in table.items():
            columns = (*METHODS, ORACLE)
            lines.append(
                f"| {fraction:.0%} | " + " | ".join(_cell(cells[m]) for m in columns) + " |"
            )
    for name, table in results["structured"].items():
        lines += [f"\n{name}: each model keeps half (rounded up) of the {GROUPS[name]} groups\n"]
        lines += ["| kept by " + header, rule]
        for scheme, cells in table.items():
            lines.append(f"| {scheme} | " + " | ".join(_cell(cells[m]) for m in METHODS) + " |")
    lines += ["\nfull data against the source's own aggregate\n", "| source " + header, rule]
    for name, label in (
        ("alpaca_eval", f"alpaca_eval ({JUDGE})"),
        ("arena_bench_v1", "arena_bench_v1"),
    ):
        lines.append(
            f"| {label} | " + " | ".join(f"{results[name][m]:.3f}" for m in METHODS) + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    # Every fit is timed or scored afresh: no answer kept in a pool by an earlier run.
    os.environ.setdefault("ONEBENCH_FITS", "off")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = collect(data_dir(), args.seeds)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(render(results, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
