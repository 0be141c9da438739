"""Splitting a long-format measurements table into the per-kind batches of the core.

The long format is the one of ``../shared/data``: one row per measurement with
``sample_id``, ``kind`` and, by kind, ``model`` + ``score`` (binary, numeric),
``model_a`` + ``model_b`` + ``winner`` [+ ``probability``] (pairwise) or ``ranking``
(a list of model ids best first, or a list of tied groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import encode_ids, float_column, optional_column, require_columns, text_column
from .exceptions import InvalidInputError, UnknownIdError

__all__ = ["KINDS", "Parts", "batches_from_table", "caller_error", "split_table"]

KINDS = ("binary", "numeric", "pairwise", "ranking")
_WINNERS = {"a": 0, "b": 1, "tie": 2, "model_a": 0, "model_b": 1, "tie (bothbad)": 2}


def batches_from_table(
    table: pa.Table, kind: str | None, higher_is_better: bool
) -> tuple[list[tuple[Any, ...]], tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """The ``cardinal``, ``pairwise`` and ``rankings`` arguments of ``PoolCore.add_measurements``.

    Row numbers in errors refer to ``table``'s rows. :func:`split_table` also gives the rows
    each part came from, for :func:`caller_error`.
    """
    cardinal, pairwise, rankings, _ = split_table(table, kind, higher_is_better)
    return cardinal, pairwise, rankings


def split_table(
    table: pa.Table, kind: str | None, higher_is_better: bool
) -> tuple[list[tuple[Any, ...]], tuple[Any, ...] | None, tuple[Any, ...] | None, Parts]:
    """:func:`batches_from_table`, plus the table rows of each part (for :func:`caller_error`)."""
    require_columns(table, ["sample_id"], "measurements")
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInputError(
                f"kind: unknown kind {kind!r}; choose one of {', '.join(KINDS)}", field="kind"
            )
        groups = {kind: np.arange(table.num_rows)}
    else:
        groups = _rows_by_kind(table)
    cardinal = []
    numeric_metric = "numeric_higher" if higher_is_better else "numeric_lower"
    for name, metric in (("binary", "binary"), ("numeric", numeric_metric)):
        if name in groups:
            cardinal.append(_cardinal(table, groups[name], metric))
    pairwise = _pairwise(table, groups["pairwise"]) if "pairwise" in groups else None
    rankings = _rankings(table, groups["ranking"]) if "ranking" in groups else None
    parts = Parts(
        cardinal=[
            (groups[name], part)
            for name, part in zip(
                [name for name in ("binary", "numeric") if name in groups], cardinal, strict=True
            )
        ],
        pairwise=(groups["pairwise"], pairwise) if pairwise is not None else None,
        rankings=(groups["ranking"], rankings) if rankings is not None else None,
    )
    return cardinal, pairwise, rankings, parts


# The core names a part's columns; the caller knows the long format's.
_COLUMNS = {
    "samples": "sample_id",
    "models": "model",
    "values": "score",
    "model_a": "model_a",
    "model_b": "model_b",
    "outcome": "winner",
    "probability_b": "probability",
}


@dataclass(frozen=True)
class Parts:
    """The table rows behind each part handed to the core, with the part itself."""

    cardinal: list[tuple[np.ndarray, tuple[Any, ...]]]
    pairwise: tuple[np.ndarray, tuple[Any, ...]] | None
    rankings: tuple[np.ndarray, tuple[Any, ...]] | None

    def _locate(self, error: InvalidInputError) -> tuple[np.ndarray, str] | None:
        """The rows of the part an error of the core is about, and the caller's column."""
        field = error.field or ""
        head, _, column = field.partition(".")
        if head.startswith("cardinal[") and head.endswith("]"):
            index = int(head[len("cardinal[") : -1])
            if index < len(self.cardinal):
                return self.cardinal[index][0], _COLUMNS.get(column, column)
        if head == "pairwise" and self.pairwise is not None:
            return self.pairwise[0], _COLUMNS.get(column, column)
        if head == "rankings" and self.rankings is not None:
            return self.rankings[0], "sample_id" if column == "samples" else "ranking"
        if isinstance(error, UnknownIdError) and error.row is not None:
            # Unknown ids do not name their part: find the part whose row holds the id.
            for rows, columns in self._id_columns(error.field):
                for name, (dictionary, codes) in columns:
                    row = error.row
                    if row < len(codes) and dictionary[codes[row]] == error.id:
                        return rows, name
        return None

    def _id_columns(self, kind: str | None) -> list[tuple[np.ndarray, list[Any]]]:
        """Per part: its rows and its (column, ids) of the kind of id ("sample", "model")."""
        found = []
        for rows, part in self.cardinal:
            columns = [("sample_id", part[0])] if kind == "sample" else [("model", part[1])]
            found.append((rows, columns))
        if self.pairwise is not None:
            rows, part = self.pairwise
            columns = (
                [("sample_id", part[0])]
                if kind == "sample"
                else [("model_a", part[1]), ("model_b", part[2])]
            )
            found.append((rows, columns))
        if self.rankings is not None and kind == "sample":
            rows, part = self.rankings
            found.append((rows, [("sample_id", part[0])]))
        return found


def caller_error(error: InvalidInputError, parts: Parts) -> InvalidInputError:
    """``error`` from the core, re-labelled with the caller's column and table row."""
    located = parts._locate(error)
    if located is None or error.row is None:
        return error
    rows, column = located
    if error.row >= len(rows):
        return error
    row = int(rows[error.row])
    message = str(error)
    if isinstance(error, UnknownIdError):
        message = f"{column}, row {row}: unknown {error.field} id {error.id!r}"
        return UnknownIdError(message, field=column, id=error.id, row=row)
    message = message.replace(f"{error.field}, row {error.row}", f"{column}, row {row}", 1)
    return type(error)(message, field=column, row=row)


