"""Who may talk to the HTTP transport: loopback by default, a bearer token beyond it."""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import string
from collections import Counter
from typing import Any

from ..exceptions import InvalidInputError

__all__ = [
    "MIN_TOKEN_BITS",
    "MIN_TOKEN_LENGTH",
    "BearerTokenMiddleware",
    "check_listen",
    "check_token",
    "is_loopback",
]

MIN_TOKEN_LENGTH = 16
#: What a token's characters could carry at most (length x log2 of the alphabet of the
#: character classes it uses). secrets.token_urlsafe(16) and token_hex(16), 128 random bits
#: each, estimate at least 103 whatever classes they happen to use; "password12345678" 83.
MIN_TOKEN_BITS = 100
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)
_MAKE = "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def _bits(token: str) -> float:
    alphabet = sum(len(chars) for chars in _CLASSES if any(char in chars for char in token))
    return len(token) * math.log2(max(alphabet, 2))


def check_token(token: str) -> None:
    """Refuses a token that cannot be a random one: too short for 100 bits, spaces or other
    invisible characters, one character repeated, a short pattern repeated."""
    printable = set(string.ascii_letters + string.digits + string.punctuation)
    problem = ""
    if len(token) < MIN_TOKEN_LENGTH:
        problem = f"use at least {MIN_TOKEN_LENGTH} characters"
    elif any(char not in printable for char in token):
        problem = "use visible ASCII characters only (no spaces, tabs or control characters)"
    elif Counter(token).most_common(1)[0][1] > len(token) // 2:
        problem = "one character makes up more than half of it"
    elif any(token == (token[:period] * len(token))[: len(token)] for period in range(1, 9)):
        problem = "it repeats a short pattern"
    elif _bits(token) < MIN_TOKEN_BITS:
        problem = f"it is too short to carry {MIN_TOKEN_BITS} random bits"
    if problem:
        raise InvalidInputError(
            f"token: {problem}; use at least {MIN_TOKEN_LENGTH} characters from a random "
            f"source, for example the output of {_MAKE}",
            field="token",
        )


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
    if token is not None:
        check_token(token)
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
