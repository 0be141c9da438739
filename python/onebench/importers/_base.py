"""What an importer is, what it hands back, and the registry that picks one per path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from ..exceptions import InvalidInputError

__all__ = [
    "ImportOptions",
    "Importer",
    "Source",
    "detect_format",
    "get_importer",
    "importer",
    "importer_names",
]


@dataclass(frozen=True)
class ImportOptions:
    """Choices a user can make for any importer.

    ``source``: the provenance source name (default: the importer's own, so that a
    re-import of the same files is recognised); ``model``: the model, for files that do
    not name it; ``metric``: which per-sample metric to take where a file has several.
    """

    source: str | None = None
    model: str | None = None
    metric: str | None = None


@dataclass
class Source:
    """One batch an importer read: committed atomically with one provenance.

    ``measurements`` is in the long format (``sample_id``, ``kind``, and ``model`` +
    ``score`` or ``model_a`` + ``model_b`` + ``winner`` [+ ``probability``] or
    ``ranking``). ``samples`` holds the samples the rows name (``sample_id``,
    ``benchmark``, ``text``, ``reference``, other columns become metadata); samples it
    lacks are registered bare. ``models`` may add metadata for the models.
    """

    format: str
    name: str
    files: list[str]
    measurements: pa.Table
    samples: pa.Table | None = None
    models: pa.Table | None = None
    higher_is_better: bool = True
    grader: str | None = None
    judge: str | None = None
    time: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Importer(Protocol):
    """Reads one kind of result files. ``detect`` must be cheap (peek, never parse a
    whole file); ``read`` parses everything and raises errors naming file and line."""

    name: str
    description: str

    def detect(self, path: Path) -> bool: ...

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]: ...


_REGISTRY: dict[str, Importer] = {}


def importer(name: str) -> Callable[[type], type]:
    """Class decorator: registers an instance of the class under ``name``."""

    def register(cls: type) -> type:
        instance = cls()
        instance.name = name
        if not isinstance(instance, Importer):
            raise TypeError(f"{cls.__name__} does not implement the Importer protocol")
        _REGISTRY[name] = instance
        return cls

    return register


def importer_names() -> list[str]:
    return list(_REGISTRY)


def get_importer(name: str) -> Importer:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInputError(
            f"format: unknown format {name!r}; choose one of {', '.join(_REGISTRY)}",
            field="format",
        ) from None


def detect_format(path: Path) -> Importer:
    """The first registered importer that recognises ``path``."""
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder", field=str(path))
    # Generic formats (which accept any table with the right columns) are tried last.
    order = sorted(_REGISTRY.values(), key=lambda each: bool(getattr(each, "generic", False)))
    for candidate in order:
        if candidate.detect(path):
            return candidate
    # What the file looks like, from the importers that can say (which columns a table
    # has, and which their format needs; why a file could not be read at all).
    hints = [hint for each in order if (hint := _explain(each, path))]
    why = f": {'; '.join(hints)}" if hints else ""
    raise InvalidInputError(
        f"{path}: not a format onebench recognises{why}; pass --format with one of "
        f"{', '.join(_REGISTRY)}",
        field=str(path),
    )


def _explain(candidate: Importer, path: Path) -> str | None:
    """An importer's optional ``explain(path)``: why ``path`` is not of its format."""
    explain = getattr(candidate, "explain", None)
    return explain(path) if callable(explain) else None
