"""evaluate_model: a write tool (offered only when the server allows writes and its operator
configured runner profiles) that runs a model on samples of the pool and commits the grades,
reporting progress as it goes.

The client picks a profile by name, a checkpoint from that profile's list and generation
options; the runner, its endpoint, its key variable and everything it loads come from the
profile (see _profiles.py). Grader options are not the client's either: each grader runs
with its defaults (the code grader in its sandbox)."""

import time
from collections.abc import Callable, Mapping
from typing import Annotated, Literal

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
from ._profiles import RunnerProfile, describe_profiles
from ._selection import select
from ._state import PoolState

__all__ = ["MAX_EVALUATION_SAMPLES", "evaluation_tools"]

MAX_EVALUATION_SAMPLES = 10_000
#: Seconds between two progress notifications while outputs stream in.
_PROGRESS_INTERVAL = 0.5


def evaluation_tools(
    tools: ToolSet, state: PoolState, profiles: Mapping[str, RunnerProfile]
) -> None:
    """Adds evaluate_model to ``tools``, running models only as ``profiles`` allow."""
    names = tuple(profiles)
    profile_name = Literal[names]  # type: ignore[valid-type]

    @tools.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        )
    )
    async def evaluate_model(
        model: ModelName,
        context: Context,
        profile: Annotated[
            profile_name | None,
            Field(
                description="how to run the model, one of the runner profiles the server's "
                f"operator configured: {describe_profiles(profiles)}. Default: the only "
                "profile, when there is one"
            ),
        ] = None,
        checkpoint: Annotated[
            str | None,
            Field(
                max_length=1_000,
                description="one of the profile's checkpoints (default: model, when the "
                "profile lists it, else the profile's only checkpoint)",
            ),
        ] = None,
        benchmark: BenchmarkName = None,
        query: Query = None,
        sample_ids: SampleIds = None,
        top_k: TopK = None,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        grader: Annotated[
            str | None,
            Field(max_length=100, description="grader name; default: chosen per sample"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_EVALUATION_SAMPLES)] = 100,
        budget: Annotated[
            str | None,
            Field(max_length=40, description="a cap such as '500 samples' or '20k tokens'"),
        ] = None,
        max_new_tokens: Annotated[int, Field(ge=1, le=8_192)] = 256,
        temperature: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0,
        top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0,
        stop: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=8, description="strings that end an output"),
        ] = None,
        seed: Annotated[int | None, Field(ge=0, le=2**31 - 1)] = None,
    ) -> EvaluationResult:
        """Run a model on samples of the pool, grade its outputs and commit the grades as
        measurements; progress is reported while it runs.

        Choose the samples with `benchmark`, `query` or `sample_ids` (at most `limit` of
        them) and how to run the model with `profile` (the server's runner profiles) and
        `checkpoint`. Samples the model already has a grade for are skipped, so repeating
        a call continues an interrupted run instead of redoing it. Afterwards rank_models
        includes the model."""
        chosen = _profile(profiles, profile)
        target = chosen.checkpoint(model, checkpoint)
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
        options = {
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "stop": tuple(stop or ()),
            "seed": seed,
        }
        report = await state.run_long(
            evaluate,
            state.pool,
            model,
            ids,
            runner=chosen.runner,
            checkpoint=target,
            runner_settings=dict(chosen.settings),
            grader=grader,
            options=options,
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


def _profile(profiles: Mapping[str, RunnerProfile], name: str | None) -> RunnerProfile:
    if name is None and len(profiles) == 1:
        return next(iter(profiles.values()))
    if name is None or name not in profiles:
        raise InvalidInputError(
            f"profile: choose one of the server's runner profiles: {', '.join(profiles)}",
            field="profile",
        )
    return profiles[name]


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
