"""The long format of ``../shared/data``: ``samples.*`` and ``measurements.*`` files
(Parquet, CSV or JSONL), or a folder holding them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import InvalidInputError
from ..pool import Pool

__all__ = ["ImportReport", "import_long_format", "read_table"]

_SUFFIXES = (".parquet", ".csv", ".jsonl", ".json")
_MEASUREMENT_COLUMNS = {"model", "model_a", "ranking"}


@dataclass
class ImportReport:
    """What an import added, per file."""

    files: list[str] = field(default_factory=list)
    samples_added: int = 0
    models_added: int = 0
    measurements_added: int = 0
    version: int = 0


def read_table(path: str | os.PathLike[str]) -> pa.Table:
    """Reads one Parquet, CSV or JSONL file; a malformed file is an error naming it."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if path.suffix == ".csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(path)
        if path.suffix in (".jsonl", ".json"):
            import pyarrow.json as pjson

            return pjson.read_json(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInputError(f"{path}: cannot be read: {error}", field=str(path)) from error
    raise InvalidInputError(
        f"{path}: unknown file type; expected one of {', '.join(_SUFFIXES)}", field=str(path)
    )


def _expand(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files in import order: samples files before measurement files."""
    files: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            # A folder holds one data set: its samples and measurements tables (other
            # files, such as stats.json or a README, are not part of the long format).
            files.extend(
                sorted(
                    p
                    for p in entry.iterdir()
                    if p.suffix in _SUFFIXES and p.stem in ("samples", "measurements")
                )
            )
        elif entry.exists():
            files.append(entry)
        else:
            raise InvalidInputError(f"{entry}: no such file or folder", field=str(entry))
    return sorted(files, key=lambda path: (0 if "sample" in path.name else 1, str(path)))


def import_long_format(
    pool: Pool, paths: list[str | os.PathLike[str]], *, source: str | None = None
) -> ImportReport:
    """Imports samples and measurements files; models and samples that measurements name
    but the pool lacks are registered from the rows. Every file is read and checked before
    anything is written."""
    tables = [(path, read_table(path)) for path in _expand(paths)]
    report = ImportReport()
    for path, table in tables:
        report.files.append(str(path))
        if "sample_id" not in table.column_names:
            raise InvalidInputError(f"{path}: no 'sample_id' column", field="sample_id")
        if _MEASUREMENT_COLUMNS & set(table.column_names):
            added_samples, added_models, added = _import_measurements(pool, path, table, source)
            report.samples_added += added_samples
            report.models_added += added_models
            report.measurements_added += added
        else:
            report.samples_added += pool.add_samples(table).added
    report.version = pool.version
    return report


def _import_measurements(
    pool: Pool, path: Path, table: pa.Table, source: str | None
) -> tuple[int, int, int]:
    known_samples = set(pool.sample_ids())
    sample_ids = pc.unique(table.column("sample_id")).to_pylist()
    missing = [
        sample for sample in sample_ids if sample is not None and sample not in known_samples
    ]
    new_samples = None
    if missing:
        new_samples = {"sample_id": missing, "benchmark": _first_benchmark(table, missing)}
    names: set[str] = set()
    for column in ("model", "model_a", "model_b"):
        if column in table.column_names:
            names.update(value for value in pc.unique(table.column(column)).to_pylist() if value)
    if "ranking" in table.column_names:
        for ranking in table.column("ranking").to_pylist():
            for entry in ranking or []:
                names.update(entry if isinstance(entry, list) else [entry])
    known_models = set(pool.model_ids())
    new_models = sorted(name for name in names if name not in known_models)
    judge = None
    if "judge" in table.column_names:
        judges = [value for value in pc.unique(table.column("judge")).to_pylist() if value]
        judge = ",".join(sorted(judges)) or None
    if "probability" not in table.column_names and "model_a" in table.column_names:
        # In the long format `score` of a pairwise row is P(model_b preferred).
        kinds = pc.cast(table.column("kind"), pa.string()) if "kind" in table.column_names else None
        if kinds is not None and "score" in table.column_names:
            is_pairwise = pc.equal(kinds, "pairwise")
            probability = pc.if_else(
                is_pairwise, pc.cast(table.column("score"), pa.float64()), None
            )
            table = table.append_column("probability", probability)
    # One commit: a bad row leaves neither measurements nor the samples and models
    # registered for them behind.
    report = pool.add_measurements(
        table,
        source=source or path.name,
        judge=judge,
        samples=new_samples,
        models=new_models or None,
    )
    return report.samples_added, report.models_added, report.added


def _first_benchmark(table: pa.Table, sample_ids: list[str]) -> list[str]:
    if "benchmark" not in table.column_names:
        return [sample_id.split("/", 1)[0] for sample_id in sample_ids]
    ids = pc.cast(table.column("sample_id"), pa.string()).to_numpy(zero_copy_only=False)
    benchmarks = pc.cast(table.column("benchmark"), pa.string()).to_numpy(zero_copy_only=False)
    _, first = np.unique(ids, return_index=True)
    lookup = {ids[index]: benchmarks[index] for index in first}
    return [str(lookup.get(sample_id) or "") for sample_id in sample_ids]
