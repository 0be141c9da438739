"""`onebench serve` as a real process: stdio, and streamable HTTP with and without a token."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import onebench
import pytest
from mcp_fixtures import HttpServer, build_synthetic_pool, category_ids, serve_command

mcp = pytest.importorskip("mcp")
import httpx2  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from onebench.cli import main as cli_main  # noqa: E402

pytestmark = pytest.mark.anyio

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp-transports") / "pool"
    build_synthetic_pool(path)
    return path


@pytest.fixture(scope="module")
def pool(pool_dir: Path) -> onebench.Pool:
    return onebench.Pool.open(pool_dir)


@pytest.fixture(scope="module")
def loopback_server(pool_dir: Path):
    server = HttpServer(pool_dir)
    yield server
    server.stop()


async def _check_session(client: Client, pool: onebench.Pool) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"rank_models", "compare_models", "model_profile", "pool_stats"} <= names
    result = await client.call_tool("rank_models", {"benchmark": "duels"})
    assert not result.is_error
    ids = [*(f"extra/{index}" for index in range(20)), "extra/ranked"]
    assert [row["model"] for row in result.structured_content["models"]] == pool.rank(ids).models
    failed = await client.call_tool("model_profile", {"model": "no-such-model"})
    assert failed.is_error and "unknown model 'no-such-model'" in failed.content[0].text
    stats = await client.call_tool("pool_stats", {})
    assert stats.structured_content["samples"] == pool.stats().samples


async def test_stdio(pool_dir: Path, pool: onebench.Pool) -> None:
    command = serve_command(pool_dir)  # python -m onebench.cli serve --pool ...
    parameters = StdioServerParameters(command=command[0], args=command[1:])
    with anyio.fail_after(120):
        async with Client(parameters) as client:
            await _check_session(client, pool)


async def test_the_readme_desktop_config_starts_the_server(
    pool_dir: Path, pool: onebench.Pool
) -> None:
    """The JSON snippet of the README, as a desktop MCP client would run it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    snippets = [
        block
        for block in re.findall(r"```json\n(.*?)```", readme, re.DOTALL)
        if "mcpServers" in block
    ]
    assert len(snippets) == 1
    entry = json.loads(snippets[0])["mcpServers"]["onebench"]
    command = shutil.which(entry["command"]) or str(Path(sys.executable).parent / entry["command"])
    if not Path(command).exists():
        pytest.skip("the onebench console script is not installed")
    args = [str(pool_dir) if arg == "/absolute/path/to/my-pool" else arg for arg in entry["args"]]
    assert str(pool_dir) in args
    parameters = StdioServerParameters(
        command=command, args=args, env={**os.environ, **entry["env"]}
    )
    with anyio.fail_after(120):
        async with Client(parameters) as client:
            await _check_session(client, pool)


async def test_http_on_loopback_without_token(
    loopback_server: HttpServer, pool: onebench.Pool
) -> None:
    assert loopback_server.url.startswith("http://127.0.0.1:")
    with anyio.fail_after(60):
        async with Client(loopback_server.url) as client:
            await _check_session(client, pool)


def _authorised(url: str, token: str) -> Any:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return streamable_http_client(url, http_client=http)


async def _status(url: str, headers: dict[str, str]) -> int:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(
            url, json=request, headers={"Accept": "application/json, text/event-stream", **headers}
        )
    return response.status_code


@pytest.mark.parametrize("where", ["loopback", "all interfaces"])
async def test_http_with_token(pool_dir: Path, pool: onebench.Pool, where: str) -> None:
    extra = ("--host", "0.0.0.0") if where == "all interfaces" else ()
    server = HttpServer(pool_dir, *extra, env={"ONEBENCH_MCP_TOKEN": TOKEN})
    try:
        url = server.url.replace("0.0.0.0", "127.0.0.1")
        assert await _status(url, {}) == 401
        assert await _status(url, {"Authorization": f"Bearer {TOKEN}x"}) == 401
        assert await _status(url, {"Authorization": TOKEN}) == 401
        with pytest.raises(BaseException) as refused:
            with anyio.fail_after(30):
                async with Client(url) as client:
                    await client.list_tools()
        assert any(isinstance(error, mcp.MCPError) for error in _leaves(refused.value))
        with anyio.fail_after(60):
            async with Client(_authorised(url, TOKEN)) as client:
                await _check_session(client, pool)
    finally:
        server.stop()


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def test_listening_beyond_loopback_requires_a_token(
    pool_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONEBENCH_MCP_TOKEN", raising=False)
    for extra, message in (
        (("--host", "0.0.0.0"), "a bearer token is required"),
        (("--host", "192.0.2.1"), "a bearer token is required"),
        (("--host", "0.0.0.0", "--token", "short"), "at least 16 characters"),
    ):
        code = cli_main(serve_command(pool_dir, "--transport", "http", *extra)[3:])
        captured = capsys.readouterr()
        assert code == 2
        assert message in captured.err and captured.out == ""


async def test_fifty_concurrent_calls_over_http(
    loopback_server: HttpServer, pool: onebench.Pool
) -> None:
    """Five sessions with ten calls in flight each; every answer is checked."""
    categories = ("algebra", "chemistry", "law")
    expected_rank = {name: pool.rank(category_ids(pool, name)).models for name in categories}
    leaderboard = pool.rank()
    top, bottom = leaderboard.models[0], leaderboard.models[-1]
    answers: list[str] = []

    async def one_call(client: Client, number: int) -> None:
        kind = number % 5
        if kind in (0, 1):
            category = categories[number % 3]
            result = await client.call_tool(
                "rank_models", {"sample_ids": category_ids(pool, category), "max_models": 100}
            )
            models = [row["model"] for row in result.structured_content["models"]]
            assert models == expected_rank[category]
        elif kind == 2:
            result = await client.call_tool("compare_models", {"model_a": top, "model_b": bottom})
            assert result.structured_content["rank_a"] == 1
            assert result.structured_content["win_probability_a"] > 0.5
        elif kind == 3:
            result = await client.call_tool("list_models", {"contains": "model-01"})
            assert result.structured_content["total"] == 2
        else:
            result = await client.call_tool("rank_models", {"max_models": 10**9})
            assert result.is_error and "max_models" in result.content[0].text
        answers.append(f"{number}")

    async def session(offset: int) -> None:
        async with Client(loopback_server.url) as client:
            async with anyio.create_task_group() as group:
                for number in range(offset, offset + 10):
                    group.start_soon(one_call, client, number)

    with anyio.fail_after(180):
        async with anyio.create_task_group() as group:
            for offset in range(0, 50, 10):
                group.start_soon(session, offset)
    assert sorted(answers, key=int) == [str(number) for number in range(50)]
