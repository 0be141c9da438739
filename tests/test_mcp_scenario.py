"""An agent's session on real data: list the tools, search "organic chemistry", save the
hits as a benchmark, rank on it, compare the top two, profile the winner.

The pool holds mmlu_pro (14 categories) and arena_bench_v1 from ``ONEBENCH_DATA``. The
semantic run embeds the 15 shortest questions of each mmlu_pro category (embedding all 12k
on a CPU takes minutes) and skips when the encoder cannot be loaded offline; the
category-filter run needs no embeddings (lexical search does not find chemistry questions
by the words "organic chemistry": few of them say "chemistry").
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import onebench
import pytest
from onebench.importers import import_long_format

mcp = pytest.importorskip("mcp")
from mcp import Client  # noqa: E402
from onebench.mcp import build_server  # noqa: E402

pytestmark = pytest.mark.anyio

PER_CATEGORY = 15


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def real_pool(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path_factory.mktemp("mcp-scenario") / "pool")
    import_long_format(pool, [data_dir / "mmlu_pro", data_dir / "arena_bench_v1"])
    return pool


def _categories(pool: onebench.Pool) -> dict[str, str | None]:
    table = pool.samples()
    return {
        sample_id: json.loads(metadata).get("category") if metadata else None
        for sample_id, metadata in zip(
            table.column("sample_id").to_pylist(), table.column("metadata").to_pylist(), strict=True
        )
    }


def _embed_some(pool: onebench.Pool) -> None:
    """Embeds the shortest questions of each mmlu_pro category (offline, on the CPU)."""
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("semantic steps: sentence-transformers (the query extra) is not installed")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    table = pool.samples()
    categories = _categories(pool)
    by_category: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    for sample_id, text in zip(
        table.column("sample_id").to_pylist(), table.column("text").to_pylist(), strict=True
    ):
        if categories[sample_id] is not None:
            by_category[categories[sample_id]].append((len(text or ""), sample_id))
    chosen = [
        sample_id for rows in by_category.values() for _, sample_id in sorted(rows)[:PER_CATEGORY]
    ]
    try:
        pool.embed(samples=chosen, progress=False)
    except (OSError, onebench.OnebenchError) as error:
        pytest.skip(f"semantic steps: the default encoder cannot be loaded offline ({error})")


async def _definition(client: Client, name: str) -> list[str]:
    """The sample ids of a benchmark, as the server's resource gives them."""
    resource = await client.read_resource(f"onebench://benchmarks/{name}")
    return json.loads(resource.contents[0].text)["sample_ids"]


async def _call(client: Client, tool: str, /, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


@pytest.mark.parametrize("finding", ["semantic search", "category filter"])
async def test_agent_finds_the_best_models_for_organic_chemistry(
    real_pool: onebench.Pool, finding: str
) -> None:
    """With embeddings the agent searches "organic chemistry"; the category-filter run is
    the same session for a pool without them (list_benchmarks shows the categories)."""
    if finding == "semantic search":
        _embed_some(real_pool)
    categories = _categories(real_pool)
    chemistry = [sample_id for sample_id, category in categories.items() if category == "chemistry"]
    name = "organic-chemistry" if finding == "semantic search" else "chemistry"
    async with Client(build_server(real_pool)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {
            "search_samples",
            "create_benchmark",
            "rank_models",
            "compare_models",
            "model_profile",
        } <= tools

        if finding == "semantic search":
            top_k = 10
            found = await _call(client, "search_samples", query="organic chemistry", top_k=top_k)
            assert found["search"] == "hybrid" and found["n_results"] == top_k
            hits = collections.Counter(categories[hit["sample_id"]] for hit in found["samples"])
            assert hits.most_common(1)[0][0] == "chemistry" and hits["chemistry"] >= top_k / 2, hits
            assert all(
                hit["category"] == categories[hit["sample_id"]] and hit["text"]
                for hit in found["samples"]
            )
            created = await _call(
                client, "create_benchmark", name=name, query="organic chemistry", top_k=top_k
            )
            assert created["n_samples"] == top_k and created["groups"] == dict(hits.most_common())
            assert sorted(await _definition(client, name)) == sorted(
                hit["sample_id"] for hit in found["samples"]
            )
        else:
            listed = await _call(client, "list_benchmarks")
            mmlu = next(entry for entry in listed["benchmarks"] if entry["name"] == "mmlu_pro")
            assert "chemistry" in mmlu["categories"] and len(mmlu["categories"]) == 14
            created = await _call(
                client, "create_benchmark", name=name, where={"category": "chemistry"}
            )
            top_k = len(chemistry)
            assert created["n_samples"] == top_k and created["groups"] == {"chemistry": top_k}
            assert sorted(await _definition(client, name)) == sorted(chemistry)
        # A read-only server keeps the benchmark for the session, not in the pool.
        assert name not in real_pool.benchmarks()
        benchmark = await _definition(client, name)

        ranked = await _call(client, "rank_models", benchmark=name, max_models=100)
        expected = real_pool.rank(benchmark)
        assert [row["model"] for row in ranked["models"]] == expected.models
        for row, reference in zip(ranked["models"], expected.rows, strict=True):
            assert row["score"] == pytest.approx(reference.score)
            assert row["n_samples"] == reference.n_samples <= top_k
        assert ranked["n_models_ranked"] == 31  # the mmlu_pro models; arena's have no hits

        first, second = expected.models[:2]
        compared = await _call(
            client, "compare_models", model_a=first, model_b=second, benchmark=name
        )
        assert (compared["rank_a"], compared["rank_b"]) == (
            expected[first].rank,
            expected[second].rank,
        )
        assert compared["win_probability_a"] >= 0.5 - 1e-9  # the top two may tie exactly
        assert compared["shared_samples"] <= top_k
        assert (
            compared["a_wins"] + compared["b_wins"] + compared["ties"] == compared["shared_samples"]
        )
        assert {group["group"] for group in compared["by_group"]} <= set(created["groups"])

        # A bootstrap over the whole pool would hold a worker for many minutes: refused.
        refused = await client.call_tool("rank_models", {"bootstrap": 1000})
        assert refused.is_error and "more work than one call may ask for" in refused.content[0].text

        profile = await _call(client, "model_profile", model=first)
        groups = {group["group"]: group for group in profile["groups"]}
        mmlu_categories = {category for category in categories.values() if category is not None}
        assert len(mmlu_categories) == 14 and mmlu_categories <= set(groups)
        chemistry = [
            sample_id for sample_id, category in categories.items() if category == "chemistry"
        ]
        assert groups["chemistry"]["rank"] == real_pool.rank(chemistry)[first].rank
        assert 0.0 <= groups["chemistry"]["mean_score"] <= 1.0
        assert profile["strengths"] or profile["weaknesses"]
