"""add_measurements: a write tool, offered only when the server allows writes."""

from collections import Counter
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from mcp_types import ToolAnnotations
from pydantic import Field

from ..exceptions import UnknownIdError
from ..pool import Pool
from ._arguments import ToolSet
from ._models import CommitResult, MeasurementInput
from ._state import PoolState, Snapshot

__all__ = ["MAX_ROWS", "write_tools"]

MAX_ROWS = 10_000

_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("kind", pa.string()),
        ("model", pa.string()),
        ("score", pa.float64()),
        ("model_a", pa.string()),
        ("model_b", pa.string()),
        ("winner", pa.string()),
        ("ranking", pa.list_(pa.list_(pa.string()))),
    ]
)


def measurement_table(rows: list[MeasurementInput]) -> pa.Table:
    """The long-format table of ``rows``."""
    return pa.Table.from_pylist([row.model_dump() for row in rows], schema=_SCHEMA)


def check_ids(snapshot: Snapshot, rows: list[MeasurementInput], new_models: list[str]) -> None:
    """Names the row of an unknown sample or model (the pool's own message counts rows
    within one kind of measurement, not in the caller's list)."""
    known = _sample_set(snapshot)
    for position, row in enumerate(rows):
        if row.sample_id not in known:
            raise UnknownIdError(
                f"rows[{position}].sample_id: unknown sample {row.sample_id!r} (measurements "
                "can only be added for samples already in the pool)",
                field="sample_id",
                id=row.sample_id,
                row=position,
            )
        for model in _models_of(row):
            if model not in snapshot.lookup and model not in new_models:
                raise UnknownIdError(
                    f"rows[{position}]: unknown model {model!r}; list it in new_models to "
                    "register it with this batch",
                    field="model",
                    id=model,
                    row=position,
                )


def _models_of(row: MeasurementInput | dict[str, Any]) -> list[str]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    named = [get("model"), get("model_a"), get("model_b")]
    named += [model for group in get("ranking") or [] for model in group]
    return [model for model in named if model is not None]


def _sample_set(snapshot: Snapshot) -> set[str]:
    known = snapshot.cache.get("sample_set")
    if known is None:
        known = snapshot.cache["sample_set"] = {*snapshot.sample_ids, *snapshot.copies}
    return known


def _key(row: dict[str, Any], sample: str, model: Any) -> tuple[Any, ...]:
    """What makes a measurement the same one: its cell for binary/numeric (a second value
    for a cell from the same source is a resend, as on import), the whole outcome else."""
    if row["kind"] in ("binary", "numeric"):
        return (sample, "cardinal", model(row["model"]))
    if row["kind"] == "pairwise":
        return (sample, "pairwise", model(row["model_a"]), model(row["model_b"]), row["winner"])
    ranking = tuple(tuple(sorted(model(name) for name in group)) for group in row["ranking"])
    return (sample, "ranking", ranking)


def new_rows(
    pool: Pool, snapshot: Snapshot, rows: list[MeasurementInput], source: str
) -> list[MeasurementInput]:
    """The rows that ``source`` has not committed yet (an agent retrying a call that timed
    out must not count its measurements twice)."""
    samples = sorted({snapshot.copies.get(row.sample_id, row.sample_id) for row in rows})
    models = sorted(
        {snapshot.lookup[m] for row in rows for m in _models_of(row) if m in snapshot.lookup}
    )
    if not models:
        return rows
    stored = pool.measurements(samples, models=models)
    stored = stored.filter(pc.equal(stored.column("source"), source))
    held: Counter[tuple[Any, ...]] = Counter()
    for row in stored.to_pylist():
        held[_key(row, row["sample_id"], str)] += 1
    kept = []
    for row in rows:
        key = _key(
            row.model_dump(),
            snapshot.copies.get(row.sample_id, row.sample_id),
            lambda name: snapshot.lookup.get(name, name),
        )
        if held[key] > 0:
            held[key] -= 1
        else:
            kept.append(row)
    return kept


def add_new_measurements(
    state: PoolState,
    snapshot: Snapshot,
    rows: list[MeasurementInput],
    source: str,
    grader: str | None,
    judge: str | None,
    new_models: list[str],
) -> CommitResult:
    pool = state.pool
    # One write at a time: two concurrent retries of one batch must not both find it new.
    with state.write_lock:
        kept = new_rows(pool, snapshot, rows, source)
        if not kept:
            return CommitResult(version=pool.version, added=0, skipped=len(rows), models_added=0)
        report = pool.add_measurements(
            measurement_table(kept),
            source=source,
            grader=grader,
            judge=judge,
            extra={"via": "onebench-mcp"},
            models=[model for model in new_models if model not in snapshot.lookup] or None,
        )
    return CommitResult(
        version=report.version,
        added=report.added,
        skipped=len(rows) - len(kept),
        models_added=report.models_added,
    )


def write_tools(tools: ToolSet, state: PoolState) -> None:
    """Adds the write tools to ``tools``."""

    @tools.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True
        )
    )
    async def add_measurements(
        rows: Annotated[list[MeasurementInput], Field(min_length=1, max_length=MAX_ROWS)],
        source: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="where the measurements come from (harness, paper, run id)",
            ),
        ],
        grader: Annotated[str | None, Field(max_length=200)] = None,
        judge: Annotated[str | None, Field(max_length=200)] = None,
        new_models: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
            Field(
                max_length=1_000,
                description="model ids to register in the same commit (rows may only name "
                "models the pool knows or that are listed here)",
            ),
        ] = None,
    ) -> CommitResult:
        """Add measurements of models on samples already in the pool, in one atomic commit.

        Each row is one measurement: binary (model + score 0/1), numeric (model + score),
        pairwise (model_a + model_b + winner 'a'|'b'|'tie') or ranking (groups of tied
        models, best first). A bad row (unknown sample or model, a field the kind does not
        have) rejects the whole batch with an error naming the row; nothing is written.
        Sending the same rows from the same source again adds nothing (they are counted
        as skipped), so a call that timed out can safely be retried."""
        snapshot = await state.snapshot()
        check_ids(snapshot, rows, new_models or [])
        return await state.run_quick(
            add_new_measurements,
            state,
            snapshot,
            rows,
            source,
            grader,
            judge,
            new_models or [],
        )
