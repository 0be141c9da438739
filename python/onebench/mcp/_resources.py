"""Resources (pool stats, benchmark definitions, leaderboards) and the guiding prompt."""

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.mcpserver.prompts.base import UserMessage

from ..exceptions import OnebenchError
from ._analysis import leaderboard_result
from ._models import BenchmarkDefinition
from ._selection import select
from ._state import PoolState
from ._tools import benchmark_list, pool_stats_result, saved_benchmarks

__all__ = ["register_prompts", "register_resources"]

_JSON = "application/json"


def register_resources(server: MCPServer, state: PoolState) -> None:
    @server.resource(
        "onebench://pool/stats",
        name="pool-stats",
        description="Counts of the pool: samples, models, measurements, benchmarks.",
        mime_type=_JSON,
    )
    async def pool_stats_resource() -> str:
        return pool_stats_result(await state.snapshot(), state).model_dump_json(indent=1)

    @server.resource(
        "onebench://benchmarks",
        name="benchmarks",
        description="Every benchmark the tools accept by name, with sample counts.",
        mime_type=_JSON,
    )
    async def benchmarks_resource() -> str:
        snapshot = await state.snapshot()
        saved = await state.run_quick(saved_benchmarks, state)
        return benchmark_list(snapshot, saved).model_dump_json(indent=1)

    @server.resource(
        "onebench://benchmarks/{name}",
        name="benchmark",
        description="A benchmark's definition: its kind, query (if any) and sample ids.",
        mime_type=_JSON,
    )
    async def benchmark_resource(name: str) -> str:
        snapshot = await state.snapshot()
        saved = await state.run_quick(saved_benchmarks, state)
        listed = benchmark_list(snapshot, saved).benchmarks
        entry = next((item for item in listed if item.name == name), None)
        if entry is None:
            raise ResourceNotFoundError(f"unknown benchmark {name!r}")
        ids, _ = await select(state, snapshot, benchmark=name)
        definition = BenchmarkDefinition(**entry.model_dump(), sample_ids=ids or [])
        return definition.model_dump_json(indent=1)

    @server.resource(
        "onebench://topics",
        name="capability-map",
        description="The pool's capability map: its samples clustered into topics, each with "
        "its size, distinctive words, main label and sources (needs embeddings).",
        mime_type=_JSON,
    )
    async def topics_resource() -> str:
        import json

        from ..query._topics import load_topics

        try:
            topics = await state.run_quick(load_topics, state.pool.path)
            if topics is None and state.allow_writes:
                topics = await state.run_long(state.pool.topics)
        except OnebenchError as error:
            raise ResourceError(str(error)) from error
        if topics is None:
            raise ResourceError(
                "the pool has no capability map yet and this server may not write to it: "
                "run `onebench query --topics --pool <pool>` (after `onebench embed`)"
            )
        return json.dumps({"samples": topics["samples"], "topics": topics["topics"]}, indent=1)

    @server.resource(
        "onebench://leaderboards/{name}",
        name="leaderboard",
        description="The leaderboard (default method, Fisher intervals) of a benchmark, or of "
        "the whole pool for the name 'pool'.",
        mime_type=_JSON,
    )
    async def leaderboard_resource(name: str) -> str:
        snapshot = await state.snapshot()
        try:
            ids, selection = await select(
                state, snapshot, benchmark=None if name == "pool" else name
            )
        except OnebenchError as error:
            raise ResourceNotFoundError(str(error)) from error
        try:
            leaderboard = await state.run_long(state.pool.rank, ids)
        except OnebenchError as error:
            raise ResourceError(str(error)) from error
        return leaderboard_result(leaderboard, selection, 1_000).model_dump_json(indent=1)


def register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="find_best_model",
        description="Guides you from a capability described in words to a custom benchmark "
        "and a ranking of the models on it.",
    )
    def find_best_model(capability: str) -> list[UserMessage]:
        text = (
            f"Find the best models for this capability: {capability}\n\n"
            f"1. Call search_samples with query={capability!r} and read the returned "
            "sample texts: do they test that capability? Refine the query, top_k or "
            "threshold (or add a `where` filter such as a category; list_benchmarks shows "
            "the categories) until they do. Lexical search (used when the pool has no "
            "embeddings) matches words only: if its hits miss the point, select by "
            "category with `where` instead.\n"
            "2. Call create_benchmark with a short name and the same query arguments (or "
            "the sample_ids you kept) to save it.\n"
            "3. Call rank_models with benchmark=<that name>.\n"
            "4. Call compare_models on the top two of that ranking to see how often the "
            "first beats the second and in which categories each is stronger.\n"
            "Then answer with the ranking, saying how many samples each score rests on and how "
            "wide the intervals are; call models whose rank ranges overlap a tie rather than "
            "picking a winner the data cannot separate."
        )
        return [UserMessage(text)]
