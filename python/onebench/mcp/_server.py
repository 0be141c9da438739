"""Building the MCP server over a pool, and running it over stdio or streamable HTTP."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

from .._core import __version__
from ..exceptions import InvalidInputError
from ..pool import Pool
from ._arguments import ToolSet
from ._auth import BearerTokenMiddleware, check_listen
from ._evaluate import evaluation_tools
from ._profiles import load_profiles
from ._query_tools import query_tools
from ._resources import register_prompts, register_resources
from ._state import PoolState
from ._tools import read_tools
from ._writes import write_tools

__all__ = ["build_server", "serve"]

_INSTRUCTIONS = """\
onebench pools the samples of many test sets, with sparse measurements of many models, and
ranks models on any subset of samples (a custom benchmark) with uncertainty.
Typical use: describe a capability -> find the samples that test it -> rank the models on
them -> compare the top two -> profile a model's strengths and weaknesses.
Scores are logit skills of the joint model (one skill per model, fitted to every
measurement) unless another method is asked for; always report the intervals and how many
samples a model's score rests on. The prompt 'find_best_model' walks through the steps.
"""


ProfileSource = str | os.PathLike[str] | Mapping[str, Any]


def build_server(
    pool: Pool | str | os.PathLike[str],
    *,
    allow_writes: bool = False,
    runner_profiles: ProfileSource | None = None,
) -> MCPServer:
    """An MCP server over ``pool`` (a Pool or its directory). Read-only unless
    ``allow_writes``: the write tools are then not offered at all, and create_benchmark
    keeps what it creates in the server's memory. evaluate_model is offered only with
    writes and ``runner_profiles`` (a JSON or TOML file, or a mapping of names to
    :class:`RunnerProfile` or tables): the only ways the server runs models."""
    profiles = load_profiles(runner_profiles) if runner_profiles is not None else {}
    if profiles and not allow_writes:
        raise InvalidInputError(
            "runner_profiles: evaluate_model commits measurements; it needs allow_writes",
            field="runner_profiles",
        )
    if not isinstance(pool, Pool):
        pool = Pool.open(pool)
    state = PoolState(pool, allow_writes=allow_writes)
    if not allow_writes:
        mode = (
            "This server is read-only (start it with --allow-writes to add measurements); "
            "create_benchmark keeps benchmarks in this server's memory, not in the pool."
        )
    elif profiles:
        shown = ", ".join(profiles)
        mode = f"Writes are allowed (add_measurements, evaluate_model with profiles {shown})."
    else:
        mode = "Writes are allowed (add_measurements; no runner profile, so no evaluate_model)."
    tools = ToolSet()
    read_tools(tools, state)
    query_tools(tools, state)
    if allow_writes:
        write_tools(tools, state)
    if profiles:
        evaluation_tools(tools, state, profiles)
    server: MCPServer = MCPServer(
        name="onebench",
        tools=tools.tools,
        title="onebench: custom benchmarks and model rankings",
        instructions=_INSTRUCTIONS + mode,
        version=__version__,
        log_level="WARNING",
    )
    register_resources(server, state)
    register_prompts(server)
    return server


def serve(
    pool_path: str | os.PathLike[str],
    *,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    allow_writes: bool = False,
    runner_profiles: ProfileSource | None = None,
) -> None:
    """Runs the server until interrupted. Logs go to stderr: on stdio, stdout is the
    protocol channel."""
    if transport == "http":
        check_listen(host, token)  # before opening the pool: a refusal costs nothing
    server = build_server(
        Path(pool_path), allow_writes=allow_writes, runner_profiles=runner_profiles
    )
    if transport == "stdio":
        server.run("stdio")
        return
    import anyio

    anyio.run(_serve_http, server, host, port, token)


async def _serve_http(server: MCPServer, host: str, port: int, token: str | None) -> None:
    import uvicorn

    app: Any = server.streamable_http_app(host=host)
    if token is not None:
        app = BearerTokenMiddleware(app, token)
    # Bind first so that port 0 (any free port) can be reported to the caller.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host.strip("[]"), port))
    bound = listener.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(
        f"onebench serve: listening on http://{shown}:{bound}/mcp"
        + (" (bearer token required)" if token else ""),
        file=sys.stderr,
        flush=True,
    )
    await uvicorn.Server(config).serve(sockets=[listener])
