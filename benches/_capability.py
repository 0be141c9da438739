"""Capability queries on real data (issue 26): what ``query_bench.py --part capability``
measures. Vectors are computed once per encoder variant and cached in ``--cache``; each
pool below is built from the shared data and given those vectors.

Queries: mmlu_pro's 14 category names, bare, and as the descriptive phrases in PHRASES,
written from the public description of MMLU-Pro's categories before any retrieval was run
(and before the ``src`` column was read). Absent capabilities in ABSENT were written the
same way. Constants are chosen on DEV (every other category in alphabetical order) and
confirmed on CONFIRM.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onebench
from onebench.query import EmbeddingSet, load_encoder
from onebench.query._hybrid import HybridSettings

PHRASES = {
    "biology": "biology: cells, genetics, evolution, ecology, anatomy and physiology of "
    "living organisms",
    "business": "business questions: accounting, finance, interest and profit calculations, "
    "management and marketing",
    "chemistry": "chemistry: chemical reactions, molecules, moles and stoichiometry, acids and "
    "bases, thermochemistry",
    "computer science": "computer science: algorithms, data structures, programming, computer "
    "architecture and networks",
    "economics": "economics: supply and demand, markets, inflation, GDP, monetary and fiscal "
    "policy",
    "engineering": "engineering problems: electrical circuits, machines, thermodynamics, fluid "
    "flow, materials and signals",
    "health": "health and medicine: diseases, symptoms, treatment, anatomy, nutrition and "
    "clinical practice",
    "history": "history: past events, wars, empires, revolutions and historical documents",
    "law": "law: legal cases, contracts, torts, criminal law, constitutional rights and court "
    "rulings",
    "math": "mathematics: algebra, calculus, equations, probability and number theory problems",
    "other": "general knowledge questions on miscellaneous topics: facts, everyday life, "
    "society and culture",
    "philosophy": "philosophy: ethics, logic, moral arguments and the views of philosophers",
    "physics": "physics: forces, motion, energy, electricity and magnetism, waves and quantum "
    "mechanics",
    "psychology": "psychology: behavior, cognition, memory, learning, development and mental "
    "disorders",
}
CATEGORIES = sorted(PHRASES)
DEV = CATEGORIES[0::2]
CONFIRM = CATEGORIES[1::2]
ABSENT_DEV = (
    "Hungarian poetry",
    "knitting patterns for wool sweaters",
    "identifying birds by their songs",
    "skateboard tricks for beginners",
)
ABSENT_CONFIRM = (
    "tying fishing knots",
    "chess opening theory",
    "playing the bagpipes",
    "origami folding instructions",
)
SOURCES = ("mmlu_pro", "alpaca_eval", "arena_bench_v1", "chembench_irt")


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


# -- data and vectors ------------------------------------------------------------------------


def shared_rows(data: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = []
    for source in SOURCES:
        table = pq.read_table(data / source / "samples.parquet")
        for row in table.to_pylist():
            rows.append(row)
    return rows


def cached_vectors(cache: Path, variant: str, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The text vectors of every row with a text, by sample id (computed once)."""
    path = cache / f"vectors-{variant}.npy"
    ids_path = cache / f"vectors-{variant}.ids.json"
    with_text = [row for row in rows if row.get("text")]
    if path.exists() and ids_path.exists():
        ids = json.loads(ids_path.read_text())
        vectors = np.load(path)
    else:
        encoder = load_encoder(None, "cpu", variant)
        started = time.perf_counter()
        vectors = encoder.encode_texts([row["text"] for row in with_text], batch_size=64)
        print(
            f"embedded {len(with_text)} texts ({variant}) in {time.perf_counter() - started:.0f}"
            f" s, load {load_average()}",
            flush=True,
        )
        ids = [row["sample_id"] for row in with_text]
        np.save(path, vectors.astype(np.float32))
        ids_path.write_text(json.dumps(ids))
    return dict(zip(ids, vectors, strict=True))


