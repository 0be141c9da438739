"""The pool behind the server, and a per-version snapshot of what quick tools read.

The Rust pool answers one call at a time (one mutex per handle), and a bootstrap ranking
holds it for as long as it runs. Quick tools (list_models, pool_stats, list_benchmarks,
argument checks) therefore read a snapshot taken once per pool version instead of the
pool, so they keep answering while long work runs in a worker thread. Other writers are
noticed by the manifest file changing (a stat, no lock), which triggers a refresh.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import numpy as np
import pyarrow as pa

from .._stats import pool_summary
from ..exceptions import InvalidInputError, UnknownIdError
from ..pool import Pool

__all__ = ["PoolState", "Snapshot"]

_T = TypeVar("_T")

#: Benchmarks a read-only server keeps in memory for its clients (create_benchmark).
MAX_SESSION_BENCHMARKS = 100

#: Concurrent long jobs (rankings, profiles, embedding, evaluation). Each one is already
#: parallel inside Rust or torch; more of them at once would only share the same cores.
LONG_WORK_THREADS = 2


@dataclass
class Snapshot:
    """What the pool holds at one version, in the shapes the tools need."""

    version: int
    sample_ids: list[str]
    copies: dict[str, str]  # another source's id of a sample -> the sample's id
    benchmarks: np.ndarray  # benchmark name per sample (object array)
    categories: list[str | None]  # metadata 'category' per sample
    metrics: list[str | None]  # 'binary', 'numeric_higher', 'numeric_lower' or None
    model_ids: list[str]
    aliases: dict[str, list[str]]
    lookup: dict[str, str]  # model id or alias -> model id
    summary: dict[str, Any]
    model_counts: dict[str, tuple[int, int, list[str]]]  # measurements, samples, benchmarks
    sample_measurements: np.ndarray  # measurements per sample
    table: pa.Table  # pool.samples() at this version
    cache: dict[Any, Any] = field(default_factory=dict)

    def index(self) -> dict[str, int]:
        """Sample id -> position (built on first use)."""
        index = self.cache.get("sample_index")
        if index is None:
            index = {sample_id: position for position, sample_id in enumerate(self.sample_ids)}
            self.cache["sample_index"] = index
        return index

    def text(self, position: int) -> str:
        return self.table.column("text")[position].as_py() or ""

    def measurements_on(self, sample_ids: list[str] | None) -> int:
        """Measurements on these samples (None: the whole pool); unknown ids count 0."""
        if sample_ids is None:
            return int(self.sample_measurements.sum())
        index = self.index()
        positions = [index[sample_id] for sample_id in sample_ids if sample_id in index]
        return int(self.sample_measurements[positions].sum())

    def samples_of_benchmark(self, name: str) -> list[str]:
        return [self.sample_ids[index] for index in np.flatnonzero(self.benchmarks == name)]

    def resolve_model(self, name: str, field_name: str = "model") -> str:
        """The model id of an id or alias; an unknown name suggests close ones."""
        model = self.lookup.get(name)
        if model is not None:
            return model
        close = difflib.get_close_matches(name, list(self.lookup), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(item) for item in close)}?" if close else ""
        raise UnknownIdError(
            f"{field_name}: unknown model {name!r}{hint} (list_models shows every model)",
            field=field_name,
            id=name,
        )


class PoolState:
    """One open pool shared by every session of a server."""

    def __init__(self, pool: Pool, *, allow_writes: bool) -> None:
        self.pool = pool
        self.path = Path(pool.path)
        self.allow_writes = allow_writes
        # A read-only server leaves the pool's files as they are: it answers from the fits
        # kept there, and keeps none of its own.
        pool.keep_fits = allow_writes
        self._lock = threading.Lock()
        #: Held by every write of this server (see _writes.py).
        self.write_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._snapshot_key: tuple[int, int, int] | None = None
        self._long_work = anyio.CapacityLimiter(LONG_WORK_THREADS)
        #: What create_benchmark made on a read-only server: it lives as long as the
        #: server and never reaches the pool's files.
        self.session_benchmarks: dict[str, Any] = {}

    def keep_benchmark(self, benchmark: Any, *, overwrite: bool) -> Any:
        """Keeps a benchmark for this server's session (a read-only server's
        create_benchmark); the pool's saved benchmarks cannot be replaced this way."""
        name = benchmark.name
        if name in self.pool.benchmarks():
            raise InvalidInputError(
                f"name: {name!r} is a benchmark saved in the pool; this server is read-only, "
                "so it cannot be replaced (choose another name, or start the server with "
                "--allow-writes)",
                field="name",
            )
        if name in self.session_benchmarks and not overwrite:
            raise InvalidInputError(
                f"benchmark {name!r} already exists in this session; pass overwrite=true to "
                "replace it",
                field="name",
            )
        if name not in self.session_benchmarks and (
            len(self.session_benchmarks) >= MAX_SESSION_BENCHMARKS
        ):
            raise InvalidInputError(
                f"name: this session already holds {MAX_SESSION_BENCHMARKS} benchmarks; "
                "replace one (overwrite=true)",
                field="name",
            )
        self.session_benchmarks[name] = benchmark
        return benchmark

    def _manifest_key(self) -> tuple[int, int, int]:
        try:
            status = os.stat(self.path / "MANIFEST")
        except OSError:
            return (0, 0, 0)
        return (status.st_ino, status.st_mtime_ns, status.st_size)

    async def snapshot(self) -> Snapshot:
        """The snapshot of the current pool version (rebuilt in a worker thread when the
        manifest changed since the last one)."""
        snapshot = self._snapshot
        if snapshot is not None and self._snapshot_key == self._manifest_key():
            return snapshot
        return await anyio.to_thread.run_sync(self._rebuild)

    def _rebuild(self) -> Snapshot:
        with self._lock:
            key = self._manifest_key()
            if self._snapshot is not None and self._snapshot_key == key:
                return self._snapshot
            self.pool.refresh()
            snapshot = _build_snapshot(self.pool)
            self._snapshot, self._snapshot_key = snapshot, key
            return snapshot

    async def run_long(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Runs blocking work off the event loop, at most LONG_WORK_THREADS at a time."""
        return await anyio.to_thread.run_sync(
            partial(function, *args, **kwargs), limiter=self._long_work
        )

    async def run_quick(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Runs short blocking work off the event loop (anyio's default thread pool)."""
        return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))


