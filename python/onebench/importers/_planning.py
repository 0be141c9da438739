"""Pure helpers of the import planner: the model names a measurement table uses, the
key that recognises a measurement the pool already holds, and model names that look
alike."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._identity import date_suffix, name_key

__all__ = ["lookalikes", "measurement_keys", "model_names"]

_WINNERS = {"a": "a", "b": "b", "tie": "tie", "model_a": "a", "model_b": "b"}
_WINNERS["tie (bothbad)"] = "tie"


def model_names(table: pa.Table) -> set[str]:
    """Every model a long-format measurement table names."""
    names: set[str] = set()
    for column in ("model", "model_a", "model_b"):
        if column in table.column_names:
            names.update(v for v in pc.unique(table.column(column)).to_pylist() if v)
    if "ranking" in table.column_names:
        for ranking in table.column("ranking").to_pylist():
            for entry in ranking or []:
                names.update(entry if isinstance(entry, list) else [entry])
    return names


def _strings(table: pa.Table, name: str) -> list:
    if name not in table.column_names:
        return [None] * table.num_rows
    return pc.cast(table.column(name), pa.string()).to_pylist()


def _floats(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False)


def measurement_keys(
    table: pa.Table, canonical_sample: dict[str, str], canonical_model: dict[str, str]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One key per row: the sample and model(s) (through the canonical maps) and, for
    pairwise and ranking rows, the outcome; whether the row is cardinal; its score.

    A cardinal cell is one measurement whatever its value (a changed value is not a new
    measurement); a pairwise or ranking row is identified by its outcome too, since one
    pair may be judged many times on one sample.
    """
    rows = table.num_rows
    samples = [canonical_sample.get(value, value) for value in _strings(table, "sample_id")]
    kinds = _strings(table, "kind")
    models = _strings(table, "model")
    model_a = _strings(table, "model_a")
    model_b = _strings(table, "model_b")
    winners = _strings(table, "winner")
    probability = _floats(table, "probability")
    scores = _floats(table, "score")
    rankings = (
        table.column("ranking").to_pylist() if "ranking" in table.column_names else [None] * rows
    )

    def model(name: str | None) -> str | None:
        return canonical_model.get(name, name) if name is not None else None

    keys = []
    cardinal = np.zeros(rows, dtype=bool)
    for row in range(rows):
        kind = kinds[row]
        if kind == "pairwise":
            chance = probability[row]
            # The pool keeps probabilities as 32-bit floats.
            shown = "" if np.isnan(chance) else f"{float(np.float32(chance)):.6g}"
            winner = _WINNERS.get(winners[row], winners[row])
            keys.append(
                f"p\x1f{samples[row]}\x1f{model(model_a[row])}\x1f{model(model_b[row])}"
                f"\x1f{winner}\x1f{shown}"
            )
        elif kind == "ranking":
            groups = [
                sorted(str(model(name)) for name in (entry if isinstance(entry, list) else [entry]))
                for entry in rankings[row] or []
            ]
            keys.append(f"r\x1f{samples[row]}\x1f{json.dumps(groups)}")
        else:
            cardinal[row] = True
            keys.append(f"c\x1f{samples[row]}\x1f{model(models[row])}")
    return keys, cardinal, scores


def lookalikes(new: list[str], known: dict[str, str]) -> list[tuple[str, str]]:
    """(new name, known model) pairs whose names normalise alike: the same key, or the
    same key without a date where only one of the two names has a date. ``known`` maps
    every known name (model or alias) to its model."""
    exact: dict[str, str] = {}
    loose: dict[str, list[tuple[str, str]]] = {}
    for name, model in known.items():
        exact.setdefault(name_key(name), model)
        loose.setdefault(name_key(name, without_date=True), []).append((name, model))
    pairs = []
    for name in new:
        model = exact.get(name_key(name))
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