def make_pool(
    path: Path,
    rows: list[dict[str, Any]],
    vectors: dict[str, np.ndarray],
    variant: str,
    keep: dict[str, set[str]],
) -> onebench.Pool:
    """A pool of ``rows`` whose metadata holds only the keys in ``keep`` (key -> the ids
    that keep it), embedded with the cached vectors of ``variant``."""
    import shutil

    if path.exists():
        shutil.rmtree(path)
    pool = onebench.Pool.create(path)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        kept = tuple(key for key, ids in keep.items() if row["sample_id"] in ids and row.get(key))
        groups.setdefault(kept, []).append(row)
    for kept, group in groups.items():
        columns: dict[str, list[Any]] = {
            name: [row.get(name) for row in group] for name in ("sample_id", "benchmark", "text")
        }
        for key in kept:
            columns[key] = [row[key] for row in group]
        pool.add_samples(columns)
    ids = [sample_id for sample_id in pool.samples().column("sample_id").to_pylist()]
    embedded = [sample_id for sample_id in ids if sample_id in vectors]
    matrix = np.stack([vectors[sample_id] for sample_id in embedded]).astype(np.float16)
    info = {"modalities": ["text"], "dimension": 384, "variant": variant}
    with EmbeddingSet(pool.path, load_encoder().name, "text").writer() as writer:
        writer.append(embedded, matrix, info)
    return pool


# -- measures --------------------------------------------------------------------------------


