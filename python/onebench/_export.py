"""Pool measurements as one Arrow table in the long format, with provenance."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["measurement_table"]

_WINNER_NAMES = np.array(["a", "b", "tie"], dtype=object)
_SCHEMA = pa.schema(
    [
        ("sample_id", pa.dictionary(pa.int32(), pa.string())),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
        ("model", pa.dictionary(pa.int32(), pa.string())),
        ("score", pa.float64()),
        ("model_a", pa.dictionary(pa.int32(), pa.string())),
        ("model_b", pa.dictionary(pa.int32(), pa.string())),
        ("winner", pa.string()),
        ("probability", pa.float64()),
        ("ranking", pa.list_(pa.list_(pa.string()))),
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("grader", pa.dictionary(pa.int32(), pa.string())),
        ("judge", pa.dictionary(pa.int32(), pa.string())),
        ("time", pa.dictionary(pa.int32(), pa.string())),
    ]
)


def _dictionary(codes: np.ndarray, names: pa.Array, mask: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, names)


def _null_dictionary(length: int, names: pa.Array) -> pa.Array:
    return _dictionary(np.zeros(length, np.int32), names, np.ones(length, bool))


def measurement_table(
    core: Any,
    sample_mask: np.ndarray | None = None,
    model_mask: np.ndarray | None = None,
    kinds: frozenset[str] | None = None,
) -> pa.Table:
    """The measurements of ``core`` (a ``PoolCore``) in commit order within each kind.

    Optional filters: ``sample_mask`` / ``model_mask`` (bool per sample / model index) keep
    the rows on a selected sample that involve a selected model (a pairwise row or a ranking
    involves every model it names); ``kinds`` keeps those kinds.
    """
    wanted = kinds if kinds is not None else frozenset(("binary", "numeric", "pairwise", "ranking"))
    sample_names = pa.array(core.sample_ids(), pa.string())
    model_names = pa.array(core.model_columns()[0], pa.string())
    provenances = [json.loads(text) for text in core.provenances()]
    # Each provenance field as (dictionary of distinct values, code per provenance with -1
    # for absent), so that every part of the table shares one dictionary per column.
    provenance_columns = {}
    for key in ("source", "grader", "judge", "time"):
        values = [entry.get(key) for entry in provenances]
        distinct = sorted({value for value in values if value is not None})
        lookup = {value: code for code, value in enumerate(distinct)}
        codes = np.array([lookup.get(value, -1) for value in values], dtype=np.int64)
        provenance_columns[key] = (pa.array(distinct, pa.string()), codes)
    metrics = np.array([metric or "" for metric in core.sample_columns()[7]], dtype=object)
    kind_names = pa.array(["binary", "numeric", "pairwise", "ranking"], pa.string())
    parts = []

    samples, models, values, provenance = core.cardinal_rows()
    if len(samples) and {"binary", "numeric"} & wanted:
        kind_codes = np.where(metrics[samples] == "binary", 0, 1)
        keep = _keep(samples, sample_mask) & _keep(models, model_mask)
        if wanted.isdisjoint({"binary"}):
            keep &= kind_codes == 1
        if wanted.isdisjoint({"numeric"}):
            keep &= kind_codes == 0
        samples, models, values, provenance, kind_codes = (
            array[keep] for array in (samples, models, values, provenance, kind_codes)
        )
        parts.append(
            _part(
                samples,
                kind_codes,
                sample_names,
                kind_names,
                provenance,
                provenance_columns,
                model_names,
                model=_dictionary(models, model_names),
                score=pa.array(values.astype(np.float64)),
            )
        )
    samples, model_a, model_b, outcome, probability, provenance = core.pairwise_rows()
    if len(samples) and "pairwise" in wanted:
        keep = _keep(samples, sample_mask) & (
            _keep(model_a, model_mask) | _keep(model_b, model_mask)
        )
        samples, model_a, model_b, outcome, probability, provenance = (
            array[keep] for array in (samples, model_a, model_b, outcome, probability, provenance)
        )
        probability = probability.astype(np.float64)
        parts.append(
            _part(
                samples,
                np.full(len(samples), 2),
                sample_names,
                kind_names,
                provenance,
                provenance_columns,
                model_names,
                model_a=_dictionary(model_a, model_names),
                model_b=_dictionary(model_b, model_names),
                winner=pa.array(_WINNER_NAMES[outcome], pa.string()),
                probability=pa.array(probability, mask=np.isnan(probability)),
            )
        )
    samples, offsets, models, positions, provenance = core.ranking_rows()
    if len(samples) and "ranking" in wanted:
        names = np.asarray(model_names.to_pylist(), dtype=object)
        keep = _keep(samples, sample_mask)
        if model_mask is not None:
            involved = np.add.reduceat(
                model_mask[models].astype(np.int64), offsets[:-1].astype(np.intp)
            )
            keep &= involved > 0
        rankings = []
        selected = np.flatnonzero(keep)
        samples, provenance = samples[selected], provenance[selected]
        for index in selected:
            entries = slice(int(offsets[index]), int(offsets[index + 1]))
            groups: list[list[str]] = []
            last = None
            for model, position in zip(models[entries], positions[entries], strict=True):
                if position != last:
                    groups.append([])
                    last = position
                groups[-1].append(names[model])
            rankings.append(groups)
        parts.append(
            _part(
                samples,
                np.full(len(samples), 3),
                sample_names,
                kind_names,
                provenance,
                provenance_columns,
                model_names,
                ranking=pa.array(rankings, pa.list_(pa.list_(pa.string()))),
            )
        )
    parts = [part for part in parts if part.num_rows]
    if not parts:
        return _SCHEMA.empty_table()
    return pa.concat_tables(parts)


def _keep(indexes: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return np.ones(len(indexes), dtype=bool) if mask is None else mask[indexes]


def _part(
    samples: np.ndarray,
    kinds: np.ndarray,
    sample_names: pa.Array,
    kind_names: pa.Array,
    provenance: np.ndarray,
    provenance_columns: dict[str, tuple[pa.Array, np.ndarray]],
    model_names: pa.Array,
    **columns: pa.Array,
) -> pa.Table:
    length = len(samples)
    arrays = {}
    for field in _SCHEMA:
        if field.name == "sample_id":
            arrays[field.name] = _dictionary(samples, sample_names)
        elif field.name == "kind":
            arrays[field.name] = pa.DictionaryArray.from_arrays(
                pa.array(kinds.astype(np.int8)), kind_names
            )
        elif field.name in provenance_columns:
            names, codes = provenance_columns[field.name]
            row_codes = codes[provenance] if len(codes) else np.full(length, -1)
            arrays[field.name] = _dictionary(np.maximum(row_codes, 0), names, row_codes < 0)
        elif field.name in columns:
            arrays[field.name] = columns[field.name]
        elif pa.types.is_dictionary(field.type):
            arrays[field.name] = _null_dictionary(length, model_names)
        else:
            arrays[field.name] = pa.nulls(length, field.type)
    return pa.table(arrays, schema=_SCHEMA)
