"""The sample pool: samples, models and sparse measurements in one directory."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import _core
from ._atomic import write_atomic
from ._columns import as_table
from ._export import measurement_table
from ._inputs import measurement_arguments, model_columns, same_as, sample_columns
from ._measurements import KINDS, caller_error
from .exceptions import InvalidInputError, UnknownIdError

if TYPE_CHECKING:
    from .query import Benchmark, EmbedReport, IndexReport
    from .ranking import Leaderboard

__all__ = ["CommitReport", "Pool", "PoolStats"]


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


class Pool:
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
        self._warm: dict[tuple[Any, ...], tuple[np.ndarray, _core.Solution | None]] = {}
        self._results: dict[tuple[Any, ...], Any] = {}

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
        table = as_table(data, "samples")
        return CommitReport(**self._inner.add_samples(*sample_columns(table), same_as(table)))

    def add_models(self, data: Any) -> CommitReport:
        """Adds models: a list of ids, or a table with ``model`` and optionally ``aliases``
        (list of strings); other columns become metadata. Existing models gain the new
        aliases and metadata."""
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

    # -- reading ---------------------------------------------------------------------------

    def samples(self) -> pa.Table:
        """The sample table: ``sample_id``, ``benchmark``, ``modality``, ``text``,
        ``references``, ``metadata`` (JSON), ``content_hash``, ``metric``."""
        ids, benchmarks, modalities, texts, references, metadata, hashes, metrics = (
            self._inner.sample_columns()
        )
        return pa.table(
            {
                "sample_id": pa.array(ids, pa.string()),
                "benchmark": pa.array(benchmarks, pa.string()),
                "modality": pa.array(modalities, pa.string()),
                "text": pa.array(texts, pa.string()),
                "references": pa.array(references, pa.list_(pa.string())),
                "metadata": pa.array([value or None for value in metadata], pa.string()),
                "content_hash": pa.array(hashes, pa.string()),
                "metric": pa.array(metrics, pa.string()),
            }
        )

    def sample_copies(self) -> pa.Table:
        """Other sources' copies of samples (found by content hash on import):
        ``sample_id`` (the copy's own id, which resolves to the sample), ``same_as``
        (the sample), ``benchmark``, ``text``, ``references``, ``metadata`` (JSON)."""
        ids, same_as, benchmarks, texts, references, metadata = self._inner.sample_copies()
        return pa.table(
            {
                "sample_id": pa.array(ids, pa.string()),
                "same_as": pa.array(same_as, pa.string()),
                "benchmark": pa.array(benchmarks, pa.string()),
                "text": pa.array(texts, pa.string()),
                "references": pa.array(references, pa.list_(pa.string())),
                "metadata": pa.array([value or None for value in metadata], pa.string()),
            }
        )

    def sample_ids(self) -> list[str]:
        return self._inner.sample_ids()

    def models(self) -> pa.Table:
        """The model table: ``model``, ``aliases``, ``metadata`` (JSON)."""
        ids, aliases, metadata = self._inner.model_columns()
        return pa.table(
            {
                "model": pa.array(ids, pa.string()),
                "aliases": pa.array(aliases, pa.list_(pa.string())),
                "metadata": pa.array([value or None for value in metadata], pa.string()),
            }
        )

    def model_ids(self) -> list[str]:
        return self._inner.model_columns()[0]

    def measurements(
        self, samples: Any = None, *, models: Any = None, kinds: Any = None
    ) -> pa.Table:
        """Measurements in the long format, with provenance columns.

        ``samples`` (ids or a Benchmark), ``models`` (ids or aliases) and ``kinds`` (any of
        'binary', 'numeric', 'pairwise', 'ranking') select a part; a pairwise row or a
        ranking belongs to every model it names.
        """
        return measurement_table(self._inner, *self._selection(samples, models, kinds))

    def export(
        self,
        directory: str | os.PathLike[str],
        samples: Any = None,
        *,
        models: Any = None,
        kinds: Any = None,
    ) -> dict[str, Path]:
        """Writes ``samples.parquet``, ``models.parquet`` and ``measurements.parquet`` to
        ``directory`` (readable by DuckDB, Polars, Spark); returns their paths. The filters
        are those of :meth:`measurements`; the sample and model tables keep the selected
        rows. Each file appears whole or not at all (written aside, then renamed)."""
        import pyarrow.parquet as pq

        sample_mask, model_mask, kind_set = self._selection(samples, models, kinds)
        sample_table, model_table = self.samples(), self.models()
        if sample_mask is not None:
            sample_table = sample_table.filter(pa.array(sample_mask))
        if model_mask is not None:
            model_table = model_table.filter(pa.array(model_mask))
        tables = {
            "samples": sample_table,
            "models": model_table,
            "measurements": measurement_table(self._inner, sample_mask, model_mask, kind_set),
        }
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, table in tables.items():
            path = target / f"{name}.parquet"
            write_atomic(path, lambda temporary, table=table: pq.write_table(table, temporary))
            paths[name] = path
        return paths

    def _selection(
        self, samples: Any, models: Any, kinds: Any
    ) -> tuple[np.ndarray | None, np.ndarray | None, frozenset[str] | None]:
        sample_mask = None
        if samples is not None:
            sample_mask = np.zeros(self.stats().samples, dtype=bool)
            sample_mask[self.sample_indexes(samples)] = True
        model_mask = None
        if models is not None:
            names = [models] if isinstance(models, str) else list(models)
            model_mask = np.zeros(self.stats().models, dtype=bool)
            for name in names:
                index = self._inner.model_index(name)
                if index is None:
                    raise UnknownIdError(f"models: unknown model {name!r}", field="models", id=name)
                model_mask[index] = True
        kind_set = None
        if kinds is not None:
            kind_set = frozenset([kinds] if isinstance(kinds, str) else kinds)
            unknown = sorted(kind_set - set(KINDS))
            if unknown:
                raise InvalidInputError(
                    f"kinds: unknown kind {unknown[0]!r}; expected one of {', '.join(KINDS)}",
                    field="kinds",
                )
        return sample_mask, model_mask, kind_set

    # -- ranking ---------------------------------------------------------------------------

    def sample_indexes(self, samples: Any) -> np.ndarray:
        """Dense indexes of sample ids (an error names the first unknown one)."""
        from .ranking import resolve_samples

        return resolve_samples(self, samples)

    def rank(
        self,
        samples: Any = None,
        *,
        method: str | None = None,
        ci: float = 0.95,
        bootstrap: int = 0,
        alpha: float | None = None,
        seed: int = 0,
        interval: str | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 10_000,
        min_samples: int = 1,
    ) -> Leaderboard:
        """Ranks the models on ``samples`` (ids, a Benchmark, or None for the whole pool).

        ``method`` is one of ``onebench.ranking.METHODS``; None means the default,
        ``"joint"``: one skill per model fitted to every measurement (binary: Rasch;
        numeric: a per-sample offset; pairwise: Bradley-Terry with Davidson ties;
        rankings: Plackett-Luce), with per-sample difficulties shrunk towards their
        benchmark's stratum, moved by how skilled the models measured on the sample are
        (samples handed out by difficulty). ``"plackett-luce"`` is ONEBench's method
        (winners beat losers within each sample); ``"mean"``, ``"bradley-terry"``,
        ``"elo"`` and ``"borda"`` are the usual baselines.

        ``bootstrap`` > 0 computes percentile intervals from that many bootstrap
        replicates over samples; otherwise intervals come from the observed Fisher
        information (methods with a likelihood) or are omitted. ``alpha`` is the prior
        strength that keeps all-win and all-lose models finite (default: 1, and 0.1 for
        ``method="joint"``, see ``onebench.ranking.default_alpha``).

        ``min_samples`` leaves out of the table the models measured on fewer of these
        samples (listed in ``Leaderboard.hidden``): they are still fitted, so their
        measurements inform everyone else's scores, but ranks and rank intervals are
        among the models shown. Useful where a selection mixes samples many models were
        measured on with a few that other models were: a model right on its two samples
        can top the table with an interval as wide as the scale.
        """
        from .ranking import rank_pool

        return rank_pool(
            self,
            samples,
            method=method,
            ci=ci,
            bootstrap=bootstrap,
            alpha=alpha,
            seed=seed,
            interval=interval,
            tolerance=tolerance,
            max_iterations=max_iterations,
            min_samples=min_samples,
        )

    def item_diagnostics(
        self,
        samples: Any = None,
        *,
        alpha: float | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 10_000,
    ) -> pa.Table:
        """Per-sample difficulty and discrimination under the joint model.

        One row per sample (of ``samples``, or of the pool), with ``sample_id``,
        ``benchmark``, ``metric``, ``n_models`` (models with a binary or numeric
        measurement), ``difficulty`` (logits, on the skills' scale), ``discrimination``
        (the 2PL slope given the skills: 1 is typical, below 0 means strong models fail
        where weak ones pass) with its standard error ``discrimination_se``, and
        ``flagged``: discrimination below 0 at the one-sided 95% level, the usual sign of
        a wrong reference answer. Samples without binary or numeric measurements of
        ranked models have NaN values. ``alpha`` is the joint model's skill prior strength
        (default: ``onebench.ranking.default_alpha("joint")``, as ``Pool.rank`` uses).
        """
        from ._diagnostics import item_diagnostics

        return item_diagnostics(
            self, samples, alpha=alpha, tolerance=tolerance, max_iterations=max_iterations
        )

    # -- querying (onebench.query; torch loads only for semantic search) --------------------

    def embed(
        self,
        encoder: Any = None,
        *,
        fields: Sequence[str] | str = ("text",),
        batch_size: int = 64,
        device: str | None = None,
        progress: bool = True,
        samples: Any = None,
    ) -> list[EmbedReport]:
        """Embeds the samples that have no embedding yet (``fields``: ``text``,
        ``references``, ``image``) with ``encoder`` (default all-MiniLM-L6-v2; any
        sentence-transformers name or path, or ``clip:<checkpoint>``), on the GPU when
        present, and stores them in the pool as float16. ``samples`` (ids or a
        Benchmark) limits the work to those samples."""
        from .query import embed_pool

        return embed_pool(
            self,
            encoder,
            fields=fields,
            batch_size=batch_size,
            device=device,
            progress=progress,
            samples=samples,
        )

    def build_index(
        self, encoder: str | None = None, *, fields: Sequence[str] | str = ("text",)
    ) -> list[IndexReport]:
        """Builds the approximate (usearch HNSW) index over the stored embeddings."""
        from .query import EmbeddingSet, build_ann
        from .query._encoders import normalise_encoder_name

        name = normalise_encoder_name(encoder)
        names = [fields] if isinstance(fields, str) else list(fields)
        return [build_ann(EmbeddingSet(self.path, name, field)) for field in names]

    def query(self, text: str | None = None, **options: Any) -> Benchmark:
        """The samples that test what ``text`` describes, as a :class:`Benchmark`.

        Options: ``image`` (query by an example image instead), ``top_k`` (default 100
        when no ``threshold``), ``threshold`` (a cosine similarity, or ``"default"``),
        ``where`` (metadata filters, e.g. ``{"category": "law"}`` or ``["year>=2020"]``),
        ``on`` (``text``, ``references``, ``image``; default: every embedded field),
        ``method`` (``semantic`` or ``lexical``), ``encoder``, ``index`` (``auto``,
        ``exact``, ``ann``), ``device``.
        """
        from .query import query_pool

        return query_pool(self, text, **options)

    def save_benchmark(
        self, benchmark: Benchmark, name: str | None = None, *, overwrite: bool = False
    ) -> Benchmark:
        """Saves ``benchmark`` in the pool (``benchmarks/<name>.json``)."""
        from .query import save_benchmark

        return save_benchmark(self, benchmark, name, overwrite=overwrite)

    def benchmark(self, name: str) -> Benchmark:
        """The saved benchmark called ``name``."""
        from .query import load_benchmark

        return load_benchmark(self, name)

    def benchmarks(self) -> list[str]:
        """Names of the saved benchmarks."""
        from .query import list_benchmarks

        return list_benchmarks(self)

    def delete_benchmark(self, name: str) -> None:
        from .query import delete_benchmark

        delete_benchmark(self, name)
