"""Checking a long-format table as a file gave it, before the planner reads a value.

Parquet and JSON lines carry their own types: an integer ``sample_id``, a list ``score``
or a ``ranking`` of numbers reach the planner as Arrow types it cannot use, and would fail
there as a bare ``TypeError``. Each column the long format gives a meaning is checked
here, and a wrong one is an error naming the file, the column and, where one value is at
fault, its row (its line in a JSON lines file). CSV has no types: its id columns are read
as text (``_files.read_table``) and a score column of text is parsed here.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import InvalidInputError
from ._files import file_error

__all__ = ["ID_COLUMNS", "checked_table"]

#: Columns of ids and names: text (or absent values) only.
ID_COLUMNS = ("sample_id", "kind", "model", "model_a", "model_b", "winner", "benchmark", "judge")
_TEXT_COLUMNS = ("text",)
_NUMBER_COLUMNS = ("score", "probability")
#: The columns each kind of row needs, as in ``onebench._measurements``.
_NEEDED = {
    "binary": ("model", "score"),
    "numeric": ("model", "score"),
    "pairwise": ("model_a", "model_b", "winner"),
    "ranking": ("ranking",),
}


def _base(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _is_text(kind: pa.DataType) -> bool:
    kind = _base(kind)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)


def _is_number(kind: pa.DataType) -> bool:
    kind = _base(kind)
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    )


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)


def _is_ranking(kind: pa.DataType) -> bool:
    """Model ids best first (list of text), or tied groups (list of lists of text)."""
    if pa.types.is_null(kind):
        return True
    if not _is_list(kind):
        return False
    inner = kind.value_type
    return _is_text(inner) or (_is_list(inner) and _is_text(inner.value_type))


def _error(path: Path, message: str, row: int | None = None) -> InvalidInputError:
    """An error at ``row`` (0-based): its line in a JSON lines file, else the row."""
    if row is None:
        return file_error(path, message)
    if path.suffix in (".jsonl", ".json"):
        line = _json_line(path, row)
        if line is not None:
            return file_error(path, message, line)
    error = file_error(path, message)
    error.row = row
    return error


def _json_line(path: Path, row: int) -> int | None:
    with path.open("rb") as handle:
        count = -1
        for number, line in enumerate(handle, start=1):
            count += bool(line.strip())
            if count == row:
                return number
    return None


def _numbers(path: Path, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A score column as numbers: text (a CSV column with one word in it) is parsed, and
    the first value that is no number is named with its row."""
    if _is_number(column.type):
        return column
    if not _is_text(column.type):
        raise _error(path, f"{name}: expected numbers, found values of type {column.type}")
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    try:
        return pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Arrow names no row: parse value by value (only here, on the way to an error or
    # to the few spellings Python reads and Arrow does not).
    values: list[float | None] = []
    for row, value in enumerate(text.to_pylist()):
        try:
            values.append(None if value is None or value == "" else float(value))
        except ValueError:
            raise _error(path, f"{name}, row {row}: {value!r:.60} is not a number", row) from None
    return pa.chunked_array([pa.array(values, pa.float64())])


def _kinds(table: pa.Table) -> set[str]:
    if "kind" not in table.column_names:
        return set()
    return {str(value) for value in pc.unique(table.column("kind")).to_pylist() if value}


def checked_table(path: Path, table: pa.Table) -> pa.Table:
    """``table`` with its columns checked (and a text score column parsed)."""
    for name in ID_COLUMNS + _TEXT_COLUMNS:
        if name in table.column_names and not _is_text(table.column(name).type):
            kind = table.column(name).type
            raise _error(
                path, f"{name}: expected text, found values of type {kind}; write ids as strings"
            )
    for name in _NUMBER_COLUMNS:
        if name in table.column_names:
            index = table.column_names.index(name)
            table = table.set_column(index, name, _numbers(path, name, table.column(name)))
    if "ranking" in table.column_names and not _is_ranking(table.column("ranking").type):
        kind = table.column("ranking").type
        raise _error(
            path,
            "ranking: expected lists of model ids (or of tied groups), found values of type "
            f"{kind}",
        )
    have = set(table.column_names)
    for kind in sorted(_kinds(table) & set(_NEEDED)):
        missing = [name for name in _NEEDED[kind] if name not in have]
        if missing:
            raise _error(
                path,
                f"no {' or '.join(repr(name) for name in missing)} column, which {kind} rows "
                f"need (columns: {', '.join(table.column_names)})",
            )
    return table
