"""The MCP tools, resources and prompt through the real `mcp` client, in memory."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import onebench
import pytest
from mcp_fixtures import build_synthetic_pool, category_ids

mcp = pytest.importorskip("mcp")
from mcp import Client  # noqa: E402
from onebench.infer import Generation, GenerationOptions, register_runner  # noqa: E402
from onebench.mcp import RunnerProfile, build_server  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "pool"
    build_synthetic_pool(path)
    return path


@pytest.fixture(scope="module")
def pool(pool_dir: Path) -> onebench.Pool:
    return onebench.Pool.open(pool_dir)


@pytest.fixture
def writable_dir(pool_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "pool"
    shutil.copytree(pool_dir, copy)
    return copy


async def call(client: Client, tool: str, /, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, /, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def test_tools_are_listed_with_descriptions_and_output_schemas(pool: onebench.Pool) -> None:
    async with Client(build_server(pool)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    expected = {"rank_models", "compare_models", "model_profile", "list_models", "pool_stats"}
    assert expected | {"list_benchmarks", "search_samples", "create_benchmark"} <= set(tools)
    assert "add_measurements" not in tools and "evaluate_model" not in tools
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        # Read-only: create_benchmark keeps what it makes in the server's memory.
        assert tool.annotations is not None and tool.annotations.read_only_hint
    assert tools["rank_models"].input_schema["additionalProperties"] is False
    bootstrap = tools["rank_models"].input_schema["properties"]["bootstrap"]
    assert bootstrap["maximum"] == 1000


async def test_rank_models_matches_the_python_api(pool: onebench.Pool) -> None:
    ids = category_ids(pool, "chemistry")
    async with Client(build_server(pool)) as client:
        whole = await call(client, "rank_models")
        by_benchmark = await call(client, "rank_models", benchmark="synthetic-b1", max_models=5)
        by_ids = await call(client, "rank_models", sample_ids=ids, method="mean")
    expected = pool.rank()
    assert [row["model"] for row in whole["models"]] == expected.models
    # The joint model's form and why travel with the leaderboard; other methods have none.
    assert expected.model_form is not None
    assert whole["model_form"]["name"] == expected.model_form.name
    assert whole["model_form"]["chosen_by"] == "cross-validation"
    assert [c["form"] for c in whole["model_form"]["candidates"]] == [
        c.form for c in expected.model_form.candidates
    ]
    assert by_ids["model_form"] is None
    assert whole["selection"] == {
        "kind": "pool",
        "description": "the whole pool",
        "n_samples": 3021,
    }
    for row, reference in zip(whole["models"], expected.rows, strict=True):
        assert row["score"] == pytest.approx(reference.score)
        assert row["ci_low"] == pytest.approx(reference.ci_low)
        assert (row["rank_low"], row["rank_high"]) == (reference.rank_low, reference.rank_high)
        assert row["n_samples"] == reference.n_samples
    samples = pool.samples()
    b1 = [
        sample_id
        for sample_id, benchmark in zip(
            samples.column("sample_id").to_pylist(),
            samples.column("benchmark").to_pylist(),
            strict=True,
        )
        if benchmark == "synthetic-b1"
    ]
    assert by_benchmark["selection"]["n_samples"] == len(b1)
    assert [row["model"] for row in by_benchmark["models"]] == pool.rank(b1).models[:5]
    assert by_benchmark["truncated"] and by_benchmark["n_models_ranked"] == 12
    mean = pool.rank(ids, method="mean")
    assert by_ids["method"] == "mean"
    assert [row["model"] for row in by_ids["models"]] == mean.models


async def test_rank_models_leaves_out_thinly_measured_models(pool: onebench.Pool) -> None:
    counts = sorted(row.n_samples for row in pool.rank().rows)
    threshold = counts[len(counts) // 2]
    async with Client(build_server(pool)) as client:
        thin = await call(client, "rank_models", min_samples=threshold, max_models=100)
    expected = pool.rank(min_samples=threshold)
    below = {row.model for row in pool.rank().rows if row.n_samples < threshold}
    assert below and set(thin["hidden"]) == below == set(expected.hidden)
    assert [row["model"] for row in thin["models"]] == expected.models
    assert [row["rank"] for row in thin["models"]] == list(range(1, len(expected) + 1))


async def test_compare_models_gives_win_probability_and_head_to_head(pool: onebench.Pool) -> None:
    leaderboard = pool.rank()
    first, second = leaderboard.models[0], leaderboard.models[-1]
    async with Client(build_server(pool)) as client:
        result = await call(client, "compare_models", model_a=first, model_b=second)
    score_a, score_b = leaderboard[first].score, leaderboard[second].score
    assert result["win_probability_a"] == pytest.approx(1 / (1 + math.exp(score_b - score_a)))
    assert result["win_probability_a"] > 0.5
    # The head-to-head record, recomputed here from the cardinal measurements.
    table = pool.measurements(models=[first, second], kinds=["binary", "numeric"]).to_pandas()
    wide = table.pivot_table(
        index="sample_id", columns="model", values="score", aggfunc="mean", observed=True
    )
    both = wide[[first, second]].dropna()
    cardinal_wins = int((both[first] > both[second]).sum())
    cardinal_losses = int((both[first] < both[second]).sum())
    pairwise = pool.measurements(models=[first, second], kinds=["pairwise", "ranking"]).to_pylist()
    direct = [
        row
        for row in pairwise
        if {row["model_a"], row["model_b"]} == {first, second}
        or (row["ranking"] and {first, second} <= {m for group in row["ranking"] for m in group})
    ]
    assert result["shared_samples"] == len(both) + len(direct)
    assert result["a_wins"] >= cardinal_wins and result["b_wins"] >= cardinal_losses
    assert result["a_wins"] + result["b_wins"] + result["ties"] == result["shared_samples"]
    groups = {group["group"]: group for group in result["by_group"]}
    assert {"algebra", "chemistry", "law"} <= set(groups)
    assert sum(group["shared_samples"] for group in groups.values()) == result["shared_samples"]
    for name, group in groups.items():
        expected = (
            "model_a"
            if group["a_wins"] > group["b_wins"]
            else "model_b"
            if group["b_wins"] > group["a_wins"]
            else "even"
        )
        assert group["stronger"] == expected
        assert (name in result["a_stronger_in"]) == (expected == "model_a")


async def test_model_profile_ranks_the_model_in_each_category(pool: onebench.Pool) -> None:
    model = pool.rank().models[5]
    async with Client(build_server(pool)) as client:
        profile = await call(client, "model_profile", model=model)
        by_benchmark = await call(client, "model_profile", model=model, by="benchmark", top=1)
    groups = {group["group"]: group for group in profile["groups"]}
    assert set(groups) == {"algebra", "chemistry", "law", "duels"}
    for category in ("algebra", "chemistry", "law"):
        leaderboard = pool.rank(category_ids(pool, category))
        assert groups[category]["rank"] == leaderboard[model].rank
        assert groups[category]["n_models"] == len(leaderboard)
        own = pool.measurements(
            category_ids(pool, category), models=[model], kinds=["binary", "numeric"]
        )
        assert groups[category]["mean_score"] == pytest.approx(
            float(np.mean(own.column("score").to_numpy()))
        )
    percentiles = [
        group["percentile"] for group in profile["groups"] if group["percentile"] is not None
    ]
    assert percentiles == sorted(percentiles, reverse=True)
    overall = profile["overall_percentile"]
    union = [sample_id for name in groups for sample_id in _group_ids(pool, name)]
    assert profile["overall_rank"] == pool.rank(union)[model].rank
    assert all(groups[name]["percentile"] > overall for name in profile["strengths"])
    assert all(groups[name]["percentile"] < overall for name in profile["weaknesses"])
    assert set(profile["strengths"]) | set(profile["weaknesses"]) == {
        name for name, group in groups.items() if group["percentile"] != overall
    }
    assert {group["group"] for group in by_benchmark["groups"]} == {
        "synthetic-b0",
        "synthetic-b1",
        "synthetic-b2",
        "duels",
    }
    assert len(by_benchmark["strengths"]) <= 1 and len(by_benchmark["weaknesses"]) <= 1


def _group_ids(pool: onebench.Pool, name: str) -> list[str]:
    if name in ("algebra", "chemistry", "law"):
        return category_ids(pool, name)
    table = pool.samples()
    return [
        sample_id
        for sample_id, benchmark in zip(
            table.column("sample_id").to_pylist(),
            table.column("benchmark").to_pylist(),
            strict=True,
        )
        if benchmark == name
    ]


async def test_list_models_stats_and_benchmarks(pool: onebench.Pool) -> None:
    async with Client(build_server(pool)) as client:
        models = await call(client, "list_models")
        some = await call(client, "list_models", contains="MODEL-00", limit=3)
        duels = await call(client, "list_models", benchmark="duels")
        stats = await call(client, "pool_stats")
        benchmarks = await call(client, "list_benchmarks")
    assert [entry["model"] for entry in models["models"]] == sorted(pool.model_ids())
    everything = pool.measurements().to_pandas()
    for entry in models["models"]:
        mine = everything[
            (everything["model"] == entry["model"])
            | (everything["model_a"] == entry["model"])
            | (everything["model_b"] == entry["model"])
            | everything["ranking"].map(
                lambda r, m=entry["model"]: r is not None and any(m in g for g in r)
            )
        ]
        assert entry["n_measurements"] == len(mine)
        assert entry["n_samples"] == mine["sample_id"].nunique()
    assert some["total"] == 10 and len(some["models"]) == 3 and some["truncated"]
    assert 0 < duels["total"] <= 12
    assert all("duels" in entry["benchmarks"] for entry in duels["models"])
    counts = pool.stats()
    assert (stats["samples"], stats["models"], stats["measurements"]) == (
        3021,
        12,
        counts.measurements,
    )
    assert stats["pairwise"] == 20 and stats["rankings"] == 1 and not stats["writes_allowed"]
    assert stats["benchmarks"]["duels"] == 21
    named = {entry["name"]: entry for entry in benchmarks["benchmarks"]}
    assert set(named) == {"synthetic-b0", "synthetic-b1", "synthetic-b2", "duels"}
    assert named["synthetic-b0"]["categories"] == ["algebra", "chemistry", "law"]
    assert named["duels"]["categories"] == [] and named["duels"]["kind"] == "source"


async def test_bad_arguments_are_tool_errors_and_the_server_keeps_answering(
    pool: onebench.Pool,
) -> None:
    async with Client(build_server(pool)) as client:
        unknown = await call_error(
            client, "compare_models", model_a="model-001", model_b="model-0001"
        )
        assert "model_b: unknown model 'model-0001'" in unknown and "model-001" in unknown
        same = await call_error(client, "compare_models", model_a="model-001", model_b="model-001")
        assert "two different models" in same
        assert "unknown model 'gpt-9'" in await call_error(client, "model_profile", model="gpt-9")
        assert "unknown benchmark 'nope'" in await call_error(
            client, "rank_models", benchmark="nope"
        )
        assert "less than or equal to 1000" in await call_error(
            client, "rank_models", max_models=10**9
        )
        assert "bootstrap" in await call_error(client, "rank_models", bootstrap=10**9)
        assert "empty" in await call_error(client, "rank_models", sample_ids=[])
        assert "unknown sample id 'x'" in await call_error(client, "rank_models", sample_ids=["x"])
        assert "not benchmark and sample_ids" in await call_error(
            client, "rank_models", benchmark="duels", sample_ids=["extra/0"]
        )
        assert "method" in await call_error(client, "rank_models", method="astrology")
        assert "at most 20000 items" in await call_error(
            client, "rank_models", sample_ids=["x"] * 20_001
        )
        assert "Unknown tool" in await call_error(client, "drop_pool")
        misspelt = await call_error(client, "rank_models", benchmarks="duels")
        assert "benchmarks" in misspelt and "Extra inputs are not permitted" in misspelt
        stats = await call(client, "pool_stats")
    assert stats["samples"] == 3021


async def test_read_only_server_refuses_writes(pool: onebench.Pool) -> None:
    version = pool.version
    async with Client(build_server(pool)) as client:
        assert "read-only" in (client.instructions or "")
        row = {"sample_id": "extra/1", "kind": "binary", "model": "model-000", "score": 1}
        message = await call_error(client, "add_measurements", rows=[row], source="agent")
        assert "add_measurements" in message
        assert (await call(client, "pool_stats"))["version"] == version
    assert onebench.Pool.open(pool.path).version == version


async def test_writes_commit_atomically_and_are_seen_at_once(writable_dir: Path) -> None:
    server = build_server(writable_dir, allow_writes=True)
    async with Client(server) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert "add_measurements" in tools
        before = await call(client, "pool_stats")
        assert before["writes_allowed"]
        samples = onebench.Pool.open(writable_dir).samples().to_pandas()
        binary = samples.loc[samples["metric"] == "binary", "sample_id"].iloc[0]
        rows = [
            {"sample_id": binary, "kind": "binary", "model": "newcomer", "score": 1},
            {
                "sample_id": "extra/2",
                "kind": "pairwise",
                "model_a": "newcomer",
                "model_b": "model-000",
                "winner": "a",
            },
            {
                "sample_id": "extra/2",
                "kind": "pairwise",
                "model_a": "newcomer",
                "model_b": "model-001",
                "winner": "tie",
            },
        ]
        bad = [
            *rows,
            {"sample_id": "no-such-sample", "kind": "binary", "model": "newcomer", "score": 1},
        ]
        message = await call_error(
            client, "add_measurements", rows=bad, source="agent", new_models=["newcomer"]
        )
        assert "rows[3].sample_id: unknown sample 'no-such-sample'" in message
        assert (await call(client, "pool_stats"))["version"] == before["version"]
        nan = await call_error(
            client,
            "add_measurements",
            rows=[{**rows[0], "model": "model-000", "score": math.nan}],
            source="agent",
        )
        assert "rows.0" in nan and "score" in nan  # JSON carries NaN as null
        mixed = await call_error(
            client, "add_measurements", rows=[{**rows[1], "score": 1.0}], source="agent"
        )
        assert "a pairwise measurement has no score" in mixed
        lacking = await call_error(
            client,
            "add_measurements",
            rows=[{"sample_id": binary, "kind": "binary", "model": "model-000"}],
            source="agent",
        )
        assert "a binary measurement needs model and score" in lacking
        commit = await call(
            client, "add_measurements", rows=rows, source="agent", new_models=["newcomer"]
        )
        assert commit == {
            "version": before["version"] + 1,
            "added": 3,
            "skipped": 0,
            "models_added": 1,
        }
        after = await call(client, "pool_stats")
        assert after["models"] == 13 and after["measurements"] == before["measurements"] + 3
        listed = await call(client, "list_models", contains="newcomer")
        assert listed["models"][0]["n_measurements"] == 3
        again = await call(client, "add_measurements", rows=rows[:2], source="agent")
        assert again["skipped"] == 2 and again["added"] == 0
    stored = onebench.Pool.open(writable_dir).measurements(models=["newcomer"]).to_pylist()
    assert {row["source"] for row in stored} == {"agent"}


async def test_the_server_sees_commits_of_other_writers(writable_dir: Path) -> None:
    server = build_server(writable_dir)
    async with Client(server) as client:
        before = await call(client, "pool_stats")
        other = onebench.Pool.open(writable_dir)
        other.add_measurements(
            [
                {
                    "sample_id": "extra/3",
                    "model_a": "late-model",
                    "model_b": "model-000",
                    "winner": "b",
                }
            ],
            kind="pairwise",
            models=["late-model"],
        )
        after = await call(client, "pool_stats")
        ranked = await call(client, "rank_models", benchmark="duels")
    assert after["version"] == before["version"] + 1 and after["models"] == before["models"] + 1
    assert ranked["selection"]["n_samples"] == 21


async def test_resources_and_prompt(pool: onebench.Pool) -> None:
    async with Client(build_server(pool)) as client:
        listed = {str(resource.uri) for resource in (await client.list_resources()).resources}
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
        stats = json.loads((await client.read_resource("onebench://pool/stats")).contents[0].text)
        definition = json.loads(
            (await client.read_resource("onebench://benchmarks/duels")).contents[0].text
        )
        board = json.loads(
            (await client.read_resource("onebench://leaderboards/duels")).contents[0].text
        )
        whole = json.loads(
            (await client.read_resource("onebench://leaderboards/pool")).contents[0].text
        )
        with pytest.raises(mcp.MCPError, match="unknown benchmark"):
            await client.read_resource("onebench://benchmarks/nope")
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        prompt = await client.get_prompt("find_best_model", {"capability": "organic chemistry"})
    assert {"onebench://pool/stats", "onebench://benchmarks"} <= listed
    assert {"onebench://benchmarks/{name}", "onebench://leaderboards/{name}"} <= templates
    assert stats["samples"] == 3021
    assert definition["sample_ids"] == [*(f"extra/{index}" for index in range(20)), "extra/ranked"]
    assert [row["model"] for row in board["models"]] == pool.rank(definition["sample_ids"]).models
    assert [row["model"] for row in whole["models"]] == pool.rank().models
    assert "find_best_model" in prompts
    text = prompt.messages[0].content.text
    assert "organic chemistry" in text and "rank_models" in text and "compare_models" in text


async def test_long_work_runs_off_the_event_loop(tmp_path: Path) -> None:
    """A bootstrap ranking holds the pool for seconds; quick tools answer meanwhile."""
    pool = build_synthetic_pool(tmp_path / "pool", n_models=20, n_samples=5000)
    finished: list[str] = []
    async with Client(build_server(pool)) as client:
        await call(client, "pool_stats")  # the snapshot exists before the long call starts

        async def long_ranking() -> None:
            result = await call(client, "rank_models", bootstrap=400)
            assert result["interval"] == "bootstrap"
            finished.append("ranking")

        async with anyio.create_task_group() as group:
            group.start_soon(long_ranking)
            await anyio.sleep(0.2)
            for _ in range(5):
                assert (await call(client, "list_models"))["total"] == 20
                assert (await call(client, "pool_stats"))["samples"] == 5021
                finished.append("quick")
    assert finished == ["quick"] * 5 + ["ranking"], finished


async def test_search_create_and_rank_a_saved_benchmark(writable_dir: Path) -> None:
    """Without embeddings, search falls back to lexical (BM25) search. With writes,
    create_benchmark saves to the pool (a read-only server keeps them in memory:
    test_mcp_security.py)."""
    pool = onebench.Pool.open(writable_dir)
    chemistry = set(category_ids(pool, "chemistry"))
    async with Client(build_server(pool, allow_writes=True)) as client:
        found = await call(client, "search_samples", query="chemistry question", top_k=30)
        assert found["search"] == "lexical" and found["n_results"] == 30
        assert all(hit["sample_id"] in chemistry for hit in found["samples"])
        assert all(
            hit["category"] == "chemistry" and hit["text"].startswith("chemistry")
            for hit in found["samples"]
        )
        filtered = await call(
            client,
            "search_samples",
            query="question",
            top_k=10,
            where={"category": "law"},
            text_chars=3,
        )
        assert {hit["category"] for hit in filtered["samples"]} == {"law"}
        assert all(len(hit["text"]) <= 6 for hit in filtered["samples"])
        created = await call(
            client, "create_benchmark", name="chem", query="chemistry question", top_k=30
        )
        assert created["n_samples"] == 30 and created["groups"] == {"chemistry": 30}
        assert json.loads(created["query"])["text"] == "chemistry question"
        listed = await call(client, "list_benchmarks")
        saved = [entry for entry in listed["benchmarks"] if entry["kind"] == "saved"]
        assert saved == [
            {
                "name": "chem",
                "kind": "saved",
                "n_samples": 30,
                "query": "chemistry question",
                "categories": [],
            }
        ]
        ranked = await call(client, "rank_models", benchmark="chem")
        by_query = await call(client, "rank_models", query="chemistry question", top_k=30)
        assert ranked["selection"]["kind"] == "saved_benchmark"
        assert (
            by_query["selection"]["kind"] == "query"
            and "lexical" in by_query["selection"]["description"]
        )
        ids = [hit["sample_id"] for hit in found["samples"]]
        assert [row["model"] for row in ranked["models"]] == pool.rank(ids).models
        assert [row["model"] for row in by_query["models"]] == pool.rank(ids).models
        compared = await call(
            client, "compare_models", model_a="model-000", model_b="model-001", benchmark="chem"
        )
        assert {group["group"] for group in compared["by_group"]} <= {"chemistry"}
        hand_picked = await call(
            client, "create_benchmark", name="duo", sample_ids=["extra/0", "extra/1"]
        )
        assert hand_picked["n_samples"] == 2 and hand_picked["groups"] == {"duels": 2}
        definition = json.loads(
            (await client.read_resource("onebench://benchmarks/chem")).contents[0].text
        )
        assert definition["sample_ids"] == ids and definition["query"] == "chemistry question"
        # Bad requests: tool errors, and the server keeps answering.
        assert "already exists" in await call_error(
            client, "create_benchmark", name="chem", query="law"
        )
        assert "source benchmark" in await call_error(
            client, "create_benchmark", name="duels", query="law"
        )
        assert "a query, a where filter or sample_ids" in await call_error(
            client, "create_benchmark", name="x"
        )
        assert "either a query (or where) or sample_ids" in await call_error(
            client, "create_benchmark", name="x", query="law", sample_ids=["extra/0"]
        )
        assert "unknown sample id 'nope'" in await call_error(
            client, "create_benchmark", name="x", sample_ids=["nope"]
        )
        assert "name" in await call_error(client, "create_benchmark", name="../escape", query="law")
        assert "query" in await call_error(client, "search_samples", query="")
        assert "query text is empty" in await call_error(client, "search_samples", query="   ")
        assert "top_k" in await call_error(client, "search_samples", query="law", top_k=10**9)
        assert "top_k" in await call_error(client, "search_samples", query="law", top_k=0)
        assert "at most 1000 characters" in await call_error(
            client, "search_samples", query="x" * 1001
        )
        assert "onebench embed" in await call_error(
            client, "search_samples", query="law", search="semantic"
        )
        assert "refine a query or a where filter" in await call_error(
            client, "rank_models", top_k=5
        )
        assert "not benchmark" in await call_error(
            client, "rank_models", benchmark="duels", where={"category": "law"}
        )
        assert "needs a query text" in await call_error(
            client, "rank_models", where={"category": "law"}, threshold=0.5
        )
        law = await call(client, "rank_models", where={"category": "law"})
        assert law["selection"]["kind"] == "filter" and law["selection"]["n_samples"] == 1000
        assert [row["model"] for row in law["models"]] == pool.rank(
            category_ids(pool, "law")
        ).models
        filtered = await call(client, "create_benchmark", name="law", where={"category": "law"})
        assert filtered["n_samples"] == 1000 and filtered["groups"] == {"law": 1000}
        assert "no sample matches" in await call_error(
            client, "rank_models", query="zebra", threshold=5.0
        )
        unknown_key = await call_error(
            client, "search_samples", query="law", where={"colour": "red"}
        )
        assert "colour" in unknown_key
        assert (await call(client, "pool_stats"))["samples"] == 3021
    assert pool.benchmarks() == ["chem", "duo", "law"]


@register_runner("mcp-test-oracle")
def _oracle_runner(model: str, *, options: GenerationOptions, **settings: Any) -> Any:
    """Answers 'answer <n>' to the prompt of sample evalset/<n>: right for even n only."""

    class Oracle:
        kind = "mcp-test-oracle"

        def __init__(self) -> None:
            self.model, self.options = model, options

        def settings(self) -> dict[str, Any]:
            return dict(settings)

        def generate(self, prompts: Any) -> Any:
            for prompt in prompts:
                number = int(prompt.sample_id.rsplit("/", 1)[1])
                text = f"answer {number}" if number % 2 == 0 else "no idea"
                yield Generation(prompt.sample_id, text, 5, 2, 0.001)

        def close(self) -> None:
            pass

    return Oracle()


async def test_evaluate_model_commits_grades_with_progress(writable_dir: Path) -> None:
    pool = onebench.Pool.open(writable_dir)
    pool.add_samples(
        [
            {
                "sample_id": f"evalset/{n}",
                "benchmark": "evalset",
                "text": f"Say answer {n}.",
                "reference": f"answer {n}",
            }
            for n in range(12)
        ]
    )
    rivals = [{"sample_id": f"evalset/{n}", "model": "model-000", "score": 0} for n in range(12)]
    pool.add_measurements(rivals, kind="binary")
    async with Client(build_server(pool)) as client:
        assert "evaluate_model" not in {tool.name for tool in (await client.list_tools()).tools}
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    arguments = {"model": "oracle", "benchmark": "evalset", "grader": "exact_match"}
    profiles = {"oracle": RunnerProfile("mcp-test-oracle", ("oracle-v1",))}
    async with Client(build_server(pool, allow_writes=True)) as client:
        # Without runner profiles the server runs no model at all.
        assert "evaluate_model" not in {tool.name for tool in (await client.list_tools()).tools}
    async with Client(build_server(pool, allow_writes=True, runner_profiles=profiles)) as client:
        result = await client.call_tool("evaluate_model", arguments, progress_callback=on_progress)
        assert not result.is_error, result.content[0].text
        report = result.structured_content
        assert (report["model"], report["selected"], report["generated"], report["committed"]) == (
            "oracle",
            12,
            12,
            12,
        )
        assert report["mean_score"] == {"exact_match": 0.5}
        assert progress and progress[-1][:2] == (12, 12) and "committed" in (progress[-1][2] or "")
        ranked = await call(client, "rank_models", benchmark="evalset")
        assert [row["model"] for row in ranked["models"]] == ["oracle", "model-000"]
        again = await call(client, "evaluate_model", **arguments)
        assert (again["already_measured"], again["committed"]) == (12, 0)
        unknown = await call_error(
            client, "evaluate_model", **{**arguments, "model": "psychic", "profile": "telepathy"}
        )
        assert "profile" in unknown
        assert "checkpoints: 'oracle-v1'" in await call_error(
            client, "evaluate_model", **arguments, checkpoint="elsewhere"
        )
        assert "choose the samples" in await call_error(client, "evaluate_model", model="oracle")
        assert "limit" in await call_error(client, "evaluate_model", **arguments, limit=10**9)
    scores = pool.measurements(models=["oracle"]).to_pandas()
    assert len(scores) == 12 and scores["score"].sum() == 6
