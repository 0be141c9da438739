"""What crosses between the sandboxed program and its tests: framed messages of plain data.

This module runs inside the sandbox (copied in beside ``_box_program.py`` and
``_box_tests.py``, standard library only) and is imported by the host only for its tests.

A message is a 4-byte big-endian length and that many bytes of JSON. Values are plain data:
JSON's own types, and ``{"$": tag, "v": ...}`` for tuples, sets, dicts, bytes, non-finite
floats, complex numbers, fractions, decimals, ranges, modules (by name) and handles of objects
that stay in the program's process. :func:`decode` runs on the tests' side, on bytes the
program chose: it builds builtin values only, so a value the tests compare cannot bring its
own ``__eq__``.
"""

from __future__ import annotations

import json
import math
import os
import resource
import struct
import sys
import types
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "MAX_MESSAGE_BYTES",
    "WireError",
    "apply_limits",
    "be_init",
    "block_sockets",
    "decode",
    "encode_plain",
    "read_message",
    "write_message",
]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 100
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """A message that is not what the protocol allows."""


def apply_limits(limits: dict[str, int]) -> None:
    """Sets this process's hard limits (inherited by every child; not raisable again without
    privileges the sandbox does not have). ``processes`` counts this user's processes in
    the sandbox's own user namespace."""
    pairs = {
        "memory_bytes": resource.RLIMIT_AS,
        "cpu_seconds": resource.RLIMIT_CPU,
        "file_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, which in pairs.items():
        value = limits.get(name)
        if value is not None:
            resource.setrlimit(which, (value, value))


def be_init() -> None:
    """In a PID namespace of our own (bwrap --as-pid-1): this process stays pid 1, reaps
    every orphan and exits with the status of its one child, which returns from here and
    does the work. When pid 1 exits, the kernel kills whatever is left in the namespace,
    and bwrap, which waits for pid 1, exits only after that: no survivor, no zombie."""
    import signal

    worker = os.fork()
    if worker == 0:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            died, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        if died == worker:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def block_sockets() -> None:
    """The weakest network isolation, for machines without namespaces: ``socket`` refuses
    to make sockets (code that reaches ``_socket`` itself is not stopped)."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError("network access is disabled in the onebench sandbox")

    for name in (
        "socket",
        "create_connection",
        "getaddrinfo",
        "socketpair",
        "fromfd",
        "create_server",
        "gethostbyname",
        "gethostbyname_ex",
    ):
        setattr(socket, name, refuse)


def write_message(fd: int, message: Any) -> None:
    data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(data)} bytes is over the limit")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> Any:
    """The next message, or None at the end of the stream; :class:`WireError` when the
    bytes are not a message."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {size} bytes is over the limit")
    data = _read_exactly(fd, size)
    if data is None:
        raise WireError("the stream ended inside a message")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise WireError(f"not JSON: {error}") from None


def encode_plain(value: Any, handle: Any = None, depth: int = 0) -> Any:
    """``value`` as wire data. Builtin subclasses become their base type (a namedtuple a
    tuple, numpy values their ``tolist()``); anything else becomes ``handle(value)`` when a
    handle function is given, else raises TypeError."""
    if depth > _MAX_DEPTH:
        raise TypeError("value nested too deeply to send")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        number = float(value)
        return number if math.isfinite(number) else {"$": "float", "v": repr(number)}
    if isinstance(value, str):
        return str.__str__(value)
    below = depth + 1

    def inner(item: Any) -> Any:
        return encode_plain(item, handle, below)

    if isinstance(value, list):
        return [inner(item) for item in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [inner(item) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[inner(key), inner(item)] for key, item in value.items()]}
    if isinstance(value, (set, frozenset)):
        tag = "frozenset" if isinstance(value, frozenset) else "set"
        return {"$": tag, "v": [inner(item) for item in value]}
    if isinstance(value, (bytes, bytearray)):
        tag = "bytearray" if isinstance(value, bytearray) else "bytes"
        return {"$": tag, "v": bytes(value).hex()}
    if isinstance(value, complex):
        return {"$": "complex", "v": [inner(value.real), inner(value.imag)]}
    if isinstance(value, Fraction):
        return {"$": "fraction", "v": [str(value.numerator), str(value.denominator)]}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, range):
        return {"$": "range", "v": [value.start, value.stop, value.step]}
    if isinstance(value, types.ModuleType):
        return {"$": "module", "v": value.__name__}
    tolist = getattr(type(value), "tolist", None)
    if tolist is not None and not callable(value):
        return inner(tolist(value))
    if handle is None:
        raise TypeError(f"a {kind.__name__} cannot cross the sandbox (only plain data can)")
    return {"$": "object", "v": [handle(value), kind.__name__[:100]]}


