"""Reading result files so that every error names the file and, where there is one, the
line: JSON documents, JSON lists of records, JSON lines (optionally gzip-compressed) and
tables (Parquet, CSV, JSON lines).

Records come back with the line they start on, so that an importer can point at the
record whose field is wrong, not only at a syntax error.
"""

from __future__ import annotations

import bisect
import codecs
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..exceptions import InvalidInputError

__all__ = [
    "FileRecord",
    "check_utf8",
    "file_error",
    "head",
    "json_document",
    "json_records",
    "parquet_columns",
    "read_table",
    "require",
]

#: A record of a file and the 1-based line it starts on.
FileRecord = tuple[int, Any]

_TABLE_SUFFIXES = (".parquet", ".csv", ".jsonl", ".json")


def file_error(path: Path | str, message: str, line: int | None = None) -> InvalidInputError:
    """An input error naming the file (``field``) and the 1-based line (``row``)."""
    where = f"{path}, line {line}" if line is not None else str(path)
    return InvalidInputError(f"{where}: {message}", field=str(path), row=line)


def require(record: Any, key: str, path: Path, line: int, types: type | tuple = str) -> Any:
    """``record[key]``, which must exist and be of ``types``; else an error at ``line``."""
    if not isinstance(record, dict):
        raise file_error(path, f"expected a JSON object, found {type(record).__name__}", line)
    if key not in record or record[key] is None:
        raise file_error(path, f"missing field {key!r}", line)
    value = record[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
        names = "/".join(kind.__name__ for kind in _tuple(types))
        raise file_error(path, f"field {key!r} should be {names}, not {value!r:.60}", line)
    return value


def _tuple(types: type | tuple) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _text(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return handle.read()
        return path.read_text(encoding="utf-8")
    except (EOFError, OSError, zlib.error) as error:
        raise file_error(path, f"cannot be read ({error})") from error
    except UnicodeDecodeError as error:
        raise file_error(path, f"is not UTF-8 text ({error.reason})") from error


def head(path: Path, size: int = 65536) -> str:
    """The first ``size`` bytes as text (for format detection); "" if unreadable."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                data = handle.read(size)
        else:
            with path.open("rb") as handle:
                data = handle.read(size)
    except (EOFError, OSError, zlib.error):
        return ""
    return data.decode("utf-8", errors="ignore")


class _Lines:
    """Character offset to 1-based line number."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        position = text.find("\n")
        while position >= 0:
            self._starts.append(position + 1)
            position = text.find("\n", position + 1)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def json_document(path: Path) -> Any:
    """A whole JSON file; a syntax error or truncation names the line."""
    text = _text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise file_error(path, f"not valid JSON ({error.msg})", error.lineno) from None


def json_records(path: Path) -> Iterator[FileRecord]:
    """The records of a JSON list file (``[{...}, ...]``) or a JSON lines file, each with
    the line it starts on. A truncated or malformed file is an error naming the line."""
    text = _text(path)
    start = _skip_space(text, 0)
    if start < len(text) and text[start] == "[":
        yield from _json_list(path, text, start)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise file_error(path, f"not valid JSON ({error.msg})", number) from None


def _json_list(path: Path, text: str, start: int) -> Iterator[FileRecord]:
    lines = _Lines(text)
    decoder = json.JSONDecoder()
    position = _skip_space(text, start + 1)
    if position < len(text) and text[position] == "]":
        return
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            message = "truncated" if error.pos >= len(text) else f"not valid JSON ({error.msg})"
            raise file_error(path, message, lines.line(error.pos)) from None
        yield lines.line(position), value
        position = _skip_space(text, end)
        if position >= len(text):
            end = max(len(text.rstrip()) - 1, 0)
            raise file_error(path, "truncated: the list is not closed", lines.line(end))
        if text[position] == "]":
            break
        if text[position] != ",":
            raise file_error(path, "expected ',' or ']' between records", lines.line(position))
        position = _skip_space(text, position + 1)
    if _skip_space(text, position + 1) < len(text):
        raise file_error(path, "unexpected text after the list", lines.line(position + 1))


def read_table(path: str | Path, text_columns: tuple[str, ...] = ()) -> pa.Table:
    """Reads one Parquet, CSV or JSON lines file; a malformed file is an error naming it
    (and the line, where there is one). ``text_columns`` of a CSV are read as text, not
    guessed: a column of ids such as ``1, 2, 3`` stays ids."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            return _parquet_table(path)
        if path.suffix == ".csv":
            check_utf8(path)
            return _csv_table(path, text_columns)
        if path.suffix in (".jsonl", ".json"):
            check_utf8(path)
            return _json_lines_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise file_error(path, f"cannot be read: {error}") from error
    raise file_error(path, f"unknown file type; expected one of {', '.join(_TABLE_SUFFIXES)}")


def check_utf8(path: Path, chunk: int = 1 << 20) -> None:
    """Raises naming the line of the first byte that is not UTF-8. Arrow would read such
    a CSV column as bytes and pass JSON strings through unchecked."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(chunk)
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as error:
                # The decoder decodes the (at most 3) bytes it held back from the chunk
                # before and this one: the error's offset counts those first.
                start = error.start - (len(error.object) - len(data))
                line = lines + data.count(b"\n", 0, max(start, 0))
                raise file_error(path, f"is not UTF-8 text ({error.reason})", line) from None
            if not data:
                return
            lines += data.count(b"\n")


#: What reading a damaged Parquet file raises: Arrow's errors, and a column name that is
#: no UTF-8 (pyarrow decodes names without catching).
PARQUET_ERRORS = (pa.ArrowInvalid, OSError, UnicodeDecodeError)


def parquet_columns(path: Path) -> list[str]:
    """A Parquet file's column names, from its footer; an error naming the file if it
    cannot be read (truncated, not Parquet, damaged names)."""
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except PARQUET_ERRORS as error:
        raise file_error(path, f"cannot be read as Parquet ({error})") from error


def _parquet_table(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        names = table.column_names
    except UnicodeDecodeError as error:  # a column name that is no UTF-8
        raise file_error(path, f"cannot be read as Parquet ({error})") from None
    # Parquet strings are not checked on read: a column of bad bytes would fail later,
    # when a value is first turned into a Python string.
    for name in names:
        try:
            table.column(name).validate(full=True)
        except pa.ArrowInvalid as error:
            raise file_error(path, f"column {name!r}: {error}") from None
    return table


def _csv_table(path: Path, text_columns: tuple[str, ...]) -> pa.Table:
    import pyarrow.csv as pcsv

    convert = pcsv.ConvertOptions(column_types=dict.fromkeys(text_columns, pa.string()))
    try:
        return pcsv.read_csv(path, convert_options=convert)
    except pa.ArrowInvalid as error:
        if "straddling" not in str(error):
            raise
    # A field longer than Arrow's block (1 MB): read the file as one block.
    size = min(path.stat().st_size + 1, 2**31 - 1)
    return pcsv.read_csv(
        path, read_options=pcsv.ReadOptions(block_size=size), convert_options=convert
    )


def _json_lines_table(path: Path) -> pa.Table:
    import pyarrow.json as pjson

    try:
        return pjson.read_json(path)
    except pa.ArrowInvalid:
        # Arrow's message has no line number: parse again record by record to name it.
        records = list(json_records(path))
        for line, record in records:
            if not isinstance(record, dict):
                message = f"expected a JSON object, found {type(record).__name__}"
                raise file_error(path, message, line) from None
        try:
            return pa.Table.from_pylist([record for _, record in records])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise file_error(path, f"cannot be read as a table: {error}") from error