def _build_snapshot(pool: Pool) -> Snapshot:
    samples = pool.samples()
    sample_ids = samples.column("sample_id").to_pylist()
    benchmarks = np.array(samples.column("benchmark").to_pylist(), dtype=object)
    categories: list[str | None] = []
    for raw in samples.column("metadata").to_pylist():
        category = json.loads(raw).get("category") if raw else None
        categories.append(str(category) if category is not None else None)
    models = pool.models()
    model_ids = models.column("model").to_pylist()
    aliases = dict(zip(model_ids, models.column("aliases").to_pylist(), strict=True))
    lookup: dict[str, str] = {}
    for model, names in aliases.items():
        for name in names or []:
            lookup.setdefault(name, model)
    lookup.update({model: model for model in model_ids})
    model_counts, sample_measurements = _counts(pool, benchmarks, len(model_ids))
    return Snapshot(
        version=pool.version,
        sample_ids=sample_ids,
        copies=_copies(pool),
        benchmarks=benchmarks,
        categories=categories,
        metrics=samples.column("metric").to_pylist(),
        model_ids=model_ids,
        aliases={model: list(names or []) for model, names in aliases.items()},
        lookup=lookup,
        summary=pool_summary(pool),
        model_counts=model_counts,
        sample_measurements=sample_measurements,
        table=samples,
    )


def _copies(pool: Pool) -> dict[str, str]:
    table = pool.sample_copies()
    return dict(
        zip(table.column("sample_id").to_pylist(), table.column("same_as").to_pylist(), strict=True)
    )


def _counts(
    pool: Pool, benchmarks: np.ndarray, n_models: int
) -> tuple[dict[str, tuple[int, int, list[str]]], np.ndarray]:
    """Per model: measurements naming it (a pairwise row or a ranking counts once for each
    model it names), distinct samples, benchmarks (sorted); and measurements per sample."""
    core = pool._inner
    cardinal_samples, cardinal_models, _, _ = core.cardinal_rows()
    pair_samples, model_a, model_b, _, _, _ = core.pairwise_rows()
    rank_samples, offsets, rank_models, _, _ = core.ranking_rows()
    n_samples = len(benchmarks)
    per_sample = np.zeros(n_samples, dtype=np.int64)
    for rows in (cardinal_samples, pair_samples, rank_samples):
        if len(rows):
            per_sample += np.bincount(rows, minlength=n_samples)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    rank_rows = np.repeat(rank_samples.astype(np.int64), lengths)
    sample_of = np.concatenate([cardinal_samples, pair_samples, pair_samples, rank_rows])
    sample_of = sample_of.astype(np.int64)
    model_of = np.concatenate([cardinal_models, model_a, model_b, rank_models]).astype(np.int64)
    measurements = np.bincount(model_of, minlength=n_models)
    width = max(n_samples, 1)
    cells = np.unique(model_of * width + sample_of)
    cell_models, cell_samples = cells // width, cells % width
    distinct = np.bincount(cell_models, minlength=n_models)
    names, codes = np.unique(benchmarks.astype(str), return_inverse=True)
    stride = max(len(names), 1)
    per_model: dict[int, list[str]] = {}
    for pair in np.unique(cell_models * stride + codes[cell_samples]):
        per_model.setdefault(int(pair) // stride, []).append(str(names[int(pair) % stride]))
    model_ids = pool.model_ids()
    counts = {
        model_ids[index]: (int(measurements[index]), int(distinct[index]), per_model.get(index, []))
        for index in range(n_models)
    }
    return counts, per_sample
