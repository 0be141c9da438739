"""The import planner: the pool as the sources planned so far will leave it, so that each
source is planned as if the ones before it in the same import were committed already.

- **models**: a name the pool knows (as a model or an alias) is that model; a name a
  confirmed mapping gives is registered as an alias of its model; any other name is a
  new model. New names that look like known ones are reported, never merged.
- **samples**: a new sample whose normalised text hashes like exactly one known sample
  (and whose measurements are of a compatible kind) is stored as a copy of it
  (``same_as``): both provenances are kept and both sources' measurements count on it.
- **measurements**: rows the pool already holds from the same source and judge are
  skipped, so importing the same files twice changes nothing (see ``_held``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _core
from .._identity import ModelMapping
from ..exceptions import InvalidInputError
from ..pool import Pool
from ._base import Source
from ._held import HeldMeasurements
from ._planning import (
    compatible_metrics,
    incoming_metrics,
    lookalikes,
    mapped,
    model_metadata,
    model_names,
    sample_benchmarks,
    sample_ids,
    sample_text,
    strings,
)

__all__ = ["Planner", "SourceReport"]


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


class Planner:
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
        self.held = HeldMeasurements(pool)
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
        metadata = model_metadata(source.models, canonical)
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
        ids = sample_ids(table)
        rows: list[dict[str, Any]] = source.samples.to_pylist() if source.samples else []
        given = {row["sample_id"] for row in rows}
        missing = [s for s in ids if s not in given and s not in self.canonical]
        if missing:
            benchmarks = sample_benchmarks(table)
            rows += [
                {"sample_id": s, "benchmark": benchmarks.get(s) or s.split("/", 1)[0]}
                for s in missing
            ]
        incoming = incoming_metrics(table, source.higher_is_better)
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
                if sample_text(row):
                    texts[sample] = sample_text(row)
        # New samples with a text can be matched by the sources after this one.
        for sample, digest in zip(
            texts, _core.PoolCore.content_hashes(list(texts.values())), strict=True
        ):
            self.by_hash.setdefault(digest, []).append(sample)
        return (pa.Table.from_pylist(rows) if rows else None), merged

    def _merge_by_content(self, rows: list[dict], incoming: dict[str, set[str]]) -> int:
        """Marks new rows that are the same question as one known sample (``same_as``)."""
        fresh = [row for row in rows if row["sample_id"] not in self.canonical and sample_text(row)]
        if not fresh:
            return 0
        hashes = _core.PoolCore.content_hashes([sample_text(row) for row in fresh])
        counts = Counter(hashes)
        merged = 0
        for row, digest in zip(fresh, hashes, strict=True):
            matches = self.by_hash.get(digest, [])
            # Only an unambiguous match: one known sample, one incoming sample.
            if len(matches) != 1 or counts[digest] != 1:
                continue
            existing = self.metric.get(matches[0])
            wanted = incoming.get(row["sample_id"], set())
            if existing is not None and not wanted <= compatible_metrics(existing):
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
        kinds = strings(table, "kind")
        scores = pc.cast(table.column("score"), pa.float64()).to_numpy(zero_copy_only=False)
        metric_of = {s: self.metric.get(self.canonical.get(s, s)) or "" for s in sample_ids(table)}
        targets = mapped(table, "sample_id", metric_of).to_numpy(zero_copy_only=False)
        to_numeric = (kinds == "binary") & (targets == "numeric_higher") & higher_is_better
        to_binary = (kinds == "numeric") & (targets == "binary") & np.isin(scores, (0.0, 1.0))
        if not to_numeric.any() and not to_binary.any():
            return table
        kinds = np.where(to_numeric, "numeric", np.where(to_binary, "binary", kinds))
        index = table.column_names.index("kind")
        return table.set_column(index, "kind", pa.array(kinds.tolist(), pa.string()))

    def claim_metrics(self, table: pa.Table, higher_is_better: bool) -> None:
        for sample, metrics in incoming_metrics(table, higher_is_better).items():
            target = self.canonical.get(sample, sample)
            if self.metric.get(target) is None:
                self.metric[target] = min(metrics)

    def plan(self, source: Source) -> _Planned:
        report = SourceReport(source.format, source.name, list(source.files))
        canonical_model, models, report.lookalikes = self.models(source)
        report.models_added = self.new_models
        samples, report.samples_merged = self.samples(source)
        table = self.coerce_kinds(source.measurements, source.higher_is_better)
        keep, report.measurements_present, report.measurements_changed = self.held.new_rows(
            source.name, source.judge, table, self.canonical, canonical_model
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
