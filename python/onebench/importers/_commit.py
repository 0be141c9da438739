"""Committing what importers read: one identity for models and samples, only the
measurements the pool does not hold yet, and one atomic commit for a whole import.

Every source is planned against the pool as the sources before it in the same import
will leave it, then all are committed together (each batch with its own provenance):
a bad row in the last file leaves nothing of the first behind. An error the store finds
in a row is re-labelled with the file and line that row came from. How each source is
planned (which models, samples and measurements are new) is in ``_planner``.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pyarrow as pa

from .._identity import ModelMapping
from ..exceptions import InvalidInputError
from ..pool import CommitReport, Pool
from ._base import Source
from ._files import file_error
from ._planner import Planner, SourceReport
from ._planning import strings

__all__ = ["FILE", "LINE", "SourceReport", "commit_sources"]

log = logging.getLogger("onebench")

#: Hidden columns an importer may add to ``measurements``: the file and line of each row,
#: so that an error the store finds in a row names where that row came from.
FILE = "_file"
LINE = "_line"


def commit_sources(
    pool: Pool, sources: list[Source], mapping: ModelMapping | None = None
) -> list[SourceReport]:
    """Plans every source, then commits them all at once (or none)."""
    planner = Planner(pool, mapping)
    planned = [planner.plan(source) for source in sources]
    try:
        results: list[CommitReport] = pool.add_measurement_batches([p.batch for p in planned])
    except InvalidInputError as error:
        index = getattr(error, "batch", None)
        if index is None or not 0 <= index < len(planned):
            raise
        item = planned[index]
        raise _located(error, item.table, item.kept_rows, sources[index]) from None
    for item, result in zip(planned, results, strict=True):
        report = item.report
        report.samples_added = result.samples_added - report.samples_merged
        report.measurements_added = result.added
        report.version = result.version
        for new, known in report.lookalikes:
            log.info("model %r looks like %r; kept apart until you confirm", new, known)
    return [item.report for item in planned]


_STORE_FIELD = re.compile(r"^(cardinal\[(?P<part>\d+)\]|pairwise|rankings)\.(?P<column>\w+)$")
_COLUMNS = {"values": "score", "samples": "sample_id", "models": "model", "outcome": "winner"}


def _located(
    error: InvalidInputError, table: pa.Table, rows: np.ndarray, source: Source
) -> InvalidInputError:
    """The error on a row of the rows kept, re-labelled with the file and line (or the
    row of the source's table) that row came from. The store numbers rows within one
    part of a batch (``cardinal[1].values, row 0``: the first numeric row)."""
    if error.row is None:
        # An error on the whole batch (a missing column): name its file at least.
        if len(source.files) == 1 and source.files[0] not in str(error):
            return file_error(source.files[0], str(error))
        return error
    row, field, message = error.row, error.field or "", str(error)
    match = _STORE_FIELD.match(field)
    if match is not None:
        kinds = strings(table, "kind")
        if match["part"] is not None:
            present = [kind for kind in ("binary", "numeric") if (kinds == kind).any()]
            part = int(match["part"])
            group = kinds == present[part] if part < len(present) else None
        else:
            group = kinds == ("pairwise" if field.startswith("pairwise") else "ranking")
        if group is None or error.row >= int(group.sum()):
            return error
        row = int(np.flatnonzero(group)[error.row])
        field = _COLUMNS.get(match["column"], match["column"])
        message = message.split(": ", 1)[1] if ": " in message else message
        message = f"{field}, row {row}: {message}"
    if row >= len(rows):
        return error
    original = int(rows[row])
    message = message.replace(f"row {row}", f"row {original}", 1)
    if LINE in table.column_names and FILE in table.column_names:
        line = table.column(LINE)[row].as_py()
        path = table.column(FILE)[row].as_py()
        if line is not None and path is not None:
            return file_error(path, message, int(line))
    if len(source.files) == 1:
        return file_error(source.files[0], message)
    return InvalidInputError(message, field=field, row=original)