def _float(text: Any) -> float:
    if text not in ("nan", "inf", "-inf"):
        raise WireError(f"not a non-finite float: {text!r}")
    return float(text)


def _int(text: Any) -> int:
    if not isinstance(text, str) or len(text) > 4000:
        raise WireError("not an integer")
    return int(text)


def decode(value: Any, remote: Any = None, depth: int = 0) -> Any:
    """Builtin values from wire data (the program chose it: nothing here runs its code).
    ``remote(handle, type_name)`` makes the stand-in of an object handle."""
    if depth > _MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    below = depth + 1
    if type(value) is list:
        return [decode(item, remote, below) for item in value]
    if type(value) is not dict or set(value) != {"$", "v"}:
        raise WireError(f"not a wire value: {type(value).__name__}")
    tag, body = value["$"], value["v"]
    try:
        if tag == "float":
            return _float(body)
        if tag in ("bytes", "bytearray"):
            data = bytes.fromhex(body)
            return data if tag == "bytes" else bytearray(data)
        if tag == "decimal":
            return Decimal(str(body))
        if tag == "module":
            return _module(body)
        if type(body) is not list:
            raise WireError(f"{tag}: expected a list")
        if tag == "fraction":
            return Fraction(_int(body[0]), _int(body[1]))
        if tag == "range":
            return range(*(item for item in body if type(item) is int))
        if tag == "object":
            if remote is None or type(body[0]) is not int:
                raise WireError("an object handle is not allowed here")
            return remote(body[0], str(body[1])[:100])
        items = [decode(item, remote, below) for item in body]
        if tag == "tuple":
            return tuple(items)
        if tag == "set":
            return set(items)
        if tag == "frozenset":
            return frozenset(items)
        if tag == "complex":
            return complex(*(float(item) for item in items))
        if tag == "dict":
            return {key: item for key, item in (_pair(entry) for entry in items)}
    except WireError:
        raise
    except (TypeError, ValueError, IndexError, ArithmeticError) as error:
        raise WireError(f"{tag}: {error}") from None
    raise WireError(f"unknown tag {str(tag)[:40]!r}")


def _pair(entry: Any) -> tuple[Any, Any]:
    if type(entry) is not list or len(entry) != 2:
        raise WireError("dict: expected [key, value] pairs")
    return entry[0], entry[1]


def _module(name: Any) -> types.ModuleType:
    """The tests' own import of a module the program imported (by name only)."""
    if not isinstance(name, str) or not name.replace(".", "").replace("_", "").isalnum():
        raise WireError("module: not a module name")
    import importlib

    try:
        return importlib.import_module(name)
    except Exception as error:  # any import failure is the program's
        raise WireError(f"module {name!r}: {error}") from None


def installed_exception(name: Any, message: Any) -> BaseException:
    """The builtin exception called ``name`` (so that ``except ValueError`` in the tests
    still works), else a ``ProgramError`` that names it."""
    text = str(message)[:2000]
    kind = getattr(sys.modules["builtins"], str(name), None) if isinstance(name, str) else None
    if (
        isinstance(kind, type)
        and issubclass(kind, Exception)
        and kind.__module__ == "builtins"
        and not issubclass(kind, (StopAsyncIteration, Warning))
    ):
        try:
            return kind(text)
        except TypeError:  # exceptions whose constructor wants other arguments
            pass
    return ProgramError(f"{str(name)[:100]}: {text}")


class ProgramError(Exception):
    """An exception of the program's own type, seen from the tests."""
