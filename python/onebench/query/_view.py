"""A per-version, per-pool cache of what queries read about samples: ids, their dense
indexes, parsed metadata. Parsing a million metadata objects takes seconds, so it happens
once per pool version, not once per query."""

from __future__ import annotations

import json
import weakref
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from ..pool import Pool

__all__ = ["SampleView", "sample_view"]

_VIEWS: weakref.WeakKeyDictionary[Any, SampleView] = weakref.WeakKeyDictionary()

#: Sample columns that filters and lexical search can name directly.
COLUMNS = ("sample_id", "benchmark", "modality", "text", "references", "metric", "content_hash")


class SampleView:
    def __init__(self, table: pa.Table, version: int) -> None:
        self.table = table
        self.version = version
        self.cache: dict[Any, Any] = {}
        #: Columns added by inferred labels (``labels/<key>.json``), and their files' stamp.
        self.label_columns: dict[str, list[Any]] = {}
        self.labels_stamp: tuple[Any, ...] = ()

    @cached_property
    def ids(self) -> list[str]:
        return self.table.column("sample_id").to_pylist()

    @cached_property
    def index(self) -> dict[str, int]:
        return {sample_id: position for position, sample_id in enumerate(self.ids)}

    @cached_property
    def metadata(self) -> list[dict[str, Any]]:
        return [json.loads(raw) if raw else {} for raw in self.table.column("metadata").to_pylist()]

    @cached_property
    def metadata_keys(self) -> set[str]:
        return {key for entry in self.metadata for key in entry}

    def column(self, key: str) -> list[Any]:
        """The values of a column or metadata key, one per sample (``None`` when absent)."""
        if key in COLUMNS:
            return self.column_values(key)
        name = key.removeprefix("metadata.")
        if name in self.label_columns:
            return self.label_columns[name]
        return [entry.get(name) for entry in self.metadata]

    def column_values(self, name: str) -> list[Any]:
        cached = self.cache.get(("column", name))
        if cached is None:
            cached = self.table.column(name).to_pylist()
            self.cache[("column", name)] = cached
        return cached

    def knows(self, key: str) -> bool:
        name = key.removeprefix("metadata.")
        return key in COLUMNS or name in self.metadata_keys or name in self.label_columns

    def refresh_labels(self, pool_path: Path) -> None:
        """Reads the pool's inferred labels again when their files changed."""
        folder = pool_path / "labels"
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        stamp = tuple((path.name, path.stat().st_mtime_ns) for path in files)
        if stamp == self.labels_stamp:
            return
        from ._labels import label_columns, load_inferred

        columns: dict[str, list[Any]] = {}
        for inferred in load_inferred(pool_path).values():
            columns.update(label_columns(self, inferred))
        self.label_columns = columns
        self.labels_stamp = stamp
        self.cache = {key: value for key, value in self.cache.items() if key[0] != "labels"}


def sample_view(pool: Pool) -> SampleView:
    """The view of ``pool`` at its current version (rebuilt after a commit or refresh)."""
    view = _VIEWS.get(pool)
    if view is None or view.version != pool.version:
        view = SampleView(pool.samples(), pool.version)
        _VIEWS[pool] = view
    view.refresh_labels(pool.path)
    return view
