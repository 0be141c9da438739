"""evaluate_model: a write tool (offered only when the server allows writes) that runs a
model on samples of the pool and commits the grades, reporting progress as it goes."""

import time
from collections.abc import Callable
from typing import Annotated

import anyio.from_thread
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import Field

from .._eval import EvalProgress, evaluate
from ..exceptions import InvalidInputError
from ._arguments import (
    BenchmarkName,
    ModelName,
    Query,
    SampleIds,
    SearchMethod,
    Threshold,
    ToolSet,
    TopK,
    Where,
)
from ._models import EvaluationResult
from ._selection import select
from ._state import PoolState

__all__ = ["MAX_EVALUATION_SAMPLES", "evaluation_tools"]

MAX_EVALUATION_SAMPLES = 10_000
#: Seconds between two progress notifications while outputs stream in.
_PROGRESS_INTERVAL = 0.5


def evaluation_tools(tools: ToolSet, state: PoolState) -> None:
    """Adds evaluate_model to ``tools``."""

    @tools.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        )
    )
    async def evaluate_model(
        model: ModelName,
        context: Context,
        benchmark: BenchmarkName = None,
        query: Query = None,
        sample_ids: SampleIds = None,
        top_k: TopK = None,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        runner: Annotated[
            str,
            Field(
                max_length=100,
                description="how to run the model: 'http' (any OpenAI-compatible endpoint), "
                "'transformers' (a local Hugging Face checkpoint) or 'ray'",
            ),
        ] = "http",
        checkpoint: Annotated[
            str | None,
            Field(
                max_length=1_000,
                description="what the runner loads or calls (checkpoint path, hub or API model "
                "name); default: model",
            ),
        ] = None,
        runner_settings: Annotated[
            dict[str, str | int | float | bool] | None,
            Field(
                max_length=32,
                description="runner options, e.g. {'base_url': 'http://127.0.0.1:8000/v1'}; "
                "API keys are read from the server's environment, never passed here",
            ),
        ] = None,
        grader: Annotated[
            str | None,
            Field(max_length=100, description="grader name; default: chosen per sample"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_EVALUATION_SAMPLES)] = 100,
        max_new_tokens: Annotated[int, Field(ge=1, le=8_192)] = 256,
        budget: Annotated[
            str | None,
            Field(max_length=40, description="a cap such as '500 samples' or '20k tokens'"),
        ] = None,
    ) -> EvaluationResult:
        """Run a model on samples of the pool, grade its outputs and commit the grades as
        measurements; progress is reported while it runs.

        Choose the samples with `benchmark`, `query` or `sample_ids` (at most `limit` of
        them). Samples the model already has a grade for are skipped, so repeating a call
        continues an interrupted run instead of redoing it. Afterwards rank_models
        includes the model."""
        snapshot = await state.snapshot()
        if benchmark is None and query is None and sample_ids is None:
            raise InvalidInputError(
                "choose the samples: benchmark, query or sample_ids", field="benchmark"
            )
        ids, _ = await select(
            state,
            snapshot,
            benchmark=benchmark,
            sample_ids=sample_ids,
            query=query,
            top_k=top_k,
            threshold=threshold,
            where=where,
            method=search,
        )
        report = await state.run_long(
            evaluate,
            state.pool,
            model,
            ids,
            runner=runner,
            checkpoint=checkpoint,
            runner_settings=dict(runner_settings or {}),
            grader=grader,
            options={"max_new_tokens": max_new_tokens},
            limit=limit,
            budget=budget,
            progress=_progress_reporter(context),
        )
        return EvaluationResult(
            run_id=report.run_id,
            model=report.model,
            selected=report.selected,
            already_measured=report.already_measured,
            generated=report.generated,
            reused=report.reused,
            failed=report.failed,
            committed=report.committed,
            prompt_tokens=report.prompt_tokens,
            completion_tokens=report.completion_tokens,
            seconds=report.seconds,
            stopped=report.stopped,
            mean_score={
                name: float(entry.get("mean", float("nan")))
                for name, entry in report.graders.items()
            },
        )


def _progress_reporter(context: Context) -> Callable[[EvalProgress], None]:
    """A progress callback for the evaluation's worker thread: it hands each notification
    to the event loop (at most one per _PROGRESS_INTERVAL while outputs stream in)."""
    last = [0.0]

    def report(progress: EvalProgress) -> None:
        now = time.monotonic()
        if progress.stage == "generation" and now - last[0] < _PROGRESS_INTERVAL:
            return
        last[0] = now
        message = (
            f"{progress.stage}: {progress.done}/{progress.total} samples, "
            f"{progress.completion_tokens} tokens generated"
        )
        anyio.from_thread.run(context.report_progress, progress.done, progress.total, message)

    return report
