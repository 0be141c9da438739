"""Committing what an importer read: one identity for models and samples, and only the
measurements the pool does not hold yet.

For each :class:`Source`, in one atomic commit:

- **models**: a name the pool knows (as a model or an alias) is that model; a name a
  confirmed mapping gives is registered as an alias of its model; any other name is a
  new model. New names that look like known ones are reported, never merged.
- **samples**: a new sample whose normalised text hashes like exactly one pool sample
  (and whose measurements are of a compatible kind) is stored as a copy of it
  (``same_as``): both provenances are kept and both sources' measurements count on it.
- **measurements**: rows the pool already holds from the same source are skipped
  (a multiset difference on sample, model(s) and, for pairwise and ranking rows, the
  outcome), so importing the same files twice changes nothing and a newer file adds only
  its new rows. A cardinal cell measured again with a different value keeps the old one
  and is counted as changed.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _core
from .._identity import ModelMapping, date_suffix, name_key
from ..exceptions import InvalidInputError
from ..pool import Pool
from ._base import Source
from ._files import file_error

__all__ = ["FILE", "LINE", "SourceReport", "commit_source"]

log = logging.getLogger("onebench")

#: Hidden columns an importer may add to ``measurements``: the file and line of each row,
#: so that an error the store finds in a row names where that row came from.
FILE = "_file"
LINE = "_line"

_WINNERS = {"a": "a", "b": "b", "tie": "tie", "model_a": "a", "model_b": "b"}
_WINNERS["tie (bothbad)"] = "tie"


@dataclass
class SourceReport:
    """What committing one source did."""

    format: str
    source: str
    files: list[str]
    samples_added: int = 0
    samples_merged: int = 0
    models_added: int = 0
    measurements_added: int = 0
    measurements_present: int = 0
    measurements_changed: int = 0
    lookalikes: list[tuple[str, str]] = field(default_factory=list)
    version: int = 0


def commit_source(pool: Pool, source: Source, mapping: ModelMapping | None = None) -> SourceReport:
    report = SourceReport(source.format, source.name, list(source.files))
    table = source.measurements
    canonical_model, models, report.lookalikes = _models(pool, source, mapping)
    samples, canonical_sample, report.samples_merged = _samples(pool, source)
    table = _coerce_kinds(table, canonical_sample, pool, source.higher_is_better)
    keep, report.measurements_present, report.measurements_changed = _new_rows(
        pool, source.name, table, canonical_sample, canonical_model
    )
    kept = table.filter(pa.array(keep)) if not keep.all() else table
    if kept.num_rows == 0:
        kept = pa.table(
            {
                "sample_id": pa.array([], pa.string()),
                "model": pa.array([], pa.string()),
                "score": pa.array([], pa.float64()),
            }
        )
        kind: str | None = "binary"
    else:
        kind = None
    try:
        result = pool.add_measurements(
            kept,
            kind=kind,
            higher_is_better=source.higher_is_better,
            source=source.name,
            grader=source.grader,
            judge=source.judge,
            time=source.time,
            extra=source.extra,
            samples=samples,
            models=models,
        )
    except InvalidInputError as error:
        raise _located(error, kept, np.flatnonzero(keep), source) from None
    report.samples_added = result.samples_added - report.samples_merged
    report.models_added = result.models_added
    report.measurements_added = result.added
    report.version = result.version
    for new, known in report.lookalikes:
        log.info(
            "model %r looks like %r; they stay two models unless you confirm "
            "(onebench models suggest / alias, or import --models MAPPING)",
            new,
            known,
        )
    return report


def _located(
    error: InvalidInputError, table: pa.Table, rows: np.ndarray, source: Source
) -> InvalidInputError:
    """The store's error on row ``r`` of the rows kept, re-labelled with the file and
    line (or the row of the file) that row came from."""
    if error.row is None or error.row >= len(rows):
        return error
    row = int(rows[error.row])
    message = str(error).replace(f"row {error.row}", f"row {row}", 1)
    if LINE in table.column_names and FILE in table.column_names:
        line = table.column(LINE)[error.row].as_py()
        path = table.column(FILE)[error.row].as_py()
        if line is not None and path is not None:
            return file_error(path, message, int(line))
    if len(source.files) == 1:
        return file_error(source.files[0], message)
    return type(error)(message, field=error.field, row=row)


def _strings(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, None, dtype=object)
    return np.asarray(pc.cast(table.column(name), pa.string()).to_pylist(), dtype=object)


def _model_names(table: pa.Table) -> set[str]:
    names: set[str] = set()
    for column in ("model", "model_a", "model_b"):
        if column in table.column_names:
            names.update(v for v in pc.unique(table.column(column)).to_pylist() if v)
    if "ranking" in table.column_names:
        for ranking in table.column("ranking").to_pylist():
            for entry in ranking or []:
                names.update(entry if isinstance(entry, list) else [entry])
    return names


def _models(
    pool: Pool, source: Source, mapping: ModelMapping | None
) -> tuple[dict[str, str], dict[str, list] | None, list[tuple[str, str]]]:
    """Each incoming name's model, the models to register, and look-alike warnings."""
    pool_models = pool.models()
    resolve: dict[str, str] = {}
    for model, aliases in zip(
        pool_models.column("model").to_pylist(),
        pool_models.column("aliases").to_pylist(),
        strict=True,
    ):
        resolve[model] = model
        resolve.update(dict.fromkeys(aliases or [], model))
    canonical: dict[str, str] = {}
    register: dict[str, list[str]] = {}
    new: list[str] = []
    for name in sorted(_model_names(source.measurements)):
        mapped = mapping.canonical(name) if mapping is not None else None
        known = resolve.get(name)
        if known is not None:
            if mapped is not None and resolve.get(mapped, mapped) != known:
                raise InvalidInputError(
                    f"models: the mapping makes {name!r} an alias of {mapped!r}, but the "
                    f"pool already holds it as model {known!r}",
                    field="models",
                )
            canonical[name] = known
            continue
        target = resolve.get(mapped, mapped) if mapped is not None else name
        canonical[name] = target
        aliases = register.setdefault(target, [])
        if name != target:
            aliases.append(name)
        elif mapped is None:
            new.append(name)
    lookalikes = _lookalikes(new, resolve, canonical)
    metadata = _model_metadata(source.models, canonical)
    if not register and not metadata:
        return canonical, None, lookalikes
    rows = sorted(set(register) | set(metadata))
    columns: dict[str, list] = {
        "model": rows,
        "aliases": [register.get(model, []) for model in rows],
        "metadata": [json.dumps(metadata[model]) if model in metadata else None for model in rows],
    }
    return canonical, columns, lookalikes


