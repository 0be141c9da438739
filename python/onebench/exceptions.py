"""The exceptions onebench raises.

Every error derives from :class:`OnebenchError`; errors about user input also derive from
:class:`ValueError` and carry the offending ``field`` and ``row`` so that callers (and the
MCP server) can point at the exact place in the input.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "CorruptPoolError",
    "DisconnectedGraphError",
    "InvalidInputError",
    "OnebenchError",
    "PoolIOError",
    "PoolLockedError",
    "PoolNotFoundError",
    "UnknownIdError",
]


class OnebenchError(Exception):
    """Base class of every onebench error."""


class InvalidInputError(OnebenchError, ValueError):
    """Bad input: ``field`` names the column or argument, ``row`` the row (0-based) if any."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


class UnknownIdError(InvalidInputError):
    """An id (sample or model) that the pool does not know."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        id: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message, field=field, row=row)
        self.id = id


class _PathError(OnebenchError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class PoolIOError(_PathError, OSError):
    """The operating system refused a read or write of a pool file."""


class CorruptPoolError(_PathError):
    """A pool file does not match its checksum or cannot be decoded; ``path`` names it."""


class PoolNotFoundError(_PathError, FileNotFoundError):
    """The path holds no pool (or, on create, already holds something)."""


class PoolLockedError(_PathError):
    """Another process holds the pool's writer lock."""


class DisconnectedGraphError(OnebenchError):
    """The comparison graph splits into parts that cannot be ranked against each other."""


class ConvergenceError(OnebenchError):
    """A solver did not reach its tolerance."""
