"""An MCP server over a pool, so that LLM agents can ask for custom benchmarks and rankings.

Needs the ``mcp`` extra (``pip install 'onebench[mcp]'``); ``import onebench`` does not.
Start it with ``onebench serve`` or build it in Python::

    from onebench.mcp import build_server
    server = build_server("my-pool")          # an mcp.server.mcpserver.MCPServer
"""

from ._server import build_server, serve

__all__ = ["build_server", "serve"]
