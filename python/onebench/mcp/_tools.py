"""The read-only tools: rankings, comparisons, profiles, models, benchmarks, pool stats.

Arguments are bounded in their schemas (pydantic rejects a top_k of 10**9 before any work
starts), and every onebench error becomes a tool error that names the argument, so the
calling model can correct itself and the server keeps answering.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import ToolAnnotations
from pydantic import ConfigDict, Field

from ..exceptions import InvalidInputError, OnebenchError, UnknownIdError
from ..ranking import METHODS
from ._analysis import compare, leaderboard_result, profile
from ._models import (
    BenchmarkInfo,
    BenchmarkList,
    ComparisonResult,
    LeaderboardResult,
    ModelInfo,
    ModelList,
    ModelProfile,
    PoolStatsResult,
    SampleSelection,
)
from ._state import PoolState, Snapshot

__all__ = ["MAX_SAMPLE_IDS", "ToolSet", "read_tools", "select_samples", "tool_errors"]

MAX_SAMPLE_IDS = 20_000
MAX_BOOTSTRAP = 1_000
MAX_NAME = 200

_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])

Method = Literal[METHODS]  # type: ignore[valid-type]
BenchmarkName = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_NAME,
        description="a benchmark name from list_benchmarks (a source test set such as "
        "'mmlu_pro', or a saved custom benchmark)",
    ),
]
SampleIds = Annotated[
    list[Annotated[str, Field(max_length=MAX_NAME)]] | None,
    Field(max_length=MAX_SAMPLE_IDS, description="explicit sample ids to use instead"),
]
ModelName = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
GroupBy = Literal["category", "benchmark"]
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def tool_errors(function: _F) -> _F:
    """Turns onebench's errors (bad arguments, unknown ids) into tool errors whose text
    reaches the model; anything else stays a crash that the SDK reports generically."""

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await function(*args, **kwargs)
        except (OnebenchError, ValueError) as error:
            raise ToolError(str(error)) from error

    return wrapper  # type: ignore[return-value]


def select_samples(
    snapshot: Snapshot, benchmark: str | None, sample_ids: list[str] | None
) -> tuple[list[str] | None, SampleSelection]:
    """The samples named by a benchmark or a list of ids (None: the whole pool)."""
    if benchmark is not None and sample_ids is not None:
        raise InvalidInputError("give either benchmark or sample_ids, not both", field="benchmark")
    if benchmark is not None:
        ids = snapshot.samples_of_benchmark(benchmark)
        if not ids:
            known = sorted(snapshot.summary["benchmarks"])
            shown = ", ".join(repr(name) for name in known[:20])
            raise UnknownIdError(
                f"benchmark: unknown benchmark {benchmark!r}; known: {shown}"
                + (" ..." if len(known) > 20 else ""),
                field="benchmark",
                id=benchmark,
            )
        return ids, SampleSelection(
            kind="benchmark", description=f"benchmark {benchmark}", n_samples=len(ids)
        )
    if sample_ids is not None:
        if not sample_ids:
            raise InvalidInputError("sample_ids: the list is empty", field="sample_ids")
        ids = list(dict.fromkeys(sample_ids))
        return ids, SampleSelection(
            kind="sample_ids", description=f"{len(ids)} given samples", n_samples=len(ids)
        )
    return None, SampleSelection(
        kind="pool", description="the whole pool", n_samples=len(snapshot.sample_ids)
    )


class ToolSet:
    """Tools collected for ``MCPServer(tools=...)``, each rejecting unknown arguments: a
    misspelt ``benchmarks=`` must not silently rank the whole pool."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def tool(self, annotations: ToolAnnotations) -> Callable[[_F], _F]:
        def register(function: _F) -> _F:
            self.tools.append(
                _strict(Tool.from_function(tool_errors(function), annotations=annotations))
            )
            return function

        return register


