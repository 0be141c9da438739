"""Turning user tables (pandas, pyarrow, dicts of columns, lists of rows) into the
dictionary-encoded columns the Rust core takes.

Ids cross into Rust as ``(dictionary, uint32 codes)``: 50M rows then cost 50M integers and
one small list of strings, and pandas ``Categorical`` / Arrow dictionary columns convert
without touching a Python string per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import InvalidInputError

__all__ = [
    "as_table",
    "encode_ids",
    "float_column",
    "optional_column",
    "require_columns",
    "text_column",
]


#: What Arrow raises on Python values it cannot hold in one column: mixed types, and
#: integers beyond 64 bits (OverflowError).
_TABLE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def as_table(data: Any, what: str) -> pa.Table:
    """Any supported tabular input as a ``pyarrow.Table``."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__
    if module.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if module.startswith("polars"):
        return data.to_arrow()
    if isinstance(data, Mapping):
        try:
            return pa.table(
                {
                    key: _as_array(_tie_groups(value) if key == "ranking" else value)
                    for key, value in data.items()
                }
            )
        except _TABLE_ERRORS as error:
            raise InvalidInputError(f"{what}: {error}", field=what) from error
    if isinstance(data, Sequence) and not isinstance(data, str):
        if not data:
            return pa.table({})
        if not all(isinstance(row, Mapping) for row in data):
            raise InvalidInputError(
                f"{what}: expected a table, a dict of columns or a list of dicts", field=what
            )
        try:
            return pa.Table.from_pylist(list(data))
        except _TABLE_ERRORS as error:
            raise InvalidInputError(f"{what}: {error}", field=what) from error
    raise InvalidInputError(
        f"{what}: unsupported input type {type(data).__name__}; pass a pandas DataFrame, "
        "a pyarrow Table, a dict of columns or a list of dicts",
        field=what,
    )


def _tie_groups(rankings: Any) -> Any:
    """Python rankings that mix ids and tied groups (``["a", ["b", "c"]]``) as lists of
    groups (``[["a"], ["b", "c"]]``): Arrow columns need one element type."""
    if not isinstance(rankings, list | tuple):
        return rankings
    mixed = any(
        isinstance(ranking, list | tuple)
        and any(isinstance(entry, list | tuple) for entry in ranking)
        for ranking in rankings
    )
    if not mixed:
        return rankings
    return [
        [list(entry) if isinstance(entry, list | tuple) else [entry] for entry in ranking]
        if isinstance(ranking, list | tuple)
        else ranking
        for ranking in rankings
    ]


def _as_array(value: Any) -> pa.Array | pa.ChunkedArray:
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return value
    if type(value).__module__.startswith("pandas"):
        return pa.Array.from_pandas(value)
    if isinstance(value, np.ndarray):
        return pa.array(value)
    return pa.array(list(value))


def require_columns(table: pa.Table, names: Sequence[str], what: str) -> None:
    """Raises naming the first missing column."""
    for name in names:
        if name not in table.column_names:
            raise InvalidInputError(
                f"{what}: missing column {name!r} (have {', '.join(table.column_names) or 'none'})",
                field=name,
            )


def optional_column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def _first_null(column: pa.ChunkedArray) -> int | None:
    if column.null_count == 0:
        return None
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])


def encode_ids(column: pa.ChunkedArray | pa.Array, field: str) -> tuple[list[str], np.ndarray]:
    """``(dictionary, codes)`` for a column of string ids, with unused entries dropped.

    Unused dictionary entries are dropped so that the core reports an unknown id only when
    a row really uses it (a filtered pandas Categorical keeps all its categories).
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    row = _first_null(column)
    if row is not None:
        raise InvalidInputError(f"{field}, row {row}: missing id", field=field, row=row)
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries() if column.num_chunks > 1 else column
    else:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = text_column(column, field)
        column = pc.dictionary_encode(column)
    if column.num_chunks == 0:
        return [], np.zeros(0, dtype=np.uint32)
    dictionary = column.chunk(0).dictionary
    codes = np.concatenate(
        [chunk.indices.to_numpy(zero_copy_only=False) for chunk in column.chunks]
    ).astype(np.uint32, copy=False)
    used = np.bincount(codes, minlength=len(dictionary)) > 0 if len(codes) else np.zeros(0, bool)
    names = pc.cast(dictionary, pa.string()).to_pylist()
    if used.all():
        return names, np.ascontiguousarray(codes)
    remap = np.cumsum(used, dtype=np.int64) - 1
    kept = [name for name, keep in zip(names, used, strict=True) if keep]
    return kept, np.ascontiguousarray(remap[codes].astype(np.uint32))


def text_column(column: pa.ChunkedArray | pa.Array, field: str) -> pa.ChunkedArray | pa.Array:
    """A column as text; one of lists or structs (which have no text form) is an error."""
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InvalidInputError(
            f"{field}: expected text, found values of type {column.type}", field=field
        ) from None


def float_column(column: pa.ChunkedArray, field: str) -> np.ndarray:
    """A numeric column as contiguous float64; nulls are an error naming the row."""
    row = _first_null(column)
    if row is not None:
        raise InvalidInputError(f"{field}, row {row}: missing value", field=field, row=row)
    try:
        values = pc.cast(column, pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InvalidInputError(f"{field}: not numeric ({error})", field=field) from error
    return np.ascontiguousarray(values, dtype=np.float64)
