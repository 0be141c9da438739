"""Whole-or-absent file writes for the Python-managed files of a pool (saved benchmarks,
embeddings, evaluation runs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: bytes | Callable[[Path], object]) -> None:
    """Write ``data`` (bytes, or a function that writes the file it is given) to a
    temporary name, fsync, rename over ``path``, fsync the folder: after a crash the file
    holds either its old content or the new one, never a part."""
    temporary = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        if isinstance(data, bytes):
            temporary.write_bytes(data)
        else:
            data(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