def _model_metadata(models: pa.Table | None, canonical: dict[str, str]) -> dict[str, dict]:
    if models is None or "model" not in models.column_names:
        return {}
    metadata: dict[str, dict] = {}
    for row in models.to_pylist():
        name = row.pop("model")
        entry = {key: value for key, value in row.items() if value is not None}
        if name in canonical and entry:
            metadata.setdefault(canonical[name], {}).update(entry)
    return metadata


def _lookalikes(
    new: list[str], resolve: dict[str, str], canonical: dict[str, str]
) -> list[tuple[str, str]]:
    """(new name, known model) pairs whose names normalise alike: the same key, or the
    same key without a date where only one of the two names has a date."""
    exact: dict[str, str] = {}
    loose: dict[str, list[tuple[str, str]]] = {}
    for name, model in list(resolve.items()) + list(canonical.items()):
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
                    for known, other in loose.get(name_key(name, without_date=True), [])
                    if (date_suffix(known) is not None) != dated
                ),
                None,
            )
        if model is not None and model != name:
            pairs.append((name, model))
    return pairs


def _samples(pool: Pool, source: Source) -> tuple[pa.Table | None, dict[str, str], int]:
    """The samples to register (new ones, copies of pool samples, bare ones for ids only
    the measurements name), each incoming id's pool sample, and how many are copies."""
    table = source.measurements
    ids = [value for value in pc.unique(table.column("sample_id")).to_pylist() if value]
    pool_samples = pool.samples()
    pool_ids = pool_samples.column("sample_id").to_pylist()
    canonical = {sample: sample for sample in pool_ids}
    copies = pool.sample_copies()
    canonical.update(
        zip(
            copies.column("sample_id").to_pylist(),
            copies.column("same_as").to_pylist(),
            strict=True,
        )
    )
    rows: list[dict[str, Any]] = source.samples.to_pylist() if source.samples is not None else []
    given = {row["sample_id"] for row in rows}
    missing = [sample for sample in ids if sample not in given and sample not in canonical]
    if missing:
        benchmarks = _benchmarks(table)
        rows += [
            {"sample_id": sample, "benchmark": benchmarks.get(sample) or sample.split("/", 1)[0]}
            for sample in missing
        ]
    merged = _merge_by_content(pool_samples, rows, canonical, table, source.higher_is_better)
    for row in rows:
        canonical.setdefault(row["sample_id"], row.get("same_as") or row["sample_id"])
    if not rows:
        return None, canonical, merged
    return pa.Table.from_pylist(rows), canonical, merged


