"""Importers: result files from evaluation harnesses into a pool."""

from __future__ import annotations

from ._long_format import ImportReport, import_long_format, read_table

__all__ = ["ImportReport", "import_long_format", "read_table"]
