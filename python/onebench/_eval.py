"""Evaluation runs: a model on pool samples → outputs (kept) → grades → measurements.

Flow per chunk of samples: generate the outputs the run does not have yet, write them to the
run (one atomic part), grade, commit the measurements to the pool (one atomic commit per
grader), write the grades. Restarted after a crash or Ctrl-C, the same evaluation finds its
run by its settings: outputs already written are reused, not generated again, and cells
that already have a measurement of the same grader are skipped, so nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ._eval_plan import canonical_model, choose_grader, measured_cells, select_samples
from ._eval_types import Budget, EvalProgress, EvalReport, parse_budget
from ._runs import RunStore
from .exceptions import InvalidInputError, OnebenchError
from .graders._protocol import Grader, GradingSample
from .infer._runner import Generation, GenerationOptions, Prompt, Runner, load_runner

__all__ = ["Budget", "EvalProgress", "EvalReport", "evaluate", "parse_budget"]

SOURCE = "onebench eval"


def evaluate(
    pool: Any,
    model: str,
    samples: Any = None,
    *,
    runner: Runner | str = "transformers",
    grader: str | None = None,
    grader_options: dict[str, Any] | None = None,
    grade: bool = True,
    checkpoint: str | None = None,
    options: GenerationOptions | dict[str, Any] | None = None,
    runner_settings: dict[str, Any] | None = None,
    limit: int | None = None,
    budget: Budget | int | str | None = None,
    chunk_size: int = 64,
    progress: Callable[[EvalProgress], None] | None = None,
) -> EvalReport:
    """Runs ``model`` on ``samples`` (ids, a Benchmark, None for the whole pool) and
    commits graded measurements to ``pool``.

    ``runner`` is a :class:`~onebench.infer.Runner` or a runner kind ('transformers',
    'http', 'ray') built for ``checkpoint`` (default: ``model``) with ``options`` and
    ``runner_settings``. ``grader`` (with ``grader_options``) grades every sample; without
    it each sample's metadata or shape picks one. ``grade=False`` only generates and keeps
    the outputs (for pairwise judging, :func:`~onebench._judging.judge_pairs`). ``limit``
    keeps the first samples; ``budget`` caps what this call spends (samples or tokens, see
    :func:`parse_budget`).
    """
    budget = parse_budget(budget)
    if chunk_size < 1:
        raise InvalidInputError("chunk_size: must be at least 1", field="chunk_size")
    pool.refresh()
    rows = select_samples(pool, samples, limit)
    graders: dict[str, Grader] = {}
    plan = [
        (GradingSample.from_row(row), choose_grader(row, grader, grader_options, graders))
        if grade
        else (GradingSample.from_row(row), "")
        for row in rows
    ]
    known = canonical_model(pool, model)
    model_id = known or model
    done = measured_cells(pool, known, plan) if grade else set()
    remaining = [(sample, label) for sample, label in plan if (sample.sample_id, label) not in done]
    if grade and not remaining:
        return EvalReport(run_id="", model=model_id, selected=len(plan), already_measured=len(plan))

    owned = isinstance(runner, str)
    if isinstance(runner, str):
        runner = load_runner(
            runner, checkpoint or model, options=options, **(runner_settings or {})
        )
    try:
        store = RunStore.open(pool.path, model_id, runner)
        with store.locked():
            if not grade:  # outputs only: what the run already has is done
                saved = store.latest_outputs()
                remaining = [item for item in remaining if item[0].sample_id not in saved]
            pending, stopped = remaining, None
            if budget is not None and budget.unit == "samples" and len(remaining) > budget.amount:
                pending, stopped = remaining[: budget.amount], "budget"
            report = EvalReport(
                run_id=store.run_id,
                model=model_id,
                selected=len(plan),
                already_measured=len(plan) - len(remaining),
                pending=len(pending),
                stopped=stopped,
            )
            _run_chunks(
                pool,
                runner,
                store,
                graders,
                pending,
                report,
                budget,
                chunk_size,
                progress,
                register_model=known is None,
            )
    finally:
        if owned:
            runner.close()
    return report


def _run_chunks(
    pool: Any,
    runner: Runner,
    store: RunStore,
    graders: dict[str, Grader],
    pending: Sequence[tuple[GradingSample, str]],
    report: EvalReport,
    budget: Budget | None,
    chunk_size: int,
    progress: Callable[[EvalProgress], None] | None,
    register_model: bool,
) -> None:
    started = time.perf_counter()
    saved = store.latest_outputs()
    session = {
        "runner_settings": runner.settings(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    extra = {
        "run": store.run_id,
        "runner": runner.kind,
        "checkpoint": runner.model,
        "generation": runner.options.to_dict(),
    }
    finished = 0

    def tell(stage: str) -> None:
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(
                EvalProgress(
                    stage,
                    finished,
                    len(pending),
                    report.prompt_tokens,
                    report.completion_tokens,
                    report.seconds,
                )
            )

    for start in range(0, len(pending), chunk_size):
        if (
            budget is not None
            and budget.unit == "tokens"
            and (report.prompt_tokens + report.completion_tokens >= budget.amount)
        ):
            report.stopped = "budget"
            break
        chunk = pending[start : start + chunk_size]
        fresh = [sample for sample, _ in chunk if sample.sample_id not in saved]
        report.reused += len(chunk) - len(fresh)
        finished += len(chunk) - len(fresh)
        if fresh:
            wanted = {sample.sample_id for sample in fresh}
            generations: list[Generation] = []
            try:
                for generation in runner.generate([Prompt(s.sample_id, s.text) for s in fresh]):
                    if generation.sample_id not in wanted:
                        raise OnebenchError(
                            f"runner {runner.kind!r} returned an output for "
                            f"{generation.sample_id!r}, which it was not asked for"
                        )
                    wanted.discard(generation.sample_id)
                    generations.append(generation)
                    report.prompt_tokens += generation.prompt_tokens
                    report.completion_tokens += generation.completion_tokens
                    finished += 1
                    tell("generation")
            except KeyboardInterrupt:
                # Keep what was generated before Ctrl-C; the restart reuses it.
                if generations:
                    store.append_outputs(generations, session)
                raise
            store.append_outputs(generations, session)
            report.failed += len(wanted)  # prompts the runner gave no output for
            for generation in generations:
                if generation.error:
                    report.failed += 1
                else:
                    report.generated += 1
                    saved[generation.sample_id] = {"text": generation.text}
            tell("saved")
        if graders:
            _grade_and_commit(pool, graders, chunk, saved, store, extra, report, register_model)
            register_model = False
            tell("committed")
    report.seconds = time.perf_counter() - started


def _grade_and_commit(
    pool: Any,
    graders: dict[str, Grader],
    chunk: Sequence[tuple[GradingSample, str]],
    saved: dict[str, dict[str, Any]],
    store: RunStore,
    extra: dict[str, Any],
    report: EvalReport,
    register_model: bool,
) -> None:
    by_label: dict[str, list[tuple[str, float]]] = {}
    grade_rows = []
    for sample, label in chunk:
        output = saved.get(sample.sample_id)
        if output is None:
            continue  # the runner failed on it; a later evaluation retries
        grade = graders[label].grade(sample, output["text"])
        by_label.setdefault(label, []).append((sample.sample_id, grade.score))
        grade_rows.append((sample.sample_id, label, grade.score, grade.explanation))
    for label, graded in by_label.items():
        grader = graders[label]
        committed = pool.add_measurements(
            {
                "sample_id": [sample_id for sample_id, _ in graded],
                "model": [report.model] * len(graded),
                "score": [score for _, score in graded],
            },
            kind=grader.kind,
            higher_is_better=grader.higher_is_better,
            source=SOURCE,
            grader=label,
            extra=extra,
            models=[report.model] if register_model else None,
        )
        register_model = False
        report.committed += committed.added
        totals = report.graders.setdefault(label, {"committed": 0, "mean": 0.0})
        count = totals["committed"] + len(graded)
        totals["mean"] = (
            totals["mean"] * totals["committed"] + sum(score for _, score in graded)
        ) / count
        totals["committed"] = count
    if grade_rows:
        store.append_grades(grade_rows)