def truth(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {name: set() for name in CATEGORIES}
    for row in rows:
        if row["benchmark"] == "mmlu_pro":
            members[row["category"]].add(row["sample_id"])
    return members


def evaluate(
    pool: onebench.Pool,
    members: dict[str, set[str]],
    queries: dict[str, str],
    method: str,
    settings: HybridSettings | None,
    cutoff: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    extra = {"settings": settings} if method == "hybrid" else {}
    for name, text in queries.items():
        found = pool.query(text, top_k=100, method=method, **extra)
        row = {"p100": sum(s in members[name] for s in found.sample_ids) / 100}
        if cutoff:
            auto = pool.query(text, method=method, **extra)
            hits = sum(s in members[name] for s in auto.sample_ids)
            precision = hits / len(auto) if len(auto) else 0.0
            recall = hits / len(members[name])
            row.update(
                n=len(auto),
                precision=precision,
                recall=recall,
                f1=2 * precision * recall / (precision + recall) if hits else 0.0,
            )
        out[name] = row
    return out


def summary(result: dict[str, Any], names: list[str]) -> dict[str, float]:
    rows = [result[name] for name in names]
    figures = {
        "mean_p100": statistics.mean(r["p100"] for r in rows),
        "worst_p100": min(r["p100"] for r in rows),
    }
    if "f1" in rows[0]:
        figures["mean_f1"] = statistics.mean(r["f1"] for r in rows)
    return figures


def absent_checks(pool: onebench.Pool, queries: tuple[str, ...], settings: Any) -> dict[str, Any]:
    out = {}
    for text in queries:
        found = pool.query(text, settings=settings)
        out[text] = {
            "flagged": "note" in found.query,
            "best": found.query.get("best_similarity"),
            "n": len(found),
        }
    return out


def tune(
    pools: dict[str, onebench.Pool],
    members: dict[str, set[str]],
    propagate: Any,
) -> tuple[HybridSettings, list[str]]:
    """One coordinate sweep over the constants, scored on DEV alone: mean P@100 of the
    text-only phrases and of the bare names with propagated labels, plus the mean cut-off
    F1 of both."""
    log: list[str] = []
    bare = {name: name for name in DEV}
    phrases = {name: PHRASES[name] for name in DEV}

    def objective(settings: HybridSettings) -> float:
        a = summary(evaluate(pools["text"], members, phrases, "hybrid", settings), DEV)
        b = summary(evaluate(pools["half"], members, bare, "hybrid", settings), DEV)
        return a["mean_p100"] + b["mean_p100"] + 0.5 * (a["mean_f1"] + b["mean_f1"])

    best = HybridSettings()
    best_score = objective(best)
    log.append(f"start {best_score:.4f}")
    grid = {
        "lexical_weight": (0.0, 0.5, 1.0),
        "feedback_weight": (0.0, 0.5, 1.0),
        "feedback_top": (5, 10, 20),
        "topic_weight": (0.0, 0.25, 0.5, 1.0),
        "label_gate": (0.3, 0.4, 0.5),
        "label_weight": (0.5, 1.0, 2.0),
    }
    for knob, values in grid.items():
        for value in values:
            if getattr(best, knob) == value:
                continue
            trial = replace(best, **{knob: value})
            score = objective(trial)
            log.append(f"{knob}={value}: {score:.4f}")
            if score > best_score + 1e-9:
                best, best_score = trial, score
    log.append(f"chosen {best.to_dict()} ({best_score:.4f})")
    return best, log


# -- the whole part --------------------------------------------------------------------------


def _propagate(pools: dict[str, onebench.Pool], neighbours: int, confidence: float) -> None:
    for key in ("half", "pooled"):
        pools[key].propagate_labels("category", neighbours=neighbours, min_confidence=confidence)


def _propagation_accuracy(pool: onebench.Pool, truth_of: dict[str, str]) -> dict[str, Any]:
    from onebench.query._labels import load_inferred

    inferred = load_inferred(pool.path)["category"]
    scored = [
        (sample_id, value) for sample_id, value in inferred.values.items() if sample_id in truth_of
    ]
    confident = [
        (sample_id, value)
        for sample_id, value in scored
        if inferred.confidences[sample_id] >= inferred.min_confidence
    ]
    return {
        "inferred": len(scored),
        "accuracy": statistics.mean(truth_of[s] == v for s, v in scored),
        "confident": len(confident),
        "confident_accuracy": statistics.mean(truth_of[s] == v for s, v in confident)
        if confident
        else float("nan"),
    }


def choose_floor(present: list[float], absent: list[float]) -> float:
    """The match floor that classifies the most dev queries right (midpoint of the gap)."""
    values = sorted(set(present) | set(absent))
    candidates = [(a + b) / 2 for a, b in itertools.pairwise(values)] or values

    def correct(floor: float) -> int:
        return sum(p >= floor for p in present) + sum(a < floor for a in absent)

    return max(candidates, key=lambda floor: (correct(floor), -abs(floor - 0.4)))


def chunked_vectors(folder: Path) -> dict[str, np.ndarray]:
    """Vectors saved 500 at a time, in a random order of the texts (a uniform subsample
    of the pool while the run is unfinished)."""
    found: dict[str, np.ndarray] = {}
    for path in sorted(folder.glob("chunk-*.npy")):
        ids = json.loads(path.with_suffix("").with_suffix(".ids.json").read_text())
        found.update(zip(ids, np.load(path), strict=True))
    return found


def run(
    data: Path, cache: Path, tune_constants: bool = True, chunks: Path | None = None
) -> dict[str, Any]:
    import random

    from onebench.query import _cutoff, _labels

    cache.mkdir(parents=True, exist_ok=True)
    rows = shared_rows(data)
    figures: dict[str, Any] = {"load_start": load_average()}
    if chunks is not None:
        vectors = chunked_vectors(chunks)
        # Only the texts embedded so far (a uniform subsample); samples without a text stay.
        rows = [row for row in rows if not row.get("text") or row["sample_id"] in vectors]
        figures["subsample"] = len(vectors)
    else:
        vectors = cached_vectors(cache, "onnx-int8", rows)
    figures["samples"] = {
        source: sum(row["benchmark"] == source for row in rows) for source in SOURCES
    }
    mmlu = [row for row in rows if row["benchmark"] == "mmlu_pro"]
    members = truth(rows)
    truth_of = {row["sample_id"]: row["category"] for row in mmlu}
    labelled = set(random.Random(0).sample(sorted(truth_of), len(truth_of) // 2))
    started = time.perf_counter()
    pools = {
        "text": make_pool(cache / "pool-text", mmlu, vectors, "onnx-int8", {}),
        "half": make_pool(cache / "pool-half", mmlu, vectors, "onnx-int8", {"category": labelled}),
        "pooled": make_pool(
            cache / "pool-pooled", rows, vectors, "onnx-int8", {"category": set(truth_of)}
        ),
    }
    figures["pools_s"] = time.perf_counter() - started
    for pool in pools.values():
        pool.topics(rebuild=True)
    # 1. propagation constants, on DEV's bare names in the half-labelled pool
    propagation_log = []
    choice = (_labels.DEFAULT_NEIGHBOURS, _labels.MIN_CONFIDENCE)
    if tune_constants:
        best_score = -1.0
        for neighbours in (5, 10, 20):
            for confidence in (0.3, 0.5, 0.7):
                pools["half"].propagate_labels(
                    "category", neighbours=neighbours, min_confidence=confidence
                )
                result = evaluate(pools["half"], members, {n: n for n in DEV}, "hybrid", None)
                score = summary(result, DEV)
                value = score["mean_p100"] + 0.5 * score["mean_f1"]
                propagation_log.append(f"k={neighbours} c={confidence}: {value:.4f}")
                if value > best_score:
                    best_score, choice = value, (neighbours, confidence)
    figures["propagation_choice"] = {"neighbours": choice[0], "min_confidence": choice[1]}
    figures["propagation_log"] = propagation_log
    _propagate(pools, *choice)
    figures["propagation_accuracy"] = _propagation_accuracy(pools["half"], truth_of)
    # 2. hybrid constants, on DEV
    settings, tune_log = tune(pools, members, None) if tune_constants else (HybridSettings(), [])
    figures["settings"] = settings.to_dict()
    figures["tune_log"] = tune_log
    # 3. match floor, on ABSENT_DEV and DEV's queries in the text-only pool
    present = [
        pools["text"].query(text, top_k=10, settings=settings).query["best_similarity"]
        for name in DEV
        for text in (name, PHRASES[name])
    ]
    absent = [
        pools["text"].query(text, top_k=10, settings=settings).query["best_similarity"]
        for text in ABSENT_DEV
    ]
    floor = (
        choose_floor(present, absent)
        if tune_constants
        else _cutoff.MATCH_FLOORS[load_encoder().name]
    )
    figures["match_floor"] = {"chosen": floor, "present_dev": present, "absent_dev": absent}
    _cutoff.MATCH_FLOORS[load_encoder().name] = floor
    # 4. everything, on both halves
    table: dict[str, Any] = {}
    for pool_name in ("text", "half", "pooled"):
        for query_kind in ("bare", "phrases"):
            queries = {n: (n if query_kind == "bare" else PHRASES[n]) for n in CATEGORIES}
            for method in ("semantic", "hybrid"):
                result = evaluate(pools[pool_name], members, queries, method, settings)
                table[f"{pool_name}/{query_kind}/{method}"] = {
                    "rows": result,
                    "dev": summary(result, DEV),
                    "confirm": summary(result, CONFIRM),
                    "all": summary(result, CATEGORIES),
                }
    figures["table"] = table
    figures["absent"] = {
        "dev": absent_checks(pools["pooled"], ABSENT_DEV, settings),
        "confirm": absent_checks(pools["pooled"], ABSENT_CONFIRM, settings),
        "confirm_text_only": absent_checks(pools["text"], ABSENT_CONFIRM, settings),
    }
    topics = pools["pooled"].topics()
    figures["topics"] = [
        {key: t[key] for key in ("topic", "size", "label", "benchmarks")} for t in topics["topics"]
    ]
    figures["load_end"] = load_average()
    return figures


PER_CATEGORY = 100


def variant_agreement(data: Path, cache: Path, chunks: Path | None = None) -> dict[str, Any]:
    """P@25 of the text-only queries on a subset of mmlu_pro (PER_CATEGORY questions of each
    category), with the float model's vectors and with the onnx-int8 variant's (the same
    queries, each encoded by its own variant). The float model is the slow one, hence the
    subset; the int8 vectors are the full run's, when cached."""
    import random

    rows = [row for row in shared_rows(data) if row["benchmark"] == "mmlu_pro"]
    rng = random.Random(0)
    subset = []
    for name in CATEGORIES:
        group = [row for row in rows if row["category"] == name]
        subset += rng.sample(group, min(PER_CATEGORY, len(group)))
    members = truth(subset)
    out: dict[str, Any] = {"texts": len(subset)}
    for variant in ("float32", "onnx-int8"):
        full = cache / f"vectors-{variant}.npy"
        known = chunked_vectors(chunks) if chunks is not None and variant == "onnx-int8" else {}
        if full.exists():
            vectors = cached_vectors(cache, variant, subset)
        else:
            missing = [row for row in subset if row["sample_id"] not in known]
            folder = (
                cache / f"subset-{PER_CATEGORY}-missing"
                if known
                else cache / (f"subset-{PER_CATEGORY}")
            )
            folder.mkdir(parents=True, exist_ok=True)
            vectors = {**known, **(cached_vectors(folder, variant, missing) if missing else {})}
        pool = make_pool(cache / f"pool-subset-{variant}", subset, vectors, variant, {})
        for kind in ("bare", "phrases"):
            queries = {n: (n if kind == "bare" else PHRASES[n]) for n in CATEGORIES}
            for method in ("semantic", "hybrid"):
                precision = []
                for name, text in queries.items():
                    found = pool.query(text, top_k=25, method=method)
                    precision.append(sum(s in members[name] for s in found.sample_ids) / 25)
                out[f"{variant}/{kind}/{method}"] = statistics.mean(precision)
    return out


def throughput(data: Path, count: int = 128, rounds: int = 2) -> dict[str, Any]:
    """Samples/s of both variants on the same ``count`` mmlu_pro texts, alternating."""
    import pyarrow.parquet as pq

    texts = pq.read_table(data / "mmlu_pro" / "samples.parquet", columns=["text"])
    texts = texts.column("text").to_pylist()[:count]
    encoders = {v: load_encoder(None, "cpu", v) for v in ("float32", "onnx-int8")}
    for encoder in encoders.values():
        encoder.encode_texts(texts[:16], batch_size=16)
    speeds: dict[str, list[float]] = {v: [] for v in encoders}
    loads = []
    for _ in range(rounds):
        for variant, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode_texts(texts, batch_size=64)
            speeds[variant].append(len(texts) / (time.perf_counter() - started))
            loads.append(load_average())
    return {
        "texts": len(texts),
        "mean_chars": statistics.mean(len(t) for t in texts),
        "speeds": speeds,
        "ratio_best": max(speeds["onnx-int8"]) / max(speeds["float32"]),
        "ratio_median": statistics.median(speeds["onnx-int8"])
        / statistics.median(speeds["float32"]),
        "loads": loads,
    }


def markdown(figures: dict[str, Any]) -> str:
    c = figures["capability"]
    lines = [
        f"Samples: {c['samples']}"
        + (f" (a uniform subsample: {c['subsample']} texts embedded)" if "subsample" in c else ""),
        f"Load average at start {c['load_start']}, at end {c['load_end']}.",
        "",
        f"Propagation chosen on DEV: {c['propagation_choice']} ({'; '.join(c['propagation_log'])})",
        f"Propagated labels on the unlabelled half: {c['propagation_accuracy']}",
        f"Hybrid constants chosen on DEV: {c['settings']}",
        "Sweep: " + "; ".join(c["tune_log"]),
        f"Match floor chosen on DEV and ABSENT_DEV: {c['match_floor']['chosen']:.3f} (present "
        f"best similarities {[round(v, 3) for v in c['match_floor']['present_dev']]}, absent "
        f"{[round(v, 3) for v in c['match_floor']['absent_dev']]})",
        "",
        "| pool / queries / method | P@100 dev mean (worst) | P@100 confirm mean (worst) | "
        "P@100 all mean (worst) | cut-off F1 dev | cut-off F1 confirm | cut-off F1 all |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, entry in c["table"].items():
        d, f, a = entry["dev"], entry["confirm"], entry["all"]
        lines.append(
            f"| {key} | {d['mean_p100']:.3f} ({d['worst_p100']:.2f}) | {f['mean_p100']:.3f} "
            f"({f['worst_p100']:.2f}) | {a['mean_p100']:.3f} ({a['worst_p100']:.2f}) | "
            f"{d['mean_f1']:.3f} | {f['mean_f1']:.3f} | {a['mean_f1']:.3f} |"
        )
    lines += ["", "Per category (hybrid): P@100, cut-off n / precision / recall / F1", ""]
    header = "| category | half | " + " | ".join(
        f"{p}/{q}" for p in ("text", "half", "pooled") for q in ("bare", "phrases")
    )
    lines += [header + " |", "|---|---|" + "---|" * 6]
    for name in CATEGORIES:
        cells = []
        for p in ("text", "half", "pooled"):
            for q in ("bare", "phrases"):
                r = c["table"][f"{p}/{q}/hybrid"]["rows"][name]
                cells.append(
                    f"{r['p100']:.2f}; {r['n']} / {r['precision']:.2f} / {r['recall']:.2f} / "
                    f"{r['f1']:.2f}"
                )
        half = "dev" if name in DEV else "confirm"
        lines.append(f"| {name} | {half} | " + " | ".join(cells) + " |")
    lines += ["", "Absent capabilities (auto cut-off): flagged, best similarity, samples", ""]
    for split, checks in c["absent"].items():
        lines.append(
            f"- {split}: "
            + "; ".join(
                f"{text!r}: {'flagged' if r['flagged'] else 'NOT flagged'} ({r['best']}, {r['n']})"
                for text, r in checks.items()
            )
        )
    lines += ["", "Capability map of the pooled pool:", "", "| topic | samples | label | sources |"]
    lines.append("|---|---|---|---|")
    for t in c["topics"]:
        sources = ", ".join(f"{b} {n}" for b, n in t["benchmarks"].items())
        lines.append(f"| {t['topic']} | {t['size']} | {t['label']} | {sources} |")
    v = figures["variants"]
    lines += ["", f"Variants, P@25 on {v['texts']} mmlu_pro texts, text only:", ""]
    lines.append("| queries / method | float32 | onnx-int8 | difference |")
    lines.append("|---|---|---|---|")
    for kind in ("bare", "phrases"):
        for method in ("semantic", "hybrid"):
            a, b = v[f"float32/{kind}/{method}"], v[f"onnx-int8/{kind}/{method}"]
            lines.append(f"| {kind} / {method} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    s = figures["speed"]
    lines += [
        "",
        f"Speed, {s['texts']} mmlu_pro texts (mean {s['mean_chars']:.0f} chars), alternating "
        f"rounds: float32 {[round(x, 1) for x in s['speeds']['float32']]}, onnx-int8 "
        f"{[round(x, 1) for x in s['speeds']['onnx-int8']]} samples/s; ratio of the best "
        f"{s['ratio_best']:.2f}, of the medians {s['ratio_median']:.2f}; load {s['loads']}",
    ]
    return "\n".join(lines)
