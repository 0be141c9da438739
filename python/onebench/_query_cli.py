"""``onebench query`` and ``onebench embed``: arguments and what they print."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

__all__ = [
    "FIELDS",
    "add_embed_arguments",
    "add_query_arguments",
    "embed_after_import",
    "run_embed",
    "run_query",
]


# onebench.query.FIELDS: the query package loads numpy and the search stack, which the
# parser must not for `--help`; tests/test_startup.py checks that the two agree.
FIELDS = ("text", "references", "image", "metadata")


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    from ._rank_cli import DEFAULT_METHOD, rank_methods

    methods = rank_methods()

    parser.add_argument("text", nargs="?", help="the capability, in words")
    parser.add_argument("--image", help="query by an example image (a file) instead of text")
    parser.add_argument(
        "--top-k", type=int, help="how many samples (default 100 without a threshold)"
    )
    parser.add_argument(
        "--threshold",
        nargs="?",
        const="default",
        help="keep samples at least this similar; alone: the encoder's default threshold",
    )
    parser.add_argument(
        "--where",
        action="append",
        metavar="KEY=VALUE",
        help="metadata filter, repeatable (ANDed): k=v k!=v k<v k<=v k>v k>=v k~text 'k in a,b'",
    )
    parser.add_argument(
        "--on",
        action="append",
        choices=FIELDS,
        help="search this field (repeatable; default: every embedded field)",
    )
    parser.add_argument(
        "--method",
        choices=["hybrid", "semantic", "lexical"],
        help="hybrid (default: dense + BM25 fused, feedback, labels, topics), semantic "
        "(dense similarity alone) or lexical (BM25: no model, no embeddings needed)",
    )
    parser.add_argument("--lexical", action="store_true", help="the same as --method lexical")
    parser.add_argument(
        "--topics", action="store_true", help="print the pool's capability map (topics)"
    )
    parser.add_argument("--encoder", help="encoder name (default all-MiniLM-L6-v2)")
    search = parser.add_mutually_exclusive_group()
    search.add_argument("--exact", action="store_true", help="exact search even with an index")
    search.add_argument("--ann", action="store_true", help="use the ANN index (must exist)")
    parser.add_argument("--save", metavar="NAME", help="save the benchmark in the pool")
    parser.add_argument("--overwrite", action="store_true", help="replace a saved benchmark")
    parser.add_argument("--load", metavar="NAME", help="use a saved benchmark instead of a query")
    parser.add_argument("--list", action="store_true", help="list the saved benchmarks")
    parser.add_argument("--rank", action="store_true", help="rank the models on the benchmark")
    parser.add_argument(
        "--rank-method", default=DEFAULT_METHOD, choices=methods, help=f"(default {DEFAULT_METHOD})"
    )
    parser.add_argument("--bootstrap", type=int, default=0, help="bootstrap replicates for --rank")
    parser.add_argument(
        "--min-samples",
        type=int,
        default=1,
        metavar="N",
        help="--rank: leave out models measured on fewer than N of the samples",
    )
    parser.add_argument("--show", type=int, default=10, help="samples to print (default 10)")


def add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder", help="encoder name or path (default all-MiniLM-L6-v2)")
    parser.add_argument(
        "--field", action="append", choices=FIELDS, help="what to embed (repeatable; default: text)"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", help="torch device (default: cuda when present, else cpu)")
    parser.add_argument("--index", action="store_true", help="also build the ANN index")
    parser.add_argument(
        "--variant",
        choices=["float32", "onnx-int8"],
        help="default encoder's variant (default: onnx-int8 on a CPU when onnxruntime is "
        "installed; a field keeps the variant of its first embeddings)",
    )
    parser.add_argument(
        "--propagate",
        metavar="KEY",
        action="append",
        help="then infer the metadata label KEY (e.g. category) for samples without one",
    )
    parser.add_argument(
        "--topics", action="store_true", help="then build the capability map (topics)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_embed(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from .pool import Pool

    pool = Pool.open(pool_path)
    _quiet_model_loading()
    fields = args.field or ["text"]
    reports = pool.embed(
        args.encoder,
        fields=fields,
        batch_size=args.batch_size,
        device=args.device,
        progress=not args.no_progress,
        variant=getattr(args, "variant", None),
    )
    payload: dict[str, Any] = {
        "embedded": [
            {
                "encoder": r.encoder,
                "field": r.field,
                "embedded": r.embedded,
                "already": r.already,
                "empty": r.empty,
                "seconds": round(r.seconds, 3),
            }
            for r in reports
        ]
    }
    lines = [
        f"{r.field}: embedded {r.embedded} samples with {r.encoder} in {r.seconds:.1f} s"
        + (f" ({r.samples_per_second:.0f}/s)" if r.embedded else "")
        + f"; {r.already} already had one, {r.empty} have no {r.field}"
        for r in reports
    ]
    if args.index:
        indexes = pool.build_index(reports[0].encoder, fields=fields)
        payload["indexes"] = [
            {"field": i.field, "rows": i.rows, "seconds": round(i.seconds, 3)} for i in indexes
        ]
        lines += [f"{i.field}: ANN index over {i.rows} rows in {i.seconds:.1f} s" for i in indexes]
    for key in getattr(args, "propagate", None) or []:
        report = pool.propagate_labels(key, encoder=args.encoder)
        payload.setdefault("labels", []).append(
            {
                "key": report.key,
                "labelled": report.labelled,
                "inferred": report.inferred,
                "confident": report.confident,
                "values": report.values,
            }
        )
        lines.append(
            f"{key}: inferred for {report.inferred} samples from {report.labelled} labelled "
            f"ones; {report.confident} confident enough to stand in for a label"
        )
    if getattr(args, "topics", False):
        topics = pool.topics(encoder=args.encoder, rebuild=True)
        payload["topics"] = topics["topics"]
        lines.append(f"capability map: {len(topics['topics'])} topics (onebench query --topics)")
    return payload, "\n".join(lines)


def embed_after_import(
    args: argparse.Namespace, pool_path: Path, payload: dict[str, Any], text: str
) -> tuple[dict[str, Any], str]:
    """``onebench import --embed``: embed what the import added, with the default encoder."""
    embed_args = argparse.Namespace(
        encoder=None, field=None, batch_size=64, device=None, index=False, no_progress=False
    )  # variant, propagate and topics: their defaults
    embedded, embed_text = run_embed(embed_args, pool_path)
    return {**payload, **embedded}, f"{text}\n{embed_text}"


def run_query(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from .exceptions import InvalidInputError
    from .pool import Pool

    pool = Pool.open(pool_path)
    if args.list:
        return _list(pool)
    if args.topics:
        return _topics(pool, args.encoder)
    if args.load:
        if args.text is not None or args.image is not None or args.where:
            raise InvalidInputError(
                "query: --load NAME takes no query text, --image or --where", field="query"
            )
        benchmark = pool.benchmark(args.load)
    else:
        if args.text is None and args.image is None and not args.where:
            raise InvalidInputError(
                "query: give a text, --image, --where, --load NAME or --list", field="query"
            )
        threshold = args.threshold
        if threshold not in (None, "default"):
            try:
                threshold = float(threshold)
            except ValueError as error:
                raise InvalidInputError(
                    f"--threshold: expected a number, got {threshold!r}", field="threshold"
                ) from error
        if not args.lexical and args.method != "lexical":
            _quiet_model_loading()
        benchmark = pool.query(
            args.text,
            image=args.image,
            top_k=args.top_k,
            threshold=threshold,
            where=args.where,
            on=args.on,
            method="lexical" if args.lexical else (args.method or "hybrid"),
            encoder=args.encoder,
            index="exact" if args.exact else "ann" if args.ann else "auto",
        )
    if args.save:
        benchmark = pool.save_benchmark(benchmark, args.save, overwrite=args.overwrite)
    payload: dict[str, Any] = {"benchmark": benchmark.to_dict()}
    text = _samples_text(pool, benchmark, args.show)
    if args.rank:
        leaderboard = pool.rank(
            benchmark,
            method=args.rank_method,
            bootstrap=args.bootstrap,
            min_samples=args.min_samples,
        )
        payload["leaderboard"] = leaderboard.to_dict()
        text += "\n\n" + str(leaderboard)
    if args.save:
        text += f"\n\nsaved as benchmark {benchmark.name!r}"
    return payload, text


def _quiet_model_loading() -> None:
    """Our own progress bar says what embedding does; transformers' bar for loading
    weights only adds noise to stderr."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()


