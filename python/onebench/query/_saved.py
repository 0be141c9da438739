"""Saved benchmarks: ``benchmarks/<name>.json`` in the pool directory, versioned, written
whole or not at all."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import write_atomic
from ..exceptions import CorruptPoolError, InvalidInputError, PoolIOError, UnknownIdError
from ._benchmark import Benchmark

if TYPE_CHECKING:
    from ..pool import Pool

__all__ = ["delete_benchmark", "list_benchmarks", "load_benchmark", "save_benchmark"]

FORMAT_VERSION = 1
_FORMAT = "onebench.benchmark"
# Names become file names: no separators, no leading dot, nothing a shell would mangle.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _path(pool: Pool, name: str) -> Path:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"benchmark name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    return pool.path / "benchmarks" / f"{name}.json"


def save_benchmark(
    pool: Pool, benchmark: Benchmark, name: str | None = None, *, overwrite: bool = False
) -> Benchmark:
    """Saves ``benchmark`` under ``name`` (default: its own name); returns it, named."""
    if not isinstance(benchmark, Benchmark):
        raise InvalidInputError(
            f"benchmark: expected a Benchmark, got {type(benchmark).__name__}", field="benchmark"
        )
    name = name or benchmark.name
    if not name:
        raise InvalidInputError("name: a saved benchmark needs a name", field="name")
    path = _path(pool, name)
    if path.exists() and not overwrite:
        raise InvalidInputError(
            f"benchmark {name!r} already exists in the pool; pass overwrite=True (--overwrite) "
            "to replace it",
            field="name",
        )
    named = benchmark.named(name)
    document: dict[str, Any] = {
        "format": _FORMAT,
        "version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "pool_version": pool.version,
        **named.to_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=1).encode())
    return named


def load_benchmark(pool: Pool, name: str) -> Benchmark:
    path = _path(pool, name)
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as error:
        known = ", ".join(list_benchmarks(pool)) or "none"
        raise UnknownIdError(
            f"no saved benchmark {name!r} in the pool (saved: {known})", field="name", id=name
        ) from error
    except OSError as error:
        raise PoolIOError(f"{path}: cannot be read ({error})", path=str(path)) from error
    except UnicodeDecodeError as error:
        # One damaged byte: the file is corrupt, like a segment that fails its checksum.
        raise CorruptPoolError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason})", path=str(path)
        ) from None
    except json.JSONDecodeError as error:
        raise CorruptPoolError(f"{path}: not JSON ({error})", path=str(path)) from error
    if not isinstance(document, dict):
        raise CorruptPoolError(f"{path}: not a saved onebench benchmark", path=str(path))
    if document.get("format") != _FORMAT or not isinstance(document.get("version"), int):
        raise CorruptPoolError(f"{path}: not a saved onebench benchmark", path=str(path))
    if document["version"] > FORMAT_VERSION:
        raise CorruptPoolError(
            f"{path}: format version {document['version']} is newer than this onebench "
            f"reads ({FORMAT_VERSION}); upgrade onebench",
            path=str(path),
        )
    try:
        return Benchmark.from_dict(document).named(name)
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptPoolError(f"{path}: malformed benchmark ({error})", path=str(path)) from error


def list_benchmarks(pool: Pool) -> list[str]:
    folder = pool.path / "benchmarks"
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.json") if _NAME.match(path.stem))


def delete_benchmark(pool: Pool, name: str) -> None:
    path = _path(pool, name)
    if not path.exists():
        raise UnknownIdError(f"no saved benchmark {name!r} in the pool", field="name", id=name)
    path.unlink()
