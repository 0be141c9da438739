"""Who may talk to the HTTP transport: loopback by default, a bearer token beyond it."""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from ..exceptions import InvalidInputError

__all__ = ["MIN_TOKEN_LENGTH", "BearerTokenMiddleware", "check_listen", "is_loopback"]

MIN_TOKEN_LENGTH = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def check_listen(host: str, token: str | None) -> None:
    """Refuses to listen beyond loopback without a token, and refuses weak tokens."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise InvalidInputError(
            f"token: use at least {MIN_TOKEN_LENGTH} characters (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
            field="token",
        )
    if token is None and not is_loopback(host):
        raise InvalidInputError(
            f"host: {host!r} listens beyond this machine; a bearer token is required "
            "(--token or ONEBENCH_MCP_TOKEN)",
            field="host",
        )


class BearerTokenMiddleware:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``;
    others get 401 before reaching the MCP transport."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan events carry no request
            await self.app(scope, receive, send)
            return
        given = next((value for key, value in scope["headers"] if key == b"authorization"), b"")
        # Constant-time comparison: the response time must not reveal a matching prefix.
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "unauthorized", "error_description": "missing or wrong bearer token"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="onebench"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
