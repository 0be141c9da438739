"""Committing what importers read: one identity for models and samples, only the
measurements the pool does not hold yet, and one atomic commit for a whole import.

Every source is planned against the pool as the sources before it in the same import
will leave it, then all are committed together (each batch with its own provenance):
a bad row in the last file leaves nothing of the first behind.

- **models**: a name the pool knows (as a model or an alias) is that model; a name a
  confirmed mapping gives is registered as an alias of its model; any other name is a
  new model. New names that look like known ones are reported, never merged.
- **samples**: a new sample whose normalised text hashes like exactly one known sample
  (and whose measurements are of a compatible kind) is stored as a copy of it
  (``same_as``): both provenances are kept and both sources' measurements count on it.
- **measurements**: rows the pool already holds from the same source are skipped (a
  multiset difference on sample, model(s) and, for pairwise and ranking rows, the
  outcome), so importing the same files twice changes nothing and a newer file adds only
  its new rows. A cardinal cell measured again with another value keeps the old value
  and is counted as changed.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _core
from .._identity import ModelMapping
from ..exceptions import InvalidInputError
from ..pool import CommitReport, Pool
from ._base import Source
from ._files import file_error
from ._planning import lookalikes, mapped, match_multiset, measurement_keys, model_names

__all__ = ["FILE", "LINE", "SourceReport", "commit_sources"]

log = logging.getLogger("onebench")

#: Hidden columns an importer may add to ``measurements``: the file and line of each row,
#: so that an error the store finds in a row names where that row came from.
FILE = "_file"
LINE = "_line"

_METRIC_OF_KIND = {"binary": "binary", "pairwise": "pairwise", "ranking": "ranking"}


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


@dataclass
class _Planned:
    report: SourceReport
    batch: dict[str, Any]
    kept_rows: np.ndarray
    table: pa.Table


class _Held:
    """The measurements of one source and judge: their keys and scores."""

    def __init__(self, keys: pa.Array, cardinal: np.ndarray, scores: np.ndarray) -> None:
        self.keys, self.cardinal, self.scores = keys, cardinal, scores

    def add(self, keys: pa.Array, cardinal: np.ndarray, scores: np.ndarray) -> None:
        if len(keys):
            self.keys = pa.concat_arrays([self.keys, keys])
            self.cardinal = np.concatenate([self.cardinal, cardinal])
            self.scores = np.concatenate([self.scores, scores])


class _Planner:
    """The pool as the sources planned so far will leave it."""

    def __init__(self, pool: Pool, mapping: ModelMapping | None) -> None:
        self.pool = pool
        self.mapping = mapping
        models = pool.models()
        self.resolve: dict[str, str] = {}
        for model, aliases in zip(
            models.column("model").to_pylist(), models.column("aliases").to_pylist(), strict=True
        ):
            self.resolve[model] = model
            self.resolve.update(dict.fromkeys(aliases or [], model))
        samples = pool.samples()
        ids = samples.column("sample_id").to_pylist()
        self.canonical: dict[str, str] = {sample: sample for sample in ids}
        copies = pool.sample_copies()
        self.canonical.update(
            zip(
                copies.column("sample_id").to_pylist(),
                copies.column("same_as").to_pylist(),
                strict=True,
            )
        )
        self.metric: dict[str, str | None] = dict(
            zip(ids, samples.column("metric").to_pylist(), strict=True)
        )
        self.by_hash: dict[str, list[str]] = {}
        for sample, text, digest in zip(
            ids,
            samples.column("text").to_pylist(),
            samples.column("content_hash").to_pylist(),
            strict=True,
        ):
            if text and text.strip():
                self.by_hash.setdefault(digest, []).append(sample)
        self._held_by: dict[tuple[str, str | None], _Held] = {}
        self._existing: pa.Table | None = None
        self.new_models = 0

    # -- models ---------------------------------------------------------------------------

    def models(self, source: Source) -> tuple[dict[str, str], dict | None, list]:
        """Each incoming name's model, the models to register (new ones, and known ones
        gaining an alias), and look-alikes; ``new_models`` counts the new ones."""
        canonical: dict[str, str] = {}
        register: dict[str, list[str]] = {}
        new: list[str] = []
        for name in sorted(model_names(source.measurements)):
            mapped = self.mapping.canonical(name) if self.mapping is not None else None
            known = self.resolve.get(name)
            if known is not None:
                if mapped is not None and self.resolve.get(mapped, mapped) != known:
                    raise InvalidInputError(
                        f"models: the mapping makes {name!r} an alias of {mapped!r}, but the "
                        f"pool already holds it as model {known!r}",
                        field="models",
                    )
                canonical[name] = known
                continue
            target = self.resolve.get(mapped, mapped) if mapped is not None else name
            canonical[name] = target
            aliases = register.setdefault(target, [])
            if name != target:
                aliases.append(name)
            elif mapped is None:
                new.append(name)
        found = lookalikes(new, self.resolve)
        self.new_models = sum(1 for model in register if model not in self.resolve)
        for model, aliases in register.items():
            self.resolve[model] = model
            self.resolve.update(dict.fromkeys(aliases, model))
        metadata = _model_metadata(source.models, canonical)
        if not register and not metadata:
            return canonical, None, found
        rows = sorted(set(register) | set(metadata))
        columns = {
            "model": rows,
            "aliases": [register.get(model, []) for model in rows],
            "metadata": [json.dumps(metadata[m]) if m in metadata else None for m in rows],
        }
        return canonical, columns, found

    # -- samples --------------------------------------------------------------------------

    def samples(self, source: Source) -> tuple[pa.Table | None, int]:
        """The samples to register (new ones, copies of known ones, bare ones for ids only
        the measurements name) and how many are copies; updates ``canonical``."""
        table = source.measurements
        ids = [value for value in pc.unique(table.column("sample_id")).to_pylist() if value]
        rows: list[dict[str, Any]] = source.samples.to_pylist() if source.samples else []
        given = {row["sample_id"] for row in rows}
        missing = [s for s in ids if s not in given and s not in self.canonical]
        if missing:
            benchmarks = _benchmarks(table)
            rows += [
                {"sample_id": s, "benchmark": benchmarks.get(s) or s.split("/", 1)[0]}
                for s in missing
            ]
        incoming = _incoming_metrics(table, source.higher_is_better)
        merged = self._merge_by_content(rows, incoming)
        texts: dict[str, str] = {}
        for row in rows:
            sample = row["sample_id"]
            if sample in self.canonical:
                continue
            target = row.get("same_as") or sample
            self.canonical[sample] = target
            if target == sample:
                self.metric.setdefault(sample, None)
                if _text(row):
                    texts[sample] = _text(row)
        # New samples with a text can be matched by the sources after this one.
        for sample, digest in zip(
            texts, _core.PoolCore.content_hashes(list(texts.values())), strict=True
        ):
            self.by_hash.setdefault(digest, []).append(sample)
        return (pa.Table.from_pylist(rows) if rows else None), merged

    def _merge_by_content(self, rows: list[dict], incoming: dict[str, set[str]]) -> int:
        """Marks new rows that are the same question as one known sample (``same_as``)."""
        fresh = [row for row in rows if row["sample_id"] not in self.canonical and _text(row)]
        if not fresh:
            return 0
        hashes = _core.PoolCore.content_hashes([_text(row) for row in fresh])
        counts = Counter(hashes)
        merged = 0
        for row, digest in zip(fresh, hashes, strict=True):
            matches = self.by_hash.get(digest, [])
            # Only an unambiguous match: one known sample, one incoming sample.
            if len(matches) != 1 or counts[digest] != 1:
                continue
            existing = self.metric.get(matches[0])
            wanted = incoming.get(row["sample_id"], set())
            if existing is not None and not wanted <= _compatible(existing):
                continue
            row["same_as"] = matches[0]
            merged += 1
        return merged

    # -- measurements ---------------------------------------------------------------------

    def coerce_kinds(self, table: pa.Table, higher_is_better: bool) -> pa.Table:
        """Binary rows on a numeric sample become numeric 0/1 scores, and numeric 0/1
        rows on a binary sample become binary, so that one question measured by two
        harnesses that name its metric differently stays one sample."""
        if "kind" not in table.column_names or "score" not in table.column_names:
            return table
        kinds = _strings(table, "kind")
        scores = pc.cast(table.column("score"), pa.float64()).to_numpy(zero_copy_only=False)
        metric_of = {s: self.metric.get(self.canonical.get(s, s)) or "" for s in _unique(table)}
        targets = mapped(table, "sample_id", metric_of).to_numpy(zero_copy_only=False)
        to_numeric = (kinds == "binary") & (targets == "numeric_higher") & higher_is_better
        to_binary = (kinds == "numeric") & (targets == "binary") & np.isin(scores, (0.0, 1.0))
        if not to_numeric.any() and not to_binary.any():
            return table
        kinds = np.where(to_numeric, "numeric", np.where(to_binary, "binary", kinds))
        index = table.column_names.index("kind")
        return table.set_column(index, "kind", pa.array(kinds.tolist(), pa.string()))

    def claim_metrics(self, table: pa.Table, higher_is_better: bool) -> None:
        for sample, metrics in _incoming_metrics(table, higher_is_better).items():
            target = self.canonical.get(sample, sample)
            if self.metric.get(target) is None:
                self.metric[target] = min(metrics)

    def _held(self, name: str, judge: str | None) -> _Held:
        """The measurements held from source ``name`` under ``judge``: a measurement is
        the same one only if the same source and judge gave it."""
        if (name, judge) not in self._held_by:
            if self._existing is None:
                self._existing = self.pool.measurements()
            existing = self._existing
            if existing.num_rows:
                sources = pc.cast(existing.column("source"), pa.string())
                judges = pc.cast(existing.column("judge"), pa.string())
                same_judge = (
                    pc.is_null(judges)
                    if judge is None
                    else pc.fill_null(pc.equal(judges, judge), False)
                )
                same = pc.and_(pc.fill_null(pc.equal(sources, name), False), same_judge)
                existing = existing.filter(same)
            keys, cardinal, scores = measurement_keys(existing, {}, {})
            self._held_by[(name, judge)] = _Held(keys, cardinal, scores)
        return self._held_by[(name, judge)]

    def new_rows(
        self, name: str, judge: str | None, table: pa.Table, canonical_model: dict[str, str]
    ) -> tuple[np.ndarray, int, int]:
        """Which rows the pool (and the sources planned before) do not hold from source
        ``name`` and ``judge`` yet, counting repeats; how many they hold; how many
        cardinal cells they hold with another value."""
        if table.num_rows == 0:
            return np.ones(0, dtype=bool), 0, 0
        held = self._held(name, judge)
        keys, cardinal, scores = measurement_keys(table, self.canonical, canonical_model)
        match = match_multiset(held.keys, keys)
        keep = match < 0
        repeated = ~keep & cardinal
        # The pool stores scores as 32-bit floats.
        old_scores = held.scores[match[repeated]].astype(np.float32)
        changed = int((scores[repeated].astype(np.float32) != old_scores).sum())
        # What this source adds is held from now on (for a later source of this import).
        held.add(keys.filter(pa.array(keep)), cardinal[keep], scores[keep])
        if changed:
            log.warning(
                "%s: %d cell(s) are already measured with another value; the pool keeps its value",
                name,
                changed,
            )
        return keep, int((~keep).sum()), changed

    def plan(self, source: Source) -> _Planned:
        report = SourceReport(source.format, source.name, list(source.files))
        canonical_model, models, report.lookalikes = self.models(source)
        report.models_added = self.new_models
        samples, report.samples_merged = self.samples(source)
        table = self.coerce_kinds(source.measurements, source.higher_is_better)
        keep, report.measurements_present, report.measurements_changed = self.new_rows(
            source.name, source.judge, table, canonical_model
        )
        kept = table.filter(pa.array(keep)) if not keep.all() else table
        self.claim_metrics(kept, source.higher_is_better)
        kind: str | None = None
        if kept.num_rows == 0:
            kind = "binary"
            kept = pa.table(
                {
                    "sample_id": pa.array([], pa.string()),
                    "model": pa.array([], pa.string()),
                    "score": pa.array([], pa.float64()),
                }
            )
        batch = {
            "data": kept,
            "kind": kind,
            "higher_is_better": source.higher_is_better,
            "source": source.name,
            "grader": source.grader,
            "judge": source.judge,
            "time": source.time,
            "extra": source.extra,
            "samples": samples,
            "models": models,
        }
        return _Planned(report, batch, np.flatnonzero(keep), kept)


def commit_sources(
    pool: Pool, sources: list[Source], mapping: ModelMapping | None = None
) -> list[SourceReport]:
    """Plans every source, then commits them all at once (or none)."""
    planner = _Planner(pool, mapping)
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
        return error
    row, field, message = error.row, error.field or "", str(error)
    match = _STORE_FIELD.match(field)
    if match is not None:
        kinds = _strings(table, "kind")
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


def _strings(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, None, dtype=object)
    return np.asarray(pc.cast(table.column(name), pa.string()).to_pylist(), dtype=object)


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


def _unique(table: pa.Table) -> list[str]:
    return [value for value in pc.unique(table.column("sample_id")).to_pylist() if value]


def _text(row: dict[str, Any]) -> str:
    text = row.get("text")
    return text if isinstance(text, str) and text.strip() else ""


def _compatible(metric: str) -> set[str]:
    """Incoming metrics that can be stored on a sample whose metric is ``metric``: its
    own, and binary rows on a numeric sample (as 0/1 scores)."""
    if metric == "numeric_higher":
        return {"numeric_higher", "binary"}
    return {metric}