def _strict(tool: Tool) -> Tool:
    loose = tool.fn_metadata.arg_model
    strict = type(
        loose.__name__,
        (loose,),
        {
            "model_config": ConfigDict(**loose.model_config, extra="forbid"),
            "__module__": loose.__module__,
        },
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = strict.model_json_schema(by_alias=True)
    return tool


def read_tools(tools: ToolSet, state: PoolState) -> bool:
    """Adds the read-only tools to ``tools``; returns whether semantic search is among them."""
    pool = state.pool

    @tools.tool(annotations=READ_ONLY)
    async def rank_models(
        benchmark: BenchmarkName = None,
        sample_ids: SampleIds = None,
        method: Method = "plackett-luce",
        ci: Annotated[float, Field(ge=0.5, le=0.999, description="confidence level")] = 0.95,
        bootstrap: Annotated[
            int,
            Field(
                ge=0,
                le=MAX_BOOTSTRAP,
                description="bootstrap replicates over samples for the intervals; 0 uses the "
                "Fisher information (fast). Bootstrap on a large selection takes minutes.",
            ),
        ] = 0,
        max_models: Annotated[int, Field(ge=1, le=1_000)] = 50,
    ) -> LeaderboardResult:
        """Rank models on a benchmark, on given samples, or on the whole pool.

        Models were measured on different, sparse parts of the pool; the ranking
        (Plackett-Luce by default) uses every measurement on the selected samples and
        reports each model's score with a confidence interval, a plausible rank range, and
        how many samples and measurements the score rests on. Prefer models whose interval
        is narrow; a model with few samples may be ranked high by chance. Pass either
        `benchmark` or `sample_ids`, or neither for the whole pool."""
        snapshot = await state.snapshot()
        ids, selection = select_samples(snapshot, benchmark, sample_ids)
        leaderboard = await state.run_long(
            pool.rank, ids, method=method, ci=ci, bootstrap=bootstrap
        )
        return leaderboard_result(leaderboard, selection, max_models)

    @tools.tool(annotations=READ_ONLY)
    async def compare_models(
        model_a: ModelName,
        model_b: ModelName,
        benchmark: BenchmarkName = None,
        sample_ids: SampleIds = None,
        by: GroupBy = "category",
    ) -> ComparisonResult:
        """Compare two models head to head on a benchmark, given samples, or the pool.

        Returns their Plackett-Luce scores and ranks on the selection, the modelled
        probability that model_a beats model_b on a sample, their direct record on the
        samples both were measured on, and that record per category (or per benchmark),
        which shows where each model is stronger."""
        snapshot = await state.snapshot()
        a = snapshot.resolve_model(model_a, "model_a")
        b = snapshot.resolve_model(model_b, "model_b")
        ids, selection = select_samples(snapshot, benchmark, sample_ids)
        return await state.run_long(compare, pool, snapshot, a, b, ids, selection, by)

    @tools.tool(annotations=READ_ONLY)
    async def model_profile(
        model: ModelName,
        by: GroupBy = "category",
        top: Annotated[int, Field(ge=1, le=20, description="strengths/weaknesses to name")] = 3,
    ) -> ModelProfile:
        """Strengths and weaknesses of one model, by sample category or by benchmark.

        For every group the model was measured on, it is ranked against all models on that
        group's samples; the result gives its rank, a percentile (1.0 = best), its mean
        score and the mean of all models on the same samples, and names the groups where
        it stands best and worst. Samples without a category are grouped by benchmark."""
        snapshot = await state.snapshot()
        name = snapshot.resolve_model(model)
        key = ("profile", name, by, top)
        if key not in snapshot.cache:
            snapshot.cache[key] = await state.run_long(profile, pool, snapshot, name, by, top)
        return snapshot.cache[key]

    @tools.tool(annotations=READ_ONLY)
    async def list_models(
        contains: Annotated[
            str | None,
            Field(max_length=MAX_NAME, description="only models whose id or alias contains it"),
        ] = None,
        benchmark: BenchmarkName = None,
        limit: Annotated[int, Field(ge=1, le=1_000)] = 100,
    ) -> ModelList:
        """List the models in the pool with their aliases and how much of the pool each was
        measured on (optionally only those measured on one benchmark)."""
        snapshot = await state.snapshot()
        if benchmark is not None and benchmark not in snapshot.summary["benchmarks"]:
            select_samples(snapshot, benchmark, None)  # raises, naming the known ones
        needle = contains.casefold() if contains else None
        models = []
        for model in sorted(snapshot.model_ids, key=str.casefold):
            n_measurements, n_samples, benchmarks = snapshot.model_counts[model]
            names = [model, *snapshot.aliases.get(model, [])]
            if needle and not any(needle in name.casefold() for name in names):
                continue
            if benchmark is not None and benchmark not in benchmarks:
                continue
            models.append(
                ModelInfo(
                    model=model,
                    aliases=snapshot.aliases.get(model, []),
                    n_measurements=n_measurements,
                    n_samples=n_samples,
                    benchmarks=benchmarks,
                )
            )
        return ModelList(total=len(models), models=models[:limit], truncated=len(models) > limit)

    @tools.tool(annotations=READ_ONLY)
    async def pool_stats() -> PoolStatsResult:
        """Counts of the pool: samples, models, measurements by kind, samples per source
        benchmark, and whether this server accepts writes."""
        return pool_stats_result(await state.snapshot(), state)

    @tools.tool(annotations=READ_ONLY)
    async def list_benchmarks() -> BenchmarkList:
        """List the benchmarks that rank_models and compare_models accept by name: the
        source test sets of the pool's samples (with their sample categories) and saved
        custom benchmarks."""
        return benchmark_list(await state.snapshot())

    return False


def pool_stats_result(snapshot: Snapshot, state: PoolState) -> PoolStatsResult:
    summary = snapshot.summary
    counts = summary["measurements"]
    return PoolStatsResult(
        path=summary["path"],
        version=summary["version"],
        samples=summary["samples"],
        models=summary["models"],
        measurements=counts["total"],
        cardinal=counts["cardinal"],
        pairwise=counts["pairwise"],
        rankings=counts["rankings"],
        cardinal_density=summary["cardinal_density"],
        benchmarks={name: entry["samples"] for name, entry in summary["benchmarks"].items()},
        writes_allowed=state.allow_writes,
    )


def benchmark_list(snapshot: Snapshot) -> BenchmarkList:
    categories: dict[str, set[str]] = {}
    for benchmark, category in zip(snapshot.benchmarks, snapshot.categories, strict=True):
        entry = categories.setdefault(str(benchmark), set())
        if category is not None:
            entry.add(category)
    return BenchmarkList(
        benchmarks=[
            BenchmarkInfo(
                name=name,
                kind="source",
                n_samples=entry["samples"],
                categories=sorted(categories.get(name, ())),
            )
            for name, entry in sorted(snapshot.summary["benchmarks"].items())
        ]
    )
