"""The sample pool: samples, models and sparse measurements in one directory."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import _core
from ._pool_queries import PoolQueries
from ._pool_ranking import PoolRanking
from ._pool_reads import PoolReads
from .exceptions import InvalidInputError

__all__ = ["CommitReport", "Pool", "PoolStats"]

# The writers' input handling (._columns, ._inputs, ._measurements) loads pyarrow and its
# compute module, which a read-only command (`onebench rank`) does not need: each `add_*`
# method imports it when called.


@dataclass(frozen=True)
class CommitReport:
    """What one committed batch did: the pool version after it, rows added and skipped."""

    version: int
    added: int
    skipped: int
    #: Samples and models registered in the same commit (``add_measurements`` only).
    samples_added: int = 0
    models_added: int = 0


@dataclass(frozen=True)
class PoolStats:
    """Counts of a pool at one version."""

    path: str
    version: int
    samples: int
    models: int
    cardinal: int
    pairwise: int
    rankings: int
    segments: int
    bytes_on_disk: int

    @property
    def measurements(self) -> int:
        return self.cardinal + self.pairwise + self.rankings


# Reads, ranking and queries are mixins from _pool_*.py only to keep each module small;
# Pool is the one class users see, and its methods' docstrings are written for it.
class Pool(PoolReads, PoolRanking, PoolQueries):
    """A pool of samples from many test sets, with sparse mixed measurements of models.

    A pool is a directory: append-only checksummed segments named by an atomically
    replaced manifest. Every ``add_*`` call commits one batch, whole or not at all.
    Open pools see the version they loaded; :meth:`refresh` picks up other writers.

    Examples
    --------
    >>> pool = Pool.create("my-pool")                                  # doctest: +SKIP
    >>> pool.add_samples([{"sample_id": "q1", "benchmark": "toy", "text": "2+2?"}])
    >>> pool.add_models(["model-a", "model-b"])
    >>> pool.add_measurements({"sample_id": ["q1", "q1"], "model": ["model-a", "model-b"],
    ...                        "score": [1, 0]}, kind="binary", source="my-harness")
    >>> print(pool.rank())
    """

    def __init__(self, inner: _core.PoolCore) -> None:
        self._inner = inner
        # Per (method, alpha, subset): the last solution (warm start) and the last result.
        # A solution read from the fit store stays bytes until a fit needs it.
        self._warm: dict[tuple[Any, ...], tuple[np.ndarray, _core.Solution | bytes | None]] = {}
        self._results: dict[tuple[Any, ...], Any] = {}
        #: Whether :meth:`rank` keeps its answers in the pool's ``fits/`` folder for the
        #: next process that asks the same (onebench._fit_store); kept fits are read
        #: either way. A read-only ``onebench serve`` sets it to False.
        self.keep_fits = True

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Pool:
        """Creates an empty pool at ``path`` (a new or empty directory)."""
        return cls(_core.PoolCore.create(Path(path)))

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Pool:
        """Opens the pool at ``path``, verifying every file's checksum."""
        return cls(_core.PoolCore.open(Path(path)))

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str]) -> Pool:
        """Opens the pool at ``path``, creating it first when there is none."""
        if (Path(path) / "MANIFEST").exists():
            return cls.open(path)
        return cls.create(path)

    @property
    def path(self) -> Path:
        return Path(self._inner.path)

    @property
    def version(self) -> int:
        """The manifest version this handle sees; every commit increments it."""
        return self._inner.version

    def refresh(self) -> bool:
        """Loads what other writers committed; returns whether anything changed."""
        return self._inner.refresh()

    def stats(self) -> PoolStats:
        counts = self._inner.stats()
        return PoolStats(path=str(self.path), **counts)

    def __repr__(self) -> str:
        stats = self.stats()
        return (
            f"Pool({str(self.path)!r}, version={stats.version}, samples={stats.samples}, "
            f"models={stats.models}, measurements={stats.measurements})"
        )

    # -- writing ---------------------------------------------------------------------------

    def add_samples(self, data: Any) -> CommitReport:
        """Adds samples from a table with ``sample_id`` and optionally ``benchmark``,
        ``text``, ``reference`` (a string or a list of strings) and ``modality``; every
        other column becomes metadata. Identical re-adds are skipped.

        A ``same_as`` column marks a row as another source's copy of a pool sample (the
        same question): it is kept as that sample's second provenance, and its id then
        names that sample (see :meth:`sample_copies`)."""
        from ._columns import as_table
        from ._inputs import same_as, sample_columns

        table = as_table(data, "samples")
        return CommitReport(**self._inner.add_samples(*sample_columns(table), same_as(table)))

    def add_models(self, data: Any) -> CommitReport:
        """Adds models: a list of ids, or a table with ``model`` and optionally ``aliases``
        (list of strings); other columns become metadata. Existing models gain the new
        aliases and metadata."""
        from ._inputs import model_columns

        return CommitReport(**self._inner.add_models(*model_columns(data)))

    def add_measurements(
        self,
        data: Any,
        *,
        kind: str | None = None,
        higher_is_better: bool = True,
        source: str = "python",
        grader: str | None = None,
        judge: str | None = None,
        time: datetime | str | None = None,
        extra: dict[str, Any] | None = None,
        samples: Any = None,
        models: Any = None,
    ) -> CommitReport:
        """Adds a batch of measurements, committed atomically with its provenance.

        ``data`` is in the long format (see the README): ``sample_id``, ``kind`` (or the
        ``kind`` argument) and, per kind, ``model`` + ``score`` (``binary``: 0/1;
        ``numeric``: a float, ordered by ``higher_is_better``), ``model_a`` + ``model_b``
        + ``winner`` ('a' | 'b' | 'tie') + optional ``probability`` = P(b preferred)
        (``pairwise``), or ``ranking``: model ids best first, inner lists for ties
        (``ranking``). Unknown ids, NaN/inf scores, ``model_a == model_b`` and a kind that
        contradicts the sample's metric raise an error naming the row; nothing is written.

        ``samples`` and ``models`` (as for :meth:`add_samples` / :meth:`add_models`) are
        registered in the same commit: if any row is bad, none of them is added either.
        """
        from ._inputs import measurement_arguments
        from ._measurements import caller_error

        arguments, parts = measurement_arguments(
            data, kind, higher_is_better, source, grader, judge, time, extra, samples, models
        )
        try:
            return CommitReport(**self._inner.add_measurements(*arguments))
        except InvalidInputError as error:
            # The core numbers rows within each kind's part; the caller knows its table.
            raise caller_error(error, parts) from None

    def add_measurement_batches(self, batches: Sequence[Mapping[str, Any]]) -> list[CommitReport]:
        """Commits several batches, each with its own provenance, in one atomic commit.

        Each batch is a mapping of the arguments of :meth:`add_measurements` (``data``,
        ``kind``, ``source``, ..., ``samples``, ``models``). A batch sees the samples and
        models of the batches before it. If any row of any batch is bad, nothing of any
        batch is written; the error carries ``batch``, the bad batch's position.
        """
        from ._inputs import measurement_arguments

        arguments = []
        for index, batch in enumerate(batches):
            options = dict(batch)
            try:
                arguments.append(
                    measurement_arguments(
                        options.pop("data"),
                        options.pop("kind", None),
                        options.pop("higher_is_better", True),
                        options.pop("source", "python"),
                        options.pop("grader", None),
                        options.pop("judge", None),
                        options.pop("time", None),
                        options.pop("extra", None),
                        options.pop("samples", None),
                        options.pop("models", None),
                    )[0]
                )
            except InvalidInputError as error:
                error.batch = index  # type: ignore[attr-defined]
                raise
            if options:
                raise InvalidInputError(
                    f"batches[{index}]: unknown argument(s) {', '.join(sorted(options))}",
                    field=f"batches[{index}]",
                )
        return [CommitReport(**report) for report in self._inner.commit_many(arguments)]

    def compact(self) -> int:
        """Merges small segments; returns how many segments were removed."""
        return self._inner.compact()
