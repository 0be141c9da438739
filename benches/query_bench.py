"""Capability querying: retrieval quality on real data, search latency at 1M samples,
embedding throughput. One run; figures to stdout as Markdown for ``benches/README.md``.

    ONEBENCH_DATA=../shared/data python benches/query_bench.py --keep-pool /tmp/qpool
    python benches/query_bench.py --part latency --rows 1000000
    python benches/query_bench.py --part throughput

Parts:

1. ``retrieval`` (needs ``ONEBENCH_DATA``): mmlu_pro and alpaca_eval imported into one pool,
   embedded with the default encoder (all-MiniLM-L6-v2) through ``Pool.embed`` (its
   samples/s is the CPU throughput on real texts). For each of mmlu_pro's 14 category names
   as the query: precision@100 (the fraction of the 100 retrieved samples that belong to
   that category; alpaca_eval samples count as misses), then the same at the default
   similarity threshold. Then the same queries over the sample prompt *and* its metadata
   description (``on=["text", "metadata"]``). Then end to end: ``pool.query("law")``,
   ``pool.rank`` on it, Kendall tau-b against each model's accuracy on mmlu_pro's law
   category (all 1,101 law questions).
2. ``latency``: ``--rows`` (1M) float16 embeddings of dimension 384 in a pool (mixtures of
   the real embeddings plus noise when part 1 left a pool, random unit vectors otherwise).
   Latency of one top-100 query: onebench exact (``search_exact``), onebench ANN (usearch
   HNSW, with its recall@100 against exact and its build time), and as peers numpy float32
   in memory, torch float16 in one pass, usearch's exact brute force.
3. ``throughput``: samples/s of the default encoder on 512 mmlu_pro questions on the CPU,
   and on the GPU when there is one.
4. ``capability`` (needs ``ONEBENCH_DATA``; issue 26; ``benches/_capability.py``): mmlu_pro's
   14 category names, bare and as descriptive phrases, on three pools: mmlu_pro text only
   (no label), mmlu_pro with the labels of a random half (propagated to the other half),
   and all four shared sources pooled (a hit from another source is a miss). P@100 and
   the automatic cut-off's precision, recall and F1, dense and hybrid; the constants chosen
   on half of the categories (printed) and confirmed on the other half; absent
   capabilities; the pooled pool's capability map; the onnx-int8 variant against the float
   model (agreement and speed). Vectors are cached in ``--cache``:

       ONEBENCH_DATA=../shared/data python benches/query_bench.py --part capability \
           --cache /tmp/onebench-query-cache
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onebench
import pyarrow.compute as pc
import pyarrow.parquet as pq
from onebench.metrics import kendall_tau
from onebench.query import EmbeddingSet, load_encoder
from onebench.query._search import field_matrix, search_exact
from onebench.query._view import sample_view

QUERIES = (
    "law",
    "organic chemistry",
    "python code",
    "history of Europe",
    "probability",
    "write a poem",
    "cooking recipes",
    "tax accounting",
    "quantum mechanics",
    "psychology",
)


def _load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


# -- 1. retrieval ----------------------------------------------------------------------------


def build_real_pool(data: Path, path: Path) -> tuple[onebench.Pool, dict[str, Any]]:
    from onebench.importers import import_long_format

    figures: dict[str, Any] = {}
    if (path / "MANIFEST").exists():
        pool = onebench.Pool.open(path)
    else:
        pool = onebench.Pool.create(path)
        started = time.perf_counter()
        import_long_format(pool, [data / "mmlu_pro", data / "alpaca_eval"])
        figures["import_s"] = time.perf_counter() - started
    (report,) = pool.embed(progress=True)
    figures["embedded"] = report.embedded
    if report.embedded:
        figures["embed_s"] = report.seconds
        figures["embed_per_s"] = report.samples_per_second
        print(
            f"embedded {report.embedded} texts in {report.seconds:.0f} s "
            f"({report.samples_per_second:.1f}/s, load {_load_average()})",
            file=sys.stderr,
        )
    return pool, figures


def _categories(data: Path) -> dict[str, str]:
    table = pq.read_table(data / "mmlu_pro" / "samples.parquet", columns=["sample_id", "category"])
    return dict(
        zip(
            table.column("sample_id").to_pylist(), table.column("category").to_pylist(), strict=True
        )
    )


def retrieval(pool: onebench.Pool, data: Path) -> dict[str, Any]:
    category_of = _categories(data)
    names = sorted(set(category_of.values()))
    result: dict[str, Any] = {"categories": {}}
    pool.embed(fields=["metadata"], progress=True)
    for name in names:
        row: dict[str, Any] = {}
        for label, options in (
            ("top100", {"top_k": 100, "on": "text"}),
            ("threshold", {"threshold": "default", "on": "text"}),
            ("top100_metadata", {"top_k": 100, "on": ["text", "metadata"]}),
        ):
            benchmark = pool.query(name, **options)
            hits = sum(category_of.get(sample_id) == name for sample_id in benchmark.sample_ids)
            row[label] = (hits / len(benchmark)) if len(benchmark) else float("nan")
            row[label + "_n"] = len(benchmark)
            row[label + "_hits"] = hits
        result["categories"][name] = row
    rows = result["categories"].values()
    result["mean_top100"] = statistics.mean(r["top100"] for r in rows)
    result["mean_top100_metadata"] = statistics.mean(r["top100_metadata"] for r in rows)
    answered = [r for r in rows if r["threshold_n"]]
    result["threshold_mean_over_answered"] = statistics.mean(r["threshold"] for r in answered)
    result["threshold_pooled"] = sum(r["threshold_hits"] for r in rows) / max(
        1, sum(r["threshold_n"] for r in rows)
    )
    result["threshold_answered"] = len(answered)
    result["default_threshold"] = load_encoder().default_threshold
    return result


def law_accuracy(data: Path) -> dict[str, float]:
    table = pq.read_table(
        data / "mmlu_pro" / "measurements.parquet", columns=["model", "score", "category"]
    )
    table = table.filter(pc.equal(table.column("category"), "law"))
    frame = table.to_pandas()
    return frame.groupby("model")["score"].mean().to_dict()


def end_to_end(pool: onebench.Pool, data: Path) -> dict[str, Any]:
    truth = law_accuracy(data)
    category_of = _categories(data)
    result = {}
    for label, options in (
        ("top_k=100", {"top_k": 100}),
        ("top_k=300", {"top_k": 300}),
        ("threshold=default", {"threshold": "default"}),
    ):
        benchmark = pool.query("law", on="text", **options)
        models = sorted(truth)
        taus, ranked, missing = {}, {}, {}
        for method in (None, "plackett-luce"):  # None: the default, the joint model
            board = pool.rank(benchmark, method=method)
            absent = [m for m in models if m not in board.models]
            scores = np.array([board[m].score if m not in absent else -np.inf for m in models])
            taus[board.method] = kendall_tau(scores, np.array([truth[m] for m in models]))
            ranked[board.method], missing[board.method] = len(board), absent
        law = sum(category_of.get(s) == "law" for s in benchmark.sample_ids)
        result[label] = {
            "samples": len(benchmark),
            "law_samples": law,
            "tau": taus,
            "models_ranked": ranked,
            "missing": missing,
        }
    return result


# -- 2. latency ------------------------------------------------------------------------------


def _synthetic_vectors(rows: int, base: np.ndarray | None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dimension = 384 if base is None else base.shape[1]
    out = np.empty((rows, dimension), dtype=np.float16)
    for start in range(0, rows, 65_536):
        n = min(65_536, rows - start)
        if base is None:
            block = rng.standard_normal((n, dimension), dtype=np.float32)
        else:
            # Mixtures of two real embeddings plus noise: a continuum with the real
            # space's clusters, not 80 near-copies of each real vector.
            a = base[rng.integers(len(base), size=n)]
            b = base[rng.integers(len(base), size=n)]
            w = rng.uniform(0.6, 1.0, size=(n, 1)).astype(np.float32)
            block = w * a + (1 - w) * b
            block += rng.standard_normal(block.shape, dtype=np.float32) * (0.3 / np.sqrt(dimension))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + n] = block
    return out


def latency(rows: int, work: Path, base_pool: onebench.Pool | None, ann: bool) -> dict[str, Any]:
    import torch

    encoder = load_encoder()
    base = None
    if base_pool is not None:
        parts = EmbeddingSet(base_pool.path, encoder.name, "text").parts()
        if parts:
            base = np.concatenate([np.asarray(p.vectors, dtype=np.float32) for p in parts])
    vectors = _synthetic_vectors(rows, base)
    path = work / "latency-pool"
    if path.exists():
        shutil.rmtree(path)
    pool = onebench.Pool.create(path)
    ids = [f"s{i}" for i in range(rows)]
    pool.add_samples({"sample_id": ids})
    embedding_set = EmbeddingSet(pool.path, encoder.name, "text")
    with embedding_set.writer() as writer:
        for start in range(0, rows, 65_536):
            writer.append(ids[start : start + 65_536], vectors[start : start + 65_536], {})
        writer.merge()  # as Pool.embed does once a set has more than 4 parts
    matrix = field_matrix(embedding_set, sample_view(pool))
    queries = encoder.encode_texts(list(QUERIES), batch_size=16)
    result: dict[str, Any] = {
        "rows": rows,
        "source": "real mixtures" if base is not None else "random",
        "load": _load_average(),
    }

    def timed(function: Any) -> tuple[float, float, list[Any]]:
        function(queries[0])  # warm: page cache, lazy loads
        times, answers = [], []
        for query in queries:
            started = time.perf_counter()
            answers.append(function(query))
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), max(times), answers

    exact_ms, exact_max, exact = timed(
        lambda q: search_exact(matrix, q, top_k=100, threshold=None, allowed=None)
    )
    result["onebench exact (float16, two passes)"] = (exact_ms, exact_max)
    truth = [set(hits.samples.tolist()) for hits in exact]

    started = time.perf_counter()
    pool.query(QUERIES[0], top_k=100)
    result["pool.query end to end, first call (ms)"] = (time.perf_counter() - started) * 1000
    times = []
    for text in QUERIES:
        started = time.perf_counter()
        pool.query(text, top_k=100, index="exact")
        times.append((time.perf_counter() - started) * 1000)
    result["pool.query end to end (encode + exact)"] = (statistics.median(times), max(times))

    tensor = torch.from_numpy(vectors)
    result["peer: torch float16, one pass"] = timed(
        lambda q: torch.topk(tensor @ torch.from_numpy(q).half(), 100)
    )[:2]
    from usearch.index import MetricKind, search

    result["peer: usearch exact brute force (float16)"] = timed(
        lambda q: search(vectors, q.astype(np.float16), 100, MetricKind.IP, exact=True)
    )[:2]
    full = vectors.astype(np.float32)
    result["peer: numpy float32 in memory"] = timed(
        lambda q: np.argpartition(-(full @ q), 100)[:100]
    )[:2]
    full = np.zeros(0, dtype=np.float32)  # free the 1.5 GB before the index build

    if ann:
        (report,) = pool.build_index()
        result["ann_build_s"] = report.seconds
        from onebench.query._ann import search_ann

        matrix = field_matrix(embedding_set, sample_view(pool))
        ann_ms, ann_max, found = timed(lambda q: search_ann(matrix, q, top_k=100, threshold=None))
        result["onebench ANN (usearch HNSW)"] = (ann_ms, ann_max)
        result["ann_recall_at_100"] = statistics.mean(
            len(t & set(f.samples.tolist())) / 100 for t, f in zip(truth, found, strict=True)
        )
    return result


# -- 3. throughput ---------------------------------------------------------------------------


def throughput(data: Path | None, count: int) -> dict[str, Any]:
    import torch

    if data is not None:
        table = pq.read_table(data / "mmlu_pro" / "samples.parquet", columns=["text"])
        texts = table.column("text").to_pylist()[:count]
    else:
        texts = [f"Question {i}: what is the derivative of x^{i} at x = 2?" for i in range(count)]
    result: dict[str, Any] = {
        "texts": len(texts),
        "mean_chars": statistics.mean(len(t) for t in texts),
    }
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        encoder = load_encoder(None, device)
        encoder.encode_texts(texts[:32], batch_size=32)
        batch = 64 if device == "cpu" else 256
        started = time.perf_counter()
        encoder.encode_texts(texts, batch_size=batch)
        result[device] = len(texts) / (time.perf_counter() - started)
    result["load"] = _load_average()
    return result


# -- report ----------------------------------------------------------------------------------


def markdown(figures: dict[str, Any]) -> str:
    lines = []
    if "retrieval" in figures:
        r = figures["retrieval"]
        lines += [
            "| category | precision@100 (prompt) | threshold: precision (n) | precision@100 "
            "(prompt + metadata) |",
            "|---|---|---|---|",
        ]
        for name, row in r["categories"].items():
            threshold = (
                "-" if not row["threshold_n"] else f"{row['threshold']:.2f} ({row['threshold_n']})"
            )
            lines.append(
                f"| {name} | {row['top100']:.2f} | {threshold} | {row['top100_metadata']:.2f} |"
            )
        lines.append(
            f"| **mean** | **{r['mean_top100']:.3f}** | {r['threshold_mean_over_answered']:.2f} "
            f"(mean of {r['threshold_answered']} answered; pooled {r['threshold_pooled']:.2f}) "
            f"| **{r['mean_top100_metadata']:.3f}** |"
        )
        lines.append("")
    if "end_to_end" in figures:
        lines += [
            '| query "law" | samples | law samples | models ranked | tau vs law accuracy: '
            "joint (default) | plackett-luce |",
            "|---|---|---|---|---|---|",
        ]
        for label, row in figures["end_to_end"].items():
            lines.append(
                f"| {label} | {row['samples']} | {row['law_samples']} | "
                f"{row['models_ranked']['joint']} | {row['tau']['joint']:.3f} | "
                f"{row['tau']['plackett-luce']:.3f} |"
            )
        lines.append("")
    if "latency" in figures:
        r = figures["latency"]
        lines += [
            f"Top-100 over {r['rows']:,} embeddings ({r['source']}), CPU, load {r['load']}:",
            "",
            "| search | median ms | max ms |",
            "|---|---|---|",
        ]
        for key, value in r.items():
            if isinstance(value, tuple | list) and len(value) == 2:
                lines.append(f"| {key} | {value[0]:.1f} | {value[1]:.1f} |")
        if "ann_recall_at_100" in r:
            lines.append(
                f"\nANN: recall@100 against exact {r['ann_recall_at_100']:.3f}, "
                f"build {r['ann_build_s']:.0f} s."
            )
        lines.append("")
    if "throughput" in figures:
        r = figures["throughput"]
        lines.append(
            f"Embedding throughput ({r['texts']} mmlu_pro texts, mean {r['mean_chars']:.0f}"
            f" chars, load {r['load']}): CPU {r['cpu']:.1f} samples/s"
            + (f", GPU {r['cuda']:.0f} samples/s" if "cuda" in r else ", GPU: none on this machine")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", action="append", choices=["retrieval", "latency", "throughput", "capability"]
    )
    parser.add_argument(
        "--cache", default="/tmp/onebench-query-cache", help="capability: vectors and pools"
    )
    parser.add_argument(
        "--no-tune", action="store_true", help="capability: keep the code's constants"
    )
    parser.add_argument(
        "--chunks", help="capability: use the vectors saved so far in this folder (subsample)"
    )
    parser.add_argument("--data", default=os.environ.get("ONEBENCH_DATA"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-ann", action="store_true")
    parser.add_argument("--texts", type=int, default=512, help="texts for the throughput part")
    parser.add_argument("--keep-pool", help="real-data pool folder to reuse (embeddings kept)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    parts = args.part or ["retrieval", "latency", "throughput", "capability"]
    data = Path(args.data) if args.data else None
    work = Path(tempfile.mkdtemp(prefix="query-bench-"))
    figures: dict[str, Any] = {"load_start": _load_average()}
    pool = None
    try:
        if "retrieval" in parts:
            if data is None:
                raise SystemExit("the retrieval part needs ONEBENCH_DATA (or --data)")
            pool, build = build_real_pool(data, Path(args.keep_pool or work / "real-pool"))
            figures["build"] = build
            figures["retrieval"] = retrieval(pool, data)
            figures["end_to_end"] = end_to_end(pool, data)
        elif args.keep_pool and (Path(args.keep_pool) / "MANIFEST").exists():
            pool = onebench.Pool.open(args.keep_pool)
        if "latency" in parts:
            figures["latency"] = latency(args.rows, work, pool, not args.no_ann)
        if "throughput" in parts:
            figures["throughput"] = throughput(data, args.texts)
        if "capability" in parts:
            import _capability

            if data is None:
                raise SystemExit("the capability part needs ONEBENCH_DATA (or --data)")
            cache = Path(args.cache)
            chunks = Path(args.chunks) if args.chunks else None
            figures["capability"] = _capability.run(data, cache, not args.no_tune, chunks)
            figures["variants"] = _capability.variant_agreement(data, cache, chunks)
            figures["speed"] = _capability.throughput(data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(markdown(figures))
    if "capability" in figures:
        import _capability

        print(_capability.markdown(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
