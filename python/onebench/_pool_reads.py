"""Pool's tables and their Parquet export, as a mixin of :class:`onebench.Pool`."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._atomic import write_atomic
from .exceptions import InvalidInputError, UnknownIdError

# pyarrow (and ._export, ._measurements, which load it) is imported by the methods that
# build tables: a command that only ranks or reads ids does not pay for it.
if TYPE_CHECKING:
    import pyarrow as pa

    from . import _core
    from .pool import Pool, PoolStats

__all__ = ["PoolReads"]


class PoolReads:
    # Only Pool mixes this in; what it needs from Pool is declared for the type checker alone.
    if TYPE_CHECKING:
        _inner: _core.PoolCore

        def stats(self) -> PoolStats: ...

    def samples(self) -> pa.Table:
        """The sample table: ``sample_id``, ``benchmark``, ``modality``, ``text``,
        ``references``, ``metadata`` (JSON), ``content_hash``, ``metric``."""
        import pyarrow as pa

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
        import pyarrow as pa

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
        import pyarrow as pa

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
        from ._export import measurement_table

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
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ._export import measurement_table

        output_folder(directory, "directory", create=False)
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
        target = output_folder(directory, "directory")
        paths = {}
        for name, table in tables.items():
            path = target / f"{name}.parquet"
            write_atomic(path, partial(pq.write_table, table))
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
            from ._measurements import KINDS

            kind_set = frozenset([kinds] if isinstance(kinds, str) else kinds)
            unknown = sorted(kind_set - set(KINDS))
            if unknown:
                raise InvalidInputError(
                    f"kinds: unknown kind {unknown[0]!r}; expected one of {', '.join(KINDS)}",
                    field="kinds",
                )
        return sample_mask, model_mask, kind_set

    def sample_indexes(self, samples: Any) -> np.ndarray:
        """Dense indexes of sample ids (an error names the first unknown one)."""
        from .ranking import resolve_samples

        return resolve_samples(cast("Pool", self), samples)


def output_folder(directory: str | os.PathLike[str], field: str, *, create: bool = True) -> Path:
    """``directory`` as a folder to write into, created if ``create``; a path that holds a
    file, or that the system refuses to create, is an error naming ``field`` (and nothing
    is written over the file)."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InvalidInputError(
            f"{field}: {target} exists and is not a folder; give a folder to write into",
            field=field,
        )
    if create:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InvalidInputError(
                f"{field}: cannot create the folder {target} ({error.strerror or error})",
                field=field,
            ) from error
    return target
