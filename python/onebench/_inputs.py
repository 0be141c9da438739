"""Caller tables to the Rust pool's arguments: samples, models and one measurement batch,
with errors that name the caller's column and row."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import as_table, optional_column, require_columns
from ._measurements import Parts, split_table
from .exceptions import InvalidInputError

__all__ = ["measurement_arguments", "model_columns", "same_as", "sample_columns"]

# Columns with a meaning of their own; every other column becomes metadata. `metadata`
# (a JSON object, as exported) is merged in; `content_hash` and `metric` are derived.
_SAMPLE_COLUMNS = {
    "sample_id",
    "benchmark",
    "modality",
    "text",
    "reference",
    "references",
    "metadata",
    "content_hash",
    "metric",
    "same_as",
}
_MODEL_COLUMNS = {"model", "aliases", "metadata"}

# The leading ``PoolCore.add_samples`` / ``add_models`` arguments, typed so that a call
# spreading them (``add_samples(*columns, same_as)``) is checked argument by argument.
SampleColumns: TypeAlias = tuple[
    list[str], list[str], list[str], list[str], list[list[str]], list[str]
]
ModelColumns: TypeAlias = tuple[list[str], list[list[str]], list[str]]


def measurement_arguments(
    data: Any,
    kind: str | None,
    higher_is_better: bool,
    source: str,
    grader: str | None,
    judge: str | None,
    time: datetime | str | None,
    extra: dict[str, Any] | None,
    samples: Any,
    models: Any,
) -> tuple[tuple[Any, ...], Parts]:
    """The ``PoolCore.add_measurements`` arguments of one batch, and the table rows of
    each of its parts."""
    table = as_table(data, "measurements")
    cardinal, pairwise, rankings, parts = split_table(table, kind, higher_is_better)
    provenance = {
        "source": source,
        "grader": grader,
        "judge": judge,
        "time": _timestamp(time),
        "extra": _extra(extra),
    }
    sample_table = as_table(samples, "samples") if samples is not None else None
    return (
        json.dumps(provenance),
        cardinal,
        pairwise,
        rankings,
        sample_columns(sample_table) if sample_table is not None else None,
        model_columns(models) if models is not None else None,
        same_as(sample_table) if sample_table is not None else None,
    ), parts


def _extra(extra: Any) -> dict[str, Any]:
    """``extra`` as the JSON object the provenance stores: string keys, JSON values (no
    NaN, which JSON cannot hold), checked here so that the error names ``extra``."""
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise InvalidInputError(
            f"extra: expected a mapping of names to JSON values, got {type(extra).__name__}",
            field="extra",
        )
    for key in extra:
        if not isinstance(key, str):
            raise InvalidInputError(f"extra: key {key!r:.60} is not a string", field="extra")
    try:
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidInputError(f"extra: not JSON ({error})", field="extra") from None
    return dict(extra)


def _timestamp(time: datetime | str | None) -> str:
    if time is None:
        return datetime.now(UTC).isoformat(timespec="seconds")
    if isinstance(time, datetime):
        return time.isoformat(timespec="seconds")
    return str(time)


def _strings(
    column: pa.ChunkedArray | None, field: str, *, rows: int = 0, required: bool = False
) -> list[str]:
    if column is None:
        return [""] * rows
    if required and column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise InvalidInputError(f"{field}, row {row}: missing value", field=field, row=row)
    values = pc.cast(column, pa.string()).to_pylist()
    return [value if value is not None else "" for value in values]


def _references(table: pa.Table, rows: int) -> list[list[str]]:
    column = optional_column(table, "references")
    if column is None:
        column = optional_column(table, "reference")
    if column is None:
        return [[] for _ in range(rows)]
    references: list[list[str]] = []
    for value in column.to_pylist():
        if value is None:
            references.append([])
        elif isinstance(value, list):
            references.append([str(item) for item in value])
        else:
            references.append([str(value)])
    return references


def _metadata(table: pa.Table, reserved: set[str]) -> list[str]:
    extra = [name for name in table.column_names if name not in reserved]
    given = optional_column(table, "metadata")
    if not extra and given is None:
        return [""] * table.num_rows
    columns = {name: table.column(name).to_pylist() for name in extra}
    given_rows = given.to_pylist() if given is not None else [None] * table.num_rows
    rows = []
    for index in range(table.num_rows):
        entry = _metadata_object(given_rows[index], index)
        entry.update(
            {name: columns[name][index] for name in extra if columns[name][index] is not None}
        )
        rows.append(json.dumps(entry, default=str, sort_keys=True) if entry else "")
    return rows


def _metadata_object(value: Any, row: int) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise InvalidInputError(
                f"metadata, row {row}: not JSON ({error})", field="metadata", row=row
            ) from error
    if isinstance(value, list):  # an Arrow map column arrives as key/value pairs
        value = dict(value)
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"metadata, row {row}: expected a JSON object", field="metadata", row=row
        )
    return dict(value)


def sample_columns(data: Any) -> SampleColumns:
    """The ``PoolCore.add_samples`` arguments for a samples table."""
    table = as_table(data, "samples")
    require_columns(table, ["sample_id"], "samples")
    rows = table.num_rows
    ids = _strings(table.column("sample_id"), "sample_id", required=True)
    benchmarks = _strings(optional_column(table, "benchmark"), "benchmark", rows=rows)
    modalities = _strings(optional_column(table, "modality"), "modality", rows=rows)
    modalities = [modality or "text" for modality in modalities]
    texts = _strings(optional_column(table, "text"), "text", rows=rows)
    references = _references(table, rows)
    metadata = _metadata(table, _SAMPLE_COLUMNS)
    return ids, benchmarks, modalities, texts, references, metadata


def same_as(table: pa.Table) -> list[str] | None:
    """The ``same_as`` column of a samples table ("" where a row is no copy)."""
    column = optional_column(table, "same_as")
    if column is None:
        return None
    return _strings(column, "same_as", rows=table.num_rows)


def model_columns(data: Any) -> ModelColumns:
    """The ``PoolCore.add_models`` arguments for a list of ids or a models table."""
    if isinstance(data, list | tuple) and all(isinstance(item, str) for item in data):
        data = {"model": list(data)}
    table = as_table(data, "models")
    require_columns(table, ["model"], "models")
    ids = _strings(table.column("model"), "model", required=True)
    aliases_column = optional_column(table, "aliases")
    aliases = (
        [list(value or []) for value in aliases_column.to_pylist()]
        if aliases_column is not None
        else [[] for _ in ids]
    )
    metadata = _metadata(table, _MODEL_COLUMNS)
    return ids, aliases, metadata
