"""Importers: result files from evaluation harnesses into one pool.

Each importer (a private module registered under a format name) turns a source into
samples, models and measurements with provenance; :func:`import_sources` picks the
importer for each path (or takes ``format``), reads every file before anything is
written, then commits each source atomically through one identity for models and
samples, skipping the rows the pool already holds.

Formats: ``lm-eval`` (lm-evaluation-harness ``--log_samples`` folders), ``helm`` (HELM run
folders), ``alpaca-eval`` (``annotations.json``), ``arena`` (Chatbot Arena / LMArena
battles), ``inspect`` (inspect_ai ``.eval`` logs), ``open-llm-leaderboard`` (details
Parquet) and ``long`` (onebench's long format).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .._identity import ModelMapping
from ..pool import Pool
from . import (  # noqa: F401  (importing a module registers its importer)
    _alpaca_eval,
    _arena,
    _helm,
    _inspect_ai,
    _lm_eval,
    _long_format,
    _open_llm_leaderboard,
)
from ._base import Importer, ImportOptions, Source, detect_format, get_importer, importer_names
from ._commit import SourceReport
from ._commit import commit_sources as plan_and_commit
from ._files import read_table

__all__ = [
    "ImportOptions",
    "ImportReport",
    "Importer",
    "Source",
    "SourceReport",
    "commit_sources",
    "detect_format",
    "import_long_format",
    "import_sources",
    "importer_names",
    "read_sources",
    "read_table",
]


@dataclass
class ImportReport:
    """What an import did, in total and per source."""

    files: list[str] = field(default_factory=list)
    samples_added: int = 0
    samples_merged: int = 0
    models_added: int = 0
    measurements_added: int = 0
    measurements_present: int = 0
    measurements_changed: int = 0
    version: int = 0
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def lookalikes(self) -> list[tuple[str, str]]:
        return [pair for source in self.sources for pair in source.lookalikes]


def read_sources(
    paths: list[str | os.PathLike[str]],
    *,
    format: str | None = None,
    options: ImportOptions | None = None,
) -> list[Source]:
    """Reads every path (a file or folder) with its importer; writes nothing."""
    options = options or ImportOptions()
    grouped: dict[str, tuple[Importer, list[Path]]] = {}
    for entry in map(Path, paths):
        chosen = get_importer(format) if format else detect_format(entry)
        grouped.setdefault(chosen.name, (chosen, []))[1].append(entry)
    sources: list[Source] = []
    for chosen, entries in grouped.values():
        sources += chosen.read(entries, options)
    # Samples-only sources first, so that measurements find their samples' texts.
    return sorted(sources, key=lambda source: source.measurements.num_rows > 0)


def import_sources(
    pool: Pool,
    paths: list[str | os.PathLike[str]],
    *,
    format: str | None = None,
    options: ImportOptions | None = None,
    mapping: ModelMapping | None = None,
) -> ImportReport:
    """Imports result files into ``pool``.

    Every file is read and checked before anything is written, and all sources are
    committed together: a malformed or truncated file (the error names file and line)
    commits nothing. Importing the same files again adds nothing; a newer file adds only
    its new rows. ``mapping`` holds confirmed model identities.
    """
    sources = read_sources(paths, format=format, options=options)
    return commit_sources(pool, sources, mapping)


def commit_sources(
    pool: Pool, sources: list[Source], mapping: ModelMapping | None = None
) -> ImportReport:
    """Commits sources read by :func:`read_sources` in one atomic commit (each with its
    own provenance): all of them, or none if any row is bad."""
    report = ImportReport(version=pool.version)
    for result in plan_and_commit(pool, sources, mapping):
        report.sources.append(result)
        report.files += [name for name in result.files if name not in report.files]
        report.samples_added += result.samples_added
        report.samples_merged += result.samples_merged
        report.models_added += result.models_added
        report.measurements_added += result.measurements_added
        report.measurements_present += result.measurements_present
        report.measurements_changed += result.measurements_changed
    report.version = pool.version
    return report


def import_long_format(
    pool: Pool, paths: list[str | os.PathLike[str]], *, source: str | None = None
) -> ImportReport:
    """Imports files in onebench's long format (see :mod:`._long_format`)."""
    return import_sources(pool, paths, format="long", options=ImportOptions(source=source))