def _benchmarks(table: pa.Table) -> dict[str, str]:
    """The benchmark of each sample id, from the first row naming it."""
    if "benchmark" not in table.column_names:
        return {}
    ids = _strings(table, "sample_id")
    _, first = np.unique(ids.astype(str), return_index=True)
    benchmarks = _strings(table, "benchmark")
    return {ids[index]: benchmarks[index] for index in first if benchmarks[index]}


def _incoming_metrics(table: pa.Table, higher_is_better: bool) -> dict[str, set[str]]:
    numeric = "numeric_higher" if higher_is_better else "numeric_lower"
    names = {"binary": "binary", "numeric": numeric, "pairwise": "pairwise", "ranking": "ranking"}
    metrics: dict[str, set[str]] = {}
    for sample, kind in zip(_strings(table, "sample_id"), _strings(table, "kind"), strict=True):
        metrics.setdefault(sample, set()).add(names.get(kind, kind))
    return metrics


def _merge_by_content(
    pool_samples: pa.Table,
    rows: list[dict[str, Any]],
    canonical: dict[str, str],
    table: pa.Table,
    higher_is_better: bool,
) -> int:
    """Marks new rows that are the same question as one pool sample (``same_as``)."""
    fresh = [row for row in rows if row["sample_id"] not in canonical and _text(row)]
    if not fresh or pool_samples.num_rows == 0:
        return 0
    hashes = _core.PoolCore.content_hashes([_text(row) for row in fresh])
    incoming_count = Counter(hashes)
    texts = pool_samples.column("text").to_pylist()
    by_hash: dict[str, list[int]] = {}
    for index, (text, digest) in enumerate(
        zip(texts, pool_samples.column("content_hash").to_pylist(), strict=True)
    ):
        if text and text.strip():
            by_hash.setdefault(digest, []).append(index)
    pool_ids = pool_samples.column("sample_id").to_pylist()
    metrics = pool_samples.column("metric").to_pylist()
    incoming = _incoming_metrics(table, higher_is_better)
    merged = 0
    for row, digest in zip(fresh, hashes, strict=True):
        matches = by_hash.get(digest, [])
        # Only an unambiguous match: one pool sample, one incoming sample.
        if len(matches) != 1 or incoming_count[digest] != 1:
            continue
        existing = metrics[matches[0]]
        wanted = incoming.get(row["sample_id"], set())
        if existing is not None and not wanted <= _compatible(existing):
            continue
        row["same_as"] = pool_ids[matches[0]]
        merged += 1
    return merged


def _text(row: dict[str, Any]) -> str:
    text = row.get("text")
    return text if isinstance(text, str) and text.strip() else ""


def _compatible(metric: str) -> set[str]:
    """Incoming metrics that can be stored on a sample whose metric is ``metric``
    (binary rows are numeric 0/1 scores; the reverse is checked per row)."""
    if metric == "numeric_higher":
        return {"numeric_higher", "binary"}
    if metric == "binary":
        return {"binary", "numeric_higher"}
    return {metric}


def _coerce_kinds(
    table: pa.Table, canonical: dict[str, str], pool: Pool, higher_is_better: bool
) -> pa.Table:
    """Binary rows on a numeric sample become numeric 0/1 scores, and numeric 0/1 rows on
    a binary sample become binary, so that one question measured by two harnesses that
    call its metric differently stays one sample. Other mismatches are left for the
    store to report."""
    if "kind" not in table.column_names or "score" not in table.column_names:
        return table
    samples = pool.samples()
    metric_of = dict(
        zip(
            samples.column("sample_id").to_pylist(),
            samples.column("metric").to_pylist(),
            strict=True,
        )
    )
    ids = _strings(table, "sample_id")
    kinds = _strings(table, "kind")
    scores = pc.cast(table.column("score"), pa.float64()).to_numpy(zero_copy_only=False)
    targets = np.array(
        [metric_of.get(canonical.get(sample, sample)) for sample in ids], dtype=object
    )
    to_numeric = (kinds == "binary") & (targets == "numeric_higher") & higher_is_better
    to_binary = (kinds == "numeric") & (targets == "binary") & np.isin(scores, (0.0, 1.0))
    if not to_numeric.any() and not to_binary.any():
        return table
    kinds = np.where(to_numeric, "numeric", np.where(to_binary, "binary", kinds))
    index = table.column_names.index("kind")
    return table.set_column(index, "kind", pa.array(kinds.tolist(), pa.string()))


