"""``onebench eval``: run a model on a benchmark's samples, grade, commit; or, with
``--against`` and ``--judge``, judge two models' stored outputs pairwise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .exceptions import InvalidInputError

__all__ = ["add_eval_arguments", "resolve_benchmarks", "run_eval"]


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", required=True, help="the model's pool id (or alias)")
    add("--checkpoint", help="what the runner loads or calls, if not --model (path, hub name)")
    add(
        "--benchmark",
        action="append",
        default=[],
        help="a saved benchmark's name or a source benchmark (repeatable)",
    )
    add("--sample", action="append", default=[], help="a sample id (repeatable)")
    add("--runner", default="transformers", help="transformers | http | ray (default transformers)")
    add("--grader", help="grade every sample with this grader (default: per sample)")
    add(
        "--no-grade",
        action="store_true",
        help="only generate and keep the outputs (for judging them later with --against)",
    )
    add(
        "--grader-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="grader option, VALUE as JSON when it parses (repeatable)",
    )
    add("--max-new-tokens", type=int, default=256)
    add("--temperature", type=float, default=0.0, help="0 (default): greedy")
    add("--top-p", type=float, default=1.0)
    add("--stop", action="append", default=[], help="stop string (repeatable)")
    add("--seed", type=int)
    add("--batch-size", type=int, help="transformers/ray: prompts per batch (default 16)")
    add("--device", help="transformers: cuda, cpu, ... (default: cuda when present)")
    add("--dtype", help="transformers/ray: float32, bfloat16, ... (default: bf16 on GPU)")
    add(
        "--chat-template",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the tokenizer's chat template (default: when it has one)",
    )
    add("--base-url", help="http: the endpoint, e.g. http://127.0.0.1:8000/v1")
    add("--api", choices=["chat", "completions"], help="http: which API (default chat)")
    add("--api-key-env", help="http: environment variable holding the API key")
    add("--concurrency", type=int, help="http: requests in flight (default 8)")
    add("--timeout", type=float, help="http: seconds per request (default 120)")
    add("--max-retries", type=int, help="http: retries on 429/5xx (default 6)")
    add("--ray-address", help="ray: cluster address ('auto', ray://...; default local)")
    add("--replicas", type=int, help="ray: model replicas (default: one per GPU)")
    add("--limit", type=int, help="only the first N selected samples")
    add("--budget", help="spend at most this much now: '500' samples or '20k tokens'")
    add("--chunk-size", type=int, default=64, help="samples per saved part and commit")
    add("--against", help="judge --model against this model's stored outputs (pairwise)")
    add("--judge", help="the judge model for --against")
    add("--judge-runner", default="http", help="runner kind of the judge (default http)")
    add("--no-progress", action="store_true", help="no progress bar on stderr")


def resolve_benchmarks(pool: Any, names: list[str]) -> list[str]:
    """Sample ids of saved benchmarks (by name) or source benchmarks, in order, deduplicated."""
    saved: set[str] = set()
    try:
        from .query import list_benchmarks, load_benchmark

        saved = set(list_benchmarks(pool))
    except ImportError:  # querying not installed: source benchmarks only
        load_benchmark = None  # type: ignore[assignment]
    table = pool.samples()
    ids, benchmarks = table.column("sample_id").to_pylist(), table.column("benchmark").to_pylist()
    selected: dict[str, None] = {}
    for name in names:
        if name in saved and load_benchmark is not None:
            selected.update(dict.fromkeys(load_benchmark(pool, name)))
            continue
        found = [
            sample for sample, benchmark in zip(ids, benchmarks, strict=True) if benchmark == name
        ]
        if not found:
            raise InvalidInputError(
                f"benchmark: {name!r} is neither a saved benchmark nor a source benchmark "
                "of the pool",
                field="benchmark",
            )
        selected.update(dict.fromkeys(found))
    return list(selected)


def _option(text: str) -> tuple[str, Any]:
    import json  # here, not at the top: the parser loads this module for `--help`

    key, separator, value = text.partition("=")
    if not separator or not key:
        raise InvalidInputError(
            f"grader-option: expected KEY=VALUE, got {text!r}", field="grader_option"
        )
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _runner_settings(args: argparse.Namespace) -> dict[str, Any]:
    by_kind = {
        "transformers": {
            "batch_size": args.batch_size,
            "device": args.device,
            "dtype": args.dtype,
            "chat_template": args.chat_template,
        },
        "http": {
            "base_url": args.base_url,
            "api": args.api,
            "api_key_env": args.api_key_env,
            "concurrency": args.concurrency,
            "timeout": args.timeout,
            "max_retries": args.max_retries,
        },
        "ray": {
            "address": args.ray_address,
            "replicas": args.replicas,
            "batch_size": args.batch_size,
            "dtype": args.dtype,
            "chat_template": args.chat_template,
        },
    }
    settings = by_kind.get(args.runner, {})
    return {key: value for key, value in settings.items() if value is not None}


class _Bar:
    """A tqdm progress bar on stderr with samples/s and tokens/s. It starts with the first
    output, so that loading the model does not count against the throughput."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                self.enabled = False
                return
            self.bar = tqdm(total=event.total, unit="sample", file=sys.stderr, dynamic_ncols=True)
        self.bar.total = event.total
        self.bar.n = event.done
        self.bar.set_postfix_str(f"{event.tokens_per_second:.1f} tok/s", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_eval(args: argparse.Namespace, pool_path: Path) -> tuple[dict[str, Any], str]:
    from .pool import Pool

    pool = Pool.open(pool_path)
    samples: list[str] | None = None
    if args.benchmark or args.sample:
        samples = resolve_benchmarks(pool, args.benchmark) + list(args.sample)
    bar = _Bar(not args.no_progress)
    try:
        if args.against:
            return _run_judging(args, pool, samples, bar)
        from ._eval import evaluate

        report = evaluate(
            pool,
            args.model,
            samples,
            runner=args.runner,
            grader=args.grader,
            grader_options=dict(_option(text) for text in args.grader_option),
            grade=not args.no_grade,
            checkpoint=args.checkpoint,
            options={
                "max_new_tokens": args.max_new_tokens,
                "temperature": args.temperature,
                "top_p": args.top_p,
                "stop": args.stop,
                "seed": args.seed,
            },
            runner_settings=_runner_settings(args),
            limit=args.limit,
            budget=args.budget,
            chunk_size=args.chunk_size,
            progress=bar,
        )
    finally:
        bar.close()
    lines = [
        f"run {report.run_id}: model {report.model}, {report.selected} samples selected, "
        f"{report.already_measured} already measured",
        f"generated {report.generated}, reused {report.reused}, failed {report.failed}; "
        f"committed {report.committed} measurements",
        f"tokens: {report.prompt_tokens} prompt, {report.completion_tokens} completion in "
        f"{report.seconds:.1f}s",
    ]
    lines += [
        f"  {label}: {totals['committed']:g} graded, mean {totals['mean']:.3f}"
        for label, totals in report.graders.items()
    ]
    if report.stopped:
        lines.append(f"stopped early: {report.stopped} reached; run again to continue")
    return report.to_dict(), "\n".join(lines)


def _run_judging(
    args: argparse.Namespace, pool: Any, samples: list[str] | None, bar: _Bar
) -> tuple[dict[str, Any], str]:
    from ._judging import judge_pairs
    from .infer import load_runner

    if not args.judge:
        raise InvalidInputError("judge: --against needs --judge MODEL", field="judge")
    runner_args = argparse.Namespace(**{**vars(args), "runner": args.judge_runner})
    judge = load_runner(
        args.judge_runner,
        args.judge,
        options={"max_new_tokens": args.max_new_tokens, "temperature": 0.0},
        **_runner_settings(runner_args),
    )
    try:
        report = judge_pairs(
            pool, args.model, args.against, samples, judge=judge, limit=args.limit, progress=bar
        )
    finally:
        judge.close()
    text = (
        f"judge {report.judge}: {report.model_a} vs {report.model_b} on {report.judged} "
        f"samples ({report.already_judged} already judged, {report.without_outputs} without "
        f"outputs): {report.wins_a} / {report.wins_b} / {report.ties} ties, "
        f"{report.unreadable} unreadable; committed {report.committed}"
    )
    return report.to_dict(), text
