"""The read-only tools: rankings, comparisons, profiles, models, benchmarks, pool stats.

Arguments are bounded in their schemas (pydantic rejects a top_k of 10**9 before any work
starts), and every onebench error becomes a tool error that names the argument, so the
calling model can correct itself and the server keeps answering.
"""

from typing import Annotated

from pydantic import Field

from ..exceptions import InvalidInputError
from ..ranking import DEFAULT_METHOD
from ._analysis import compare, leaderboard_result, models_measured_on, profile
from ._arguments import (
    MAX_BOOTSTRAP,
    MAX_BOOTSTRAP_WORK,
    MAX_MIN_SAMPLES,
    MAX_NAME,
    READ_ONLY,
    BenchmarkName,
    GroupBy,
    Method,
    ModelName,
    Query,
    SampleIds,
    SearchMethod,
    Threshold,
    ToolSet,
    TopK,
    Where,
)
from ._models import (
    BenchmarkInfo,
    BenchmarkList,
    ComparisonResult,
    LeaderboardResult,
    ModelInfo,
    ModelList,
    ModelProfile,
    PoolStatsResult,
)
from ._selection import select
from ._state import PoolState, Snapshot

__all__ = ["benchmark_list", "pool_stats_result", "read_tools"]


def read_tools(tools: ToolSet, state: PoolState) -> None:
    """Adds the read-only tools about rankings, models and the pool to ``tools``."""
    pool = state.pool

    @tools.tool(annotations=READ_ONLY)
    async def rank_models(
        benchmark: BenchmarkName = None,
        query: Query = None,
        sample_ids: SampleIds = None,
        top_k: TopK = None,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        method: Method = DEFAULT_METHOD,
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
        min_samples: Annotated[
            int,
            Field(
                ge=1,
                le=MAX_MIN_SAMPLES,
                description="leave out of the table models measured on fewer of the selected "
                "samples (they are still fitted); e.g. 20 on a query's samples that also "
                "caught a few samples another set of models was measured on",
            ),
        ] = 1,
    ) -> LeaderboardResult:
        """Rank models on a benchmark, on the samples matching a query, on given samples,
        or on the whole pool.

        Models were measured on different, sparse parts of the pool; the ranking
        (the joint model by default) uses every measurement on the selected samples and
        reports each model's score with a confidence interval, a plausible rank range, and
        how many samples and measurements the score rests on. Prefer models whose interval
        is narrow; a model with few samples may be ranked high by chance (`min_samples`
        leaves such models out). Pass one of
        `benchmark`, `query` (refined by top_k, threshold, where), `where` alone (e.g.
        {'category': 'chemistry'}) or `sample_ids`, or none for the whole pool."""
        snapshot = await state.snapshot()
        ids, selection = await select(
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
        work = bootstrap * snapshot.measurements_on(ids)
        if work > MAX_BOOTSTRAP_WORK:
            raise InvalidInputError(
                f"bootstrap: {bootstrap} replicates over {work // bootstrap:,} measurements is "
                f"more work than one call may ask for ({MAX_BOOTSTRAP_WORK:,} replicate-"
                "measurements); use fewer replicates, a smaller selection, or bootstrap=0 "
                "(Fisher intervals)",
                field="bootstrap",
            )
        leaderboard = await state.run_long(
            pool.rank, ids, method=method, ci=ci, bootstrap=bootstrap, min_samples=min_samples
        )
        return leaderboard_result(leaderboard, selection, max_models)

    @tools.tool(annotations=READ_ONLY)
    async def compare_models(
        model_a: ModelName,
        model_b: ModelName,
        benchmark: BenchmarkName = None,
        query: Query = None,
        sample_ids: SampleIds = None,
        top_k: TopK = None,
        threshold: Threshold = None,
        where: Where = None,
        search: SearchMethod = "auto",
        by: GroupBy = "category",
    ) -> ComparisonResult:
        """Compare two models head to head on a benchmark, the samples matching a query,
        given samples, or the whole pool.

        Returns their scores (joint model) and ranks on the selection, the modelled
        probability that model_a beats model_b on a sample, their direct record on the
        samples both were measured on, and that record per category (or per benchmark),
        which shows where each model is stronger."""
        snapshot = await state.snapshot()
        a = snapshot.resolve_model(model_a, "model_a")
        b = snapshot.resolve_model(model_b, "model_b")
        ids, selection = await select(
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
        measured on (optionally only those with measurements on a benchmark's samples)."""
        snapshot = await state.snapshot()
        measured = None
        if benchmark is not None:
            ids, _ = await select(state, snapshot, benchmark=benchmark)
            measured = await state.run_quick(models_measured_on, pool, ids)
        needle = contains.casefold() if contains else None
        models = []
        for model in sorted(snapshot.model_ids, key=str.casefold):
            n_measurements, n_samples, benchmarks = snapshot.model_counts[model]
            names = [model, *snapshot.aliases.get(model, [])]
            if needle and not any(needle in name.casefold() for name in names):
                continue
            if measured is not None and model not in measured:
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
        snapshot = await state.snapshot()
        return benchmark_list(snapshot, await state.run_quick(saved_benchmarks, state))


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


def saved_benchmarks(state: PoolState) -> list[BenchmarkInfo]:
    """The pool's saved benchmarks, then those this (read-only) server keeps in memory."""
    pool = state.pool
    saved = [
        BenchmarkInfo(
            name=name,
            kind="session",
            n_samples=len(benchmark),
            query=benchmark.query.get("text"),
        )
        for name, benchmark in state.session_benchmarks.items()
    ]
    for name in pool.benchmarks():
        benchmark = pool.benchmark(name)
        saved.append(
            BenchmarkInfo(
                name=name,
                kind="saved",
                n_samples=len(benchmark),
                query=benchmark.query.get("text"),
            )
        )
    return saved


def benchmark_list(snapshot: Snapshot, saved: list[BenchmarkInfo]) -> BenchmarkList:
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
        + saved
    )