def _topics(pool: Any, encoder: str | None) -> tuple[dict[str, Any], str]:
    from ._table import format_table

    _quiet_model_loading()
    topics = pool.topics(encoder=encoder)
    body = [
        [
            str(t["topic"]),
            str(t["size"]),
            t["label"],
            ", ".join(f"{name} {count}" for name, count in t["benchmarks"].items()),
        ]
        for t in topics["topics"]
    ]
    text = f"capability map: {len(body)} topics over {topics['samples']} samples\n"
    text += format_table(
        ["topic", "samples", "label (main label: distinctive words)", "sources"], body, align="rrll"
    )
    return {"topics": topics["topics"]}, text


def _list(pool: Any) -> tuple[dict[str, Any], str]:
    from ._table import format_table

    rows = []
    for name in pool.benchmarks():
        benchmark = pool.benchmark(name)
        query = benchmark.query
        rows.append(
            {
                "name": name,
                "samples": len(benchmark),
                "query": query.get("text") or query.get("op") or "",
            }
        )
    body = [[r["name"], str(r["samples"]), str(r["query"])] for r in rows]
    text = (
        format_table(["name", "samples", "query"], body, align="lrl")
        if rows
        else ("no saved benchmarks")
    )
    return {"benchmarks": rows}, text


def _samples_text(pool: Any, benchmark: Any, show: int) -> str:
    from ._table import format_table

    query = benchmark.query
    what = query.get("text") or query.get("image") or query.get("op") or "filter"
    how = ", ".join(
        f"{key}={query[key]}"
        for key in ("method", "encoder", "index", "top_k", "threshold")
        if query.get(key) is not None
    )
    cutoff = query.get("cutoff")
    if cutoff:
        how += (", " if how else "") + (
            f"cut-off: score >= {cutoff['score']:.3f} (Otsu over {cutoff['candidates']} candidates)"
        )
    lines = [f"{len(benchmark)} samples for {what!r}" + (f" ({how})" if how else "")]
    if query.get("note"):
        lines.append(str(query["note"]))
    retrieval = query.get("retrieval") or {}
    if retrieval.get("labels"):
        lines.append("labels matched: " + ", ".join(retrieval["labels"]))
    if len(benchmark) and show > 0:
        table = pool.samples()
        position = {sid: i for i, sid in enumerate(table.column("sample_id").to_pylist())}
        texts = table.column("text")
        benchmarks = table.column("benchmark")
        body = []
        for sample_id, similarity in list(
            zip(benchmark.sample_ids, benchmark.similarities, strict=True)
        )[:show]:
            index = position.get(sample_id)
            snippet = "" if index is None else " ".join(str(texts[index]).split())[:60]
            body.append(
                [
                    "-" if math.isnan(similarity) else f"{similarity:.3f}",
                    sample_id,
                    "" if index is None else str(benchmarks[index]),
                    snippet,
                ]
            )
        lines.append(
            format_table(["similarity", "sample", "benchmark", "text"], body, align="rlll")
        )
        if len(benchmark) > show:
            lines.append(f"... {len(benchmark) - show} more (--show N, or --json for all)")
    return "\n".join(lines)