def _keys(
    table: pa.Table, canonical_sample: dict[str, str], canonical_model: dict[str, str]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One key per row (sample, model(s), and the outcome for pairwise and ranking
    rows), whether the row is cardinal, and its score."""
    rows = table.num_rows
    samples = [canonical_sample.get(value, value) for value in _strings(table, "sample_id")]
    kinds = _strings(table, "kind")
    models = _strings(table, "model")
    model_a = _strings(table, "model_a")
    model_b = _strings(table, "model_b")
    winners = _strings(table, "winner")
    probability = (
        pc.cast(table.column("probability"), pa.float64()).to_numpy(zero_copy_only=False)
        if "probability" in table.column_names
        else np.full(rows, np.nan)
    )
    rankings = (
        table.column("ranking").to_pylist() if "ranking" in table.column_names else [None] * rows
    )
    scores = (
        pc.cast(table.column("score"), pa.float64()).to_numpy(zero_copy_only=False)
        if "score" in table.column_names
        else np.full(rows, np.nan)
    )
    model = canonical_model.get
    keys = []
    cardinal = np.zeros(rows, dtype=bool)
    for row in range(rows):
        kind = kinds[row]
        if kind == "pairwise":
            chance = probability[row]
            shown = "" if np.isnan(chance) else f"{float(np.float32(chance)):.6g}"
            keys.append(
                f"p\x1f{samples[row]}\x1f{model(model_a[row], model_a[row])}\x1f"
                f"{model(model_b[row], model_b[row])}\x1f{_WINNERS.get(winners[row], winners[row])}"
                f"\x1f{shown}"
            )
        elif kind == "ranking":
            groups = [
                sorted(
                    model(name, name) for name in (entry if isinstance(entry, list) else [entry])
                )
                for entry in rankings[row] or []
            ]
            keys.append(f"r\x1f{samples[row]}\x1f{json.dumps(groups)}")
        else:
            cardinal[row] = True
            keys.append(f"c\x1f{samples[row]}\x1f{model(models[row], models[row])}")
    return keys, cardinal, scores


def _new_rows(
    pool: Pool,
    name: str,
    table: pa.Table,
    canonical_sample: dict[str, str],
    canonical_model: dict[str, str],
) -> tuple[np.ndarray, int, int]:
    """Which rows the pool does not hold from source ``name`` yet (counting repeats),
    how many it holds, and how many cardinal cells it holds with another value."""
    keep = np.ones(table.num_rows, dtype=bool)
    if table.num_rows == 0:
        return keep, 0, 0
    existing = pool.measurements()
    if existing.num_rows:
        sources = pc.cast(existing.column("source"), pa.string())
        existing = existing.filter(pc.fill_null(pc.equal(sources, name), False))
    if existing.num_rows == 0:
        return keep, 0, 0
    identity = {value: value for value in _strings(existing, "sample_id")}
    old_keys, old_cardinal, old_scores = _keys(existing, identity, {})
    held = Counter(old_keys)
    value_of = {
        key: score
        for key, is_cardinal, score in zip(old_keys, old_cardinal, old_scores, strict=True)
        if is_cardinal
    }
    keys, cardinal, scores = _keys(table, canonical_sample, canonical_model)
    changed = 0
    for row, key in enumerate(keys):
        if held[key] > 0:
            held[key] -= 1
            keep[row] = False
            # The pool stores scores as 32-bit floats.
            if cardinal[row] and np.float32(scores[row]) != np.float32(value_of[key]):
                changed += 1
    present = int((~keep).sum())
    if changed:
        log.warning(
            "%s: %d cell(s) are already measured with another value; the pool keeps its value",
            name,
            changed,
        )
    return keep, present, changed
