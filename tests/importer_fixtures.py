"""The hand-written importer fixtures of ``tests/fixtures/importers``, and the two binary
formats built from their text at test time (an inspect_ai ``.eval`` zip, an Open LLM
Leaderboard details Parquet file)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import onebench
import pyarrow as pa
import pyarrow.parquet as pq

FIXTURES = Path(__file__).parent / "fixtures" / "importers"


def eval_log(target: Path, folder: Path = FIXTURES / "inspect" / "toy_task") -> Path:
    """The inspect fixture folder zipped into ``target`` (a ``.eval`` file)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.json")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def details_parquet(root: Path) -> Path:
    """The Open LLM Leaderboard fixture written as Parquet under ``root`` (keeping its
    ``details_<org>__<model>/<time>/`` folders); returns the Parquet file."""
    source = next((FIXTURES / "open_llm_leaderboard").rglob("*.jsonl"))
    target = root / source.relative_to(FIXTURES).with_suffix(".parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    pq.write_table(pa.Table.from_pylist(rows), target)
    return target


def listing(path: Path) -> list[str]:
    """Every file of a pool directory, for "nothing was written" checks."""
    return sorted(os.listdir(path))


def empty_pool(path: Path) -> onebench.Pool:
    return onebench.Pool.create(path)