def _rows_by_kind(table: pa.Table) -> dict[str, np.ndarray]:
    if "kind" not in table.column_names:
        raise InvalidInputError(
            "measurements: no 'kind' column; add one or pass kind='binary' | 'numeric' | "
            "'pairwise' | 'ranking'",
            field="kind",
        )
    codes = _kind_codes(table.column("kind"))
    groups: dict[str, np.ndarray] = {}
    for code, name in enumerate(KINDS):
        rows = np.flatnonzero(codes == code)
        if len(rows):
            groups[name] = rows
    unknown = np.flatnonzero(codes < 0)
    if len(unknown):
        row = int(unknown[0])
        value = table.column("kind")[row].as_py()
        raise InvalidInputError(
            f"kind, row {row}: unknown kind {value!r}; choose one of {', '.join(KINDS)}",
            field="kind",
            row=row,
        )
    return groups


def _kind_codes(column: pa.ChunkedArray) -> np.ndarray:
    """Per row, the index of its kind in ``KINDS`` (-1: unknown or missing). Works on the
    dictionary of each chunk, so 50M rows cost integer lookups, not string compares."""
    parts = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
                chunk = pc.cast(chunk, pa.string())
            chunk = pc.dictionary_encode(chunk)
        names = pc.cast(chunk.dictionary, pa.string()).to_pylist()
        lookup = np.array([KINDS.index(n) if n in KINDS else -1 for n in names] + [-1], np.int8)
        indices = chunk.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
        parts.append(lookup[indices.astype(np.intp, copy=False)])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)


def _take(table: pa.Table, name: str, rows: np.ndarray) -> pa.ChunkedArray:
    column = table.column(name)
    return column if len(rows) == table.num_rows else column.take(pa.array(rows))


def _offset_errors(rows: np.ndarray, error: InvalidInputError) -> InvalidInputError:
    """Re-labels an error on a sub-table with the row number of the caller's table."""
    if error.row is None or len(rows) == 0:
        return error
    original = int(rows[error.row])
    message = str(error).replace(f"row {error.row}", f"row {original}", 1)
    return type(error)(message, field=error.field, row=original)


def _cardinal(table: pa.Table, rows: np.ndarray, metric: str) -> tuple[Any, ...]:
    require_columns(table, ["model", "score"], "measurements")
    try:
        samples = encode_ids(_take(table, "sample_id", rows), "sample_id")
        models = encode_ids(_take(table, "model", rows), "model")
        values = float_column(_take(table, "score", rows), "score")
    except InvalidInputError as error:
        raise _offset_errors(rows, error) from None
    return (samples, models, values, metric)


def _pairwise(table: pa.Table, rows: np.ndarray) -> tuple[Any, ...]:
    require_columns(table, ["model_a", "model_b", "winner"], "measurements")
    try:
        samples = encode_ids(_take(table, "sample_id", rows), "sample_id")
        model_a = encode_ids(_take(table, "model_a", rows), "model_a")
        model_b = encode_ids(_take(table, "model_b", rows), "model_b")
        winners = text_column(_take(table, "winner", rows), "winner").to_numpy(zero_copy_only=False)
        outcome = np.full(len(winners), 255, dtype=np.uint8)
        for name, code in _WINNERS.items():
            outcome[winners == name] = code
        if (outcome == 255).any():
            row = int(np.flatnonzero(outcome == 255)[0])
            raise InvalidInputError(
                f"winner, row {row}: {winners[row]!r} is not 'a', 'b' or 'tie'",
                field="winner",
                row=row,
            )
        probability = None
        column = optional_column(table, "probability")
        if column is not None:
            taken = column if len(rows) == table.num_rows else column.take(pa.array(rows))
            try:
                probability = pc.cast(taken, pa.float64()).to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InvalidInputError(
                    f"probability: expected numbers, found values of type {taken.type}",
                    field="probability",
                ) from None
            probability = np.ascontiguousarray(np.where(np.isnan(probability), np.nan, probability))
    except InvalidInputError as error:
        raise _offset_errors(rows, error) from None
    return (samples, model_a, model_b, outcome, probability)


def _rankings(table: pa.Table, rows: np.ndarray) -> tuple[Any, ...]:
    require_columns(table, ["ranking"], "measurements")
    try:
        samples = encode_ids(_take(table, "sample_id", rows), "sample_id")
        lists = _take(table, "ranking", rows).to_pylist()
        offsets = [0]
        models: list[str] = []
        positions: list[int] = []
        for row, ranking in enumerate(lists):
            if not isinstance(ranking, list) or len(ranking) < 2:
                raise InvalidInputError(
                    f"ranking, row {row}: needs a list of at least two models (or tied groups)",
                    field="ranking",
                    row=row,
                )
            for position, entry in enumerate(ranking):
                group = entry if isinstance(entry, list) else [entry]
                for model in group:
                    if not isinstance(model, str):
                        raise InvalidInputError(
                            f"ranking, row {row}: {model!r} is not a model id",
                            field="ranking",
                            row=row,
                        )
                    models.append(model)
                    positions.append(position)
            offsets.append(len(models))
        model_ids = encode_ids(pa.array(models, type=pa.string()), "ranking")
    except InvalidInputError as error:
        raise _offset_errors(rows, error) from None
    return (
        samples,
        np.asarray(offsets, dtype=np.uint64),
        model_ids,
        np.asarray(positions, dtype=np.uint32),
    )
