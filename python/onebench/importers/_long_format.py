"""The long format of ``../shared/data``: ``samples.*`` and ``measurements.*`` tables
(Parquet, CSV or JSON lines), or a folder holding them.

A measurements table has ``sample_id`` and ``model`` / ``model_a`` / ``ranking``
columns; any other table with ``sample_id`` is a samples table. A folder is one data
set: its samples are committed together with its measurements.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import InvalidInputError
from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import file_error, head, parquet_columns, read_table
from ._long_checks import ID_COLUMNS, checked_table

__all__ = ["LongFormat"]

_SUFFIXES = (".parquet", ".csv", ".jsonl", ".json")
_MEASUREMENT_COLUMNS = {"model", "model_a", "ranking"}
_STEMS = ("samples", "measurements")
# A CSV's columns of ids and texts are text whatever they look like (ids 1, 2, 3).
_CSV_TEXT = (*ID_COLUMNS, "text", "reference", "source", "grader", "time")


def _columns(path: Path) -> list[str]:
    """Column names without reading the table (Parquet schema, CSV header, first JSON
    line); empty when the file does not look like a table."""
    if path.suffix == ".parquet":
        try:
            return parquet_columns(path)
        except InvalidInputError:
            return []
    text = head(path, 16384).removeprefix("\ufeff")  # a byte order mark (Excel's CSV)
    if path.suffix == ".csv":
        return [name.strip().strip('"') for name in text.split("\n", 1)[0].split(",")]
    first = text.lstrip()[:1]
    return ["sample_id"] if first == "{" and '"sample_id"' in text.split("\n", 1)[0] else []


def _json_keys(path: Path) -> list[str] | None:
    """The keys of a JSON lines file's first record (None: it is no JSON object)."""
    import json

    try:
        with path.open("rb") as handle:
            line = next((line for line in handle if line.strip()), b"")
        record = json.loads(line)
    except (OSError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return list(record) if isinstance(record, dict) else None


@importer("long")
class LongFormat:
    description = "onebench long format: samples.* and measurements.* (Parquet, CSV, JSONL)"
    generic = True

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(
                entry.suffix in _SUFFIXES and entry.stem in _STEMS for entry in path.iterdir()
            )
        return path.suffix in _SUFFIXES and "sample_id" in _columns(path)

    def explain(self, path: Path) -> str | None:
        """Why a table file is not in the long format: the columns it has and the ones
        the format needs (or why it cannot be read)."""
        if path.is_dir() or path.suffix not in _SUFFIXES:
            return None
        found: list[str] | None
        if path.suffix == ".parquet":
            try:
                found = parquet_columns(path)
            except InvalidInputError as error:
                return f"it cannot be read as Parquet ({error.__cause__})"
        elif path.suffix == ".csv":
            found = _columns(path)
        else:
            found = _json_keys(path)
            if found is None:
                return "its first line is not a JSON object"
        have = ", ".join(found) if found else "none"
        return (
            f"its columns are {have}; the long format needs 'sample_id' and, for "
            "measurements, 'kind' with 'model' + 'score', 'model_a' + 'model_b' + 'winner' "
            "or 'ranking'"
        )

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        sources: list[Source] = []
        loose: list[Path] = []
        for path in paths:
            if path.is_dir():
                files = sorted(
                    entry
                    for entry in path.iterdir()
                    if entry.suffix in _SUFFIXES and entry.stem in _STEMS
                )
                sources += _sources(files, options.source or path.name)
            else:
                loose.append(path)
        if loose:
            sources += _sources(loose, options.source)
        return sources


def _sources(files: list[Path], name: str | None) -> list[Source]:
    """One source per measurements table; the samples tables ride with the first."""
    samples: list[pa.Table] = []
    measurements: list[tuple[Path, pa.Table]] = []
    for path in files:
        table = read_table(path, _CSV_TEXT)
        if "sample_id" not in table.column_names:
            raise file_error(path, "no 'sample_id' column")
        table = checked_table(path, table)
        if _MEASUREMENT_COLUMNS & set(table.column_names):
            measurements.append((path, table))
        else:
            samples.append(table)
    sample_table = pa.concat_tables(samples, promote_options="permissive") if samples else None
    if not measurements:
        files_read = [str(path) for path in files]
        empty = pa.table({"sample_id": pa.array([], pa.string())})
        return [Source("long", name or _default_name(files[0]), files_read, empty, sample_table)]
    sources: list[Source] = []
    for path, table in measurements:
        for judge, part in _by_judge(_with_lines(path, _with_probability(table))):
            sources.append(
                Source(
                    format="long",
                    name=name or _default_name(path),
                    files=[str(path)],
                    measurements=part,
                    samples=None if sources else sample_table,
                    judge=judge,
                )
            )
    return sources


def _by_judge(table: pa.Table) -> list[tuple[str | None, pa.Table]]:
    """A table whose rows name their judge, split by judge: each part is committed with
    its own provenance (in the same atomic commit), so the pool keeps who judged what."""
    if "judge" not in table.column_names:
        return [(None, table)]
    judges = pc.cast(table.column("judge"), pa.string())
    names = sorted(str(value) for value in pc.unique(judges).to_pylist() if value)
    if len(names) <= 1:
        return [(names[0] if names else None, table)]
    parts = [(judge, table.filter(pc.equal(judges, judge))) for judge in names]
    unjudged = table.filter(pc.is_null(judges))
    return parts + ([(None, unjudged)] if unjudged.num_rows else [])


def _default_name(path: Path) -> str:
    """The data set's name: its folder for ``samples.*`` / ``measurements.*``, else the
    file's stem. Stable across re-imports, so that repeated rows are recognised."""
    return path.parent.name if path.stem in _STEMS and path.parent.name else path.stem


def _with_lines(path: Path, table: pa.Table) -> pa.Table:
    """A JSON lines table with each row's file and line, so that an error the store
    finds in a row names its line (CSV and Parquet errors name the row)."""
    if path.suffix != ".jsonl":
        return table
    with path.open("rb") as handle:
        lines = [number for number, line in enumerate(handle, start=1) if line.strip()]
    if len(lines) != table.num_rows:
        return table
    table = table.append_column(FILE, pa.array([str(path)] * table.num_rows, pa.string()))
    return table.append_column(LINE, pa.array(lines, pa.int64()))


def _with_probability(table: pa.Table) -> pa.Table:
    """In the long format ``score`` of a pairwise row is P(model_b preferred)."""
    names = table.column_names
    if "probability" in names or "model_a" not in names or "kind" not in names:
        return table
    if "score" not in names:
        return table
    is_pairwise = pc.equal(pc.cast(table.column("kind"), pa.string()), "pairwise")
    probability = pc.if_else(is_pairwise, pc.cast(table.column("score"), pa.float64()), None)
    return table.append_column("probability", probability)
