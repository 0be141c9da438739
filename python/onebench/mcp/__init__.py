"""An MCP server over a pool, so that LLM agents can ask for custom benchmarks and rankings.

Needs the ``mcp`` extra (``pip install 'onebench[mcp]'``); ``import onebench`` does not.
Start it with ``onebench serve`` or build it in Python::

    from onebench.mcp import RunnerProfile, build_server
    server = build_server("my-pool")          # an mcp.server.mcpserver.MCPServer
    server = build_server("my-pool", allow_writes=True, runner_profiles={
        "local": RunnerProfile("transformers", checkpoints=("/models/acme-7b",))})
"""

from ._profiles import RunnerProfile, load_profiles
from ._server import build_server, serve

__all__ = ["RunnerProfile", "build_server", "load_profiles", "serve"]
