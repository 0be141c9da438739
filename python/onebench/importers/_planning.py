"""Pure helpers of the import planner: the model names a measurement table uses, the
key that recognises a measurement the pool already holds, model names that look alike,
and the columns of an incoming table read as the planner needs them (sample ids, texts,
benchmarks, metrics, model metadata)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._identity import date_suffix, name_key

__all__ = [
    "compatible_metrics",
    "incoming_metrics",
    "lookalikes",
    "mapped",
    "match_multiset",
    "measurement_keys",
    "model_metadata",
    "model_names",
    "sample_benchmarks",
    "sample_ids",
    "sample_text",
    "strings",
]

_WINNERS = {"a": "a", "b": "b", "tie": "tie", "model_a": "a", "model_b": "b"}
_WINNERS["tie (bothbad)"] = "tie"
_METRIC_OF_KIND = {"binary": "binary", "pairwise": "pairwise", "ranking": "ranking"}


def model_names(table: pa.Table) -> set[str]:
    """Every model a long-format measurement table names."""
    names: set[str] = set()
    for column in ("model", "model_a", "model_b"):
        if column in table.column_names:
            names.update(v for v in pc.unique(table.column(column)).to_pylist() if v)
    if "ranking" in table.column_names:
        for ranking in table.column("ranking").to_pylist():
            for entry in ranking or []:
                # Only ids: a null in a ranking is reported as such when the store reads it.
                group = entry if isinstance(entry, list) else [entry]
                names.update(name for name in group if isinstance(name, str) and name)
    return names


def mapped(table: pa.Table, name: str, mapping: dict[str, str] | None = None) -> pa.Array:
    """Column ``name`` as strings ("" for null or absent), each distinct value passed
    through ``mapping`` once (not once per row)."""
    if name not in table.column_names or table.num_rows == 0:
        return pa.array([""] * table.num_rows, pa.string())
    column = pc.cast(table.column(name), pa.string()).combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    if mapping:
        values = [mapping.get(value, value) for value in values]
    dictionary = pa.array(values, pa.string())
    return pc.fill_null(pc.take(dictionary, encoded.indices), "")


def _floats(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False)


def measurement_keys(
    table: pa.Table, canonical_sample: dict[str, str], canonical_model: dict[str, str]
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """One key per row: the sample and model(s) (through the canonical maps) and, for
    pairwise and ranking rows, the outcome; whether the row is cardinal; its score.

    A cardinal cell is one measurement whatever its value (a changed value is not a new
    measurement); a pairwise or ranking row is identified by its outcome too, since one
    pair may be judged many times on one sample.
    """
    rows = table.num_rows
    separator = "\x1f"
    sample = mapped(table, "sample_id", canonical_sample)
    kinds = mapped(table, "kind").to_numpy(zero_copy_only=False)
    cardinal_keys = pc.binary_join_element_wise(
        pa.array(["c"] * rows, pa.string()),
        sample,
        mapped(table, "model", canonical_model),
        separator,
    )
    keys = np.asarray(cardinal_keys.to_numpy(zero_copy_only=False), dtype=object)
    pairwise = kinds == "pairwise"
    if pairwise.any():
        # The pool keeps probabilities as 32-bit floats: compare them at that precision.
        chance = _floats(table, "probability").astype(np.float32).astype(np.float64)
        shown = pc.fill_null(pc.cast(pa.array(chance, mask=np.isnan(chance)), pa.string()), "")
        pairwise_keys = pc.binary_join_element_wise(
            pa.array(["p"] * rows, pa.string()),
            sample,
            mapped(table, "model_a", canonical_model),
            mapped(table, "model_b", canonical_model),
            mapped(table, "winner", _WINNERS),
            shown,
            separator,
        ).to_numpy(zero_copy_only=False)
        keys[pairwise] = pairwise_keys[pairwise]
    ranking = np.flatnonzero(kinds == "ranking")
    if len(ranking):
        lists = table.column("ranking").take(pa.array(ranking)).to_pylist()
        samples = sample.to_numpy(zero_copy_only=False)
        for row, groups in zip(ranking, lists, strict=True):
            names = [
                sorted(
                    canonical_model.get(str(name), str(name))
                    for name in (entry if isinstance(entry, list) else [entry])
                )
                for entry in groups or []
            ]
            keys[row] = f"r{separator}{samples[row]}{separator}{json.dumps(names)}"
    cardinal = ~pairwise & (kinds != "ranking")
    return pa.array(keys, pa.string()), cardinal, _floats(table, "score")


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same code."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(codes) else np.zeros(0, bool)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(codes)), 0))
    occurrence = np.empty(len(codes), dtype=np.int64)
    occurrence[order] = np.arange(len(codes)) - first
    return occurrence


def match_multiset(held: pa.Array, keys: pa.Array) -> np.ndarray:
    """For each of ``keys``, the position in ``held`` of the held key it repeats, or -1:
    the n-th repeat of a key matches the n-th held copy of it (a multiset difference)."""
    if len(keys) == 0 or len(held) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    codes = pc.dictionary_encode(pa.concat_arrays([held, keys])).indices.to_numpy()
    codes = codes.astype(np.int64)
    held_codes, key_codes = codes[: len(held)], codes[len(held) :]
    held_occurrence, key_occurrence = _occurrence(held_codes), _occurrence(key_codes)
    width = int(max(held_occurrence.max(), key_occurrence.max())) + 1
    held_ids = held_codes * width + held_occurrence
    key_ids = key_codes * width + key_occurrence
    order = np.argsort(held_ids)
    ordered = held_ids[order]
    position = np.minimum(np.searchsorted(ordered, key_ids), len(ordered) - 1)
    found = ordered[position] == key_ids
    return np.where(found, order[position], -1)


def lookalikes(new: list[str], known: dict[str, str]) -> list[tuple[str, str]]:
    """(new name, known model) pairs whose names normalise alike: the same key, or the
    same key without a date where only one of the two names has a date. ``known`` maps
    every known name (model or alias) to its model."""
    exact: dict[str, str] = {}
    loose: dict[str, list[tuple[str, str]]] = {}
    for name, owner in known.items():
        exact.setdefault(name_key(name), owner)
        loose.setdefault(name_key(name, without_date=True), []).append((name, owner))
    pairs = []
    for name in new:
        model: str | None = exact.get(name_key(name))
        if model is None:
            dated = date_suffix(name) is not None
            model = next(
                (
                    other
                    for seen, other in loose.get(name_key(name, without_date=True), [])
                    if (date_suffix(seen) is not None) != dated
                ),
                None,
            )
        if model is not None and model != name:
            pairs.append((name, model))
    return pairs


def strings(table: pa.Table, name: str) -> np.ndarray:
    """Column ``name`` as an object array of strings, ``None`` where null or absent
    (unlike ``mapped``, so that a null written back stays null)."""
    if name not in table.column_names:
        return np.full(table.num_rows, None, dtype=object)
    return np.asarray(pc.cast(table.column(name), pa.string()).to_pylist(), dtype=object)


def model_metadata(models: pa.Table | None, canonical: dict[str, str]) -> dict[str, dict]:
    if models is None or "model" not in models.column_names:
        return {}
    metadata: dict[str, dict] = {}
    for row in models.to_pylist():
        name = row.pop("model")
        entry = {key: value for key, value in row.items() if value is not None}
        if name in canonical and entry:
            metadata.setdefault(canonical[name], {}).update(entry)
    return metadata


def sample_benchmarks(table: pa.Table) -> dict[str, str]:
    """The benchmark of each sample id, from the first row naming it."""
    if "benchmark" not in table.column_names:
        return {}
    ids = strings(table, "sample_id")
    _, first = np.unique(ids.astype(str), return_index=True)
    benchmarks = strings(table, "benchmark")
    return {ids[index]: benchmarks[index] for index in first if benchmarks[index]}


def incoming_metrics(table: pa.Table, higher_is_better: bool) -> dict[str, set[str]]:
    numeric = "numeric_higher" if higher_is_better else "numeric_lower"
    metrics: dict[str, set[str]] = {}
    if table.num_rows == 0 or "kind" not in table.column_names:
        return metrics
    pairs = pa.table({"sample_id": mapped(table, "sample_id"), "kind": mapped(table, "kind")})
    pairs = pairs.group_by(["sample_id", "kind"]).aggregate([])
    for sample, kind in zip(
        pairs.column("sample_id").to_pylist(), pairs.column("kind").to_pylist(), strict=True
    ):
        metrics.setdefault(sample, set()).add(_METRIC_OF_KIND.get(kind, numeric))
    return metrics


def sample_ids(table: pa.Table) -> list[str]:
    return [value for value in pc.unique(table.column("sample_id")).to_pylist() if value]


def sample_text(row: dict[str, Any]) -> str:
    text = row.get("text")
    return text if isinstance(text, str) and text.strip() else ""


def compatible_metrics(metric: str) -> set[str]:
    """Incoming metrics that can be stored on a sample whose metric is ``metric``: its
    own, and binary rows on a numeric sample (as 0/1 scores)."""
    if metric == "numeric_higher":
        return {"numeric_higher", "binary"}
    return {metric}
