"""Evaluation runs on disk: the outputs a model produced, kept in the pool directory.

Layout: ``runs/<run id>/header.json`` (format ``onebench.run``, version 1: the pool model,
the runner's kind, checkpoint and settings, the generation options, when it started) and
parts ``outputs-<n>.parquet`` (one row per output: sample, text, token counts, seconds,
error, time) and ``grades-<n>.parquet`` (sample, grader, score, explanation). The Rust store
ignores these files.

Every file is written under a temporary name, fsynced and renamed, so a crash leaves whole
parts or none; parts are never rewritten. The run id is a hash of what determines the
outputs (model, runner kind and checkpoint, output-relevant settings, generation options),
so the same evaluation started again finds its run and reuses the outputs already written.
One process at a time writes a run (``LOCK``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._atomic import write_atomic
from .exceptions import CorruptPoolError, PoolLockedError
from .infer._runner import Generation

__all__ = ["FORMAT_VERSION", "RunStore", "run_identity"]

FORMAT_VERSION = 1
_FORMAT = "onebench.run"
# Settings that change speed, not outputs: a run resumed with another batch size or
# concurrency is still the same run.
_SPEED_SETTINGS = frozenset(
    {
        "batch_size",
        "max_batch_tokens",
        "concurrency",
        "timeout",
        "max_retries",
        "replicas",
        "gpus_per_replica",
        "threads",
        "device",
    }
)
_OUTPUT_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("text", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("seconds", pa.float64()),
        ("error", pa.string()),
        ("time", pa.string()),
        ("extra", pa.string()),
    ]
)
_GRADE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("grader", pa.string()),
        ("score", pa.float64()),
        ("explanation", pa.string()),
    ]
)
_PART = re.compile(r"^(outputs|grades)-(\d{6})\.parquet$")


def run_identity(model: str, runner: Any) -> dict[str, Any]:
    """What determines a run's outputs, as stored in its header."""
    settings = runner.settings()
    return {
        "model": model,
        "runner": runner.kind,
        "checkpoint": runner.model,
        "settings": {key: settings[key] for key in sorted(settings) if key not in _SPEED_SETTINGS},
        "generation": runner.options.to_dict(),
    }


def _run_id(identity: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", identity["model"]).strip("._")[-40:] or "model"
    return f"{slug}-{digest}"


class RunStore:
    """One run folder. ``RunStore.open(pool_path, model, runner)`` finds or creates it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.run_id = folder.name

    @classmethod
    def open(cls, pool_path: Path, model: str, runner: Any) -> RunStore:
        identity = run_identity(model, runner)
        store = cls(Path(pool_path) / "runs" / _run_id(identity))
        store.folder.mkdir(parents=True, exist_ok=True)
        if not (store.folder / "header.json").exists():
            header = {
                "format": _FORMAT,
                "version": FORMAT_VERSION,
                "run_id": store.run_id,
                **identity,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            text = json.dumps(header, indent=2, sort_keys=True).encode()
            write_atomic(store.folder / "header.json", lambda path: path.write_bytes(text))
        store.header()  # validates
        return store

    @classmethod
    def all(cls, pool_path: Path) -> list[RunStore]:
        root = Path(pool_path) / "runs"
        if not root.is_dir():
            return []
        return [
            cls(folder) for folder in sorted(root.iterdir()) if (folder / "header.json").is_file()
        ]

    def header(self) -> dict[str, Any]:
        path = self.folder / "header.json"
        try:
            header = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CorruptPoolError(
                f"{path}: unreadable run header ({error})", path=str(path)
            ) from error
        if header.get("format") != _FORMAT or header.get("version") != FORMAT_VERSION:
            raise CorruptPoolError(
                f"{path}: not a version {FORMAT_VERSION} {_FORMAT} header", path=str(path)
            )
        return header

    @contextlib.contextmanager
    def locked(self) -> Iterator[RunStore]:
        with open(self.folder / "LOCK", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PoolLockedError(
                    f"{self.folder}: another process is writing this run", path=str(self.folder)
                ) from None
            for stale in self.folder.glob(".tmp-*"):  # torn writes of a crashed writer
                stale.unlink(missing_ok=True)
            yield self

    def _parts(self, kind: str) -> list[Path]:
        found = []
        for path in self.folder.iterdir():
            match = _PART.match(path.name)
            if match and match.group(1) == kind:
                found.append((int(match.group(2)), path))
        return [path for _, path in sorted(found)]

    def _read(self, kind: str) -> pa.Table:
        import pyarrow.parquet as pq

        schema = _OUTPUT_SCHEMA if kind == "outputs" else _GRADE_SCHEMA
        tables = []
        for path in self._parts(kind):
            try:
                tables.append(pq.read_table(path, schema=schema))
            except (OSError, pa.ArrowInvalid) as error:
                raise CorruptPoolError(
                    f"{path}: unreadable run part ({error})", path=str(path)
                ) from error
        return pa.concat_tables(tables) if tables else schema.empty_table()

    def outputs(self) -> pa.Table:
        """Every output row, in the order written."""
        return self._read("outputs")

    def grades(self) -> pa.Table:
        return self._read("grades")

    def latest_outputs(self) -> dict[str, dict[str, Any]]:
        """Per sample, the last output written without error."""
        latest = {}
        for row in self.outputs().to_pylist():
            if not row["error"]:
                latest[row["sample_id"]] = row
        return latest

    def _append(self, kind: str, table: pa.Table, metadata: dict[str, Any]) -> Path:
        import pyarrow.parquet as pq

        existing = [int(_PART.match(path.name).group(2)) for path in self._parts(kind)]  # type: ignore[union-attr]
        path = self.folder / f"{kind}-{max(existing, default=0) + 1:06d}.parquet"
        table = table.replace_schema_metadata({"onebench": json.dumps(metadata, sort_keys=True)})
        write_atomic(path, lambda temporary: pq.write_table(table, temporary))
        return path

    def append_outputs(self, generations: Sequence[Generation], session: dict[str, Any]) -> Path:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        columns: dict[str, list[Any]] = {name: [] for name in _OUTPUT_SCHEMA.names}
        for generation in generations:
            columns["sample_id"].append(generation.sample_id)
            columns["text"].append(generation.text)
            columns["prompt_tokens"].append(generation.prompt_tokens)
            columns["completion_tokens"].append(generation.completion_tokens)
            columns["seconds"].append(generation.seconds)
            columns["error"].append(generation.error)
            columns["time"].append(now)
            columns["extra"].append(json.dumps(generation.extra) if generation.extra else None)
        return self._append("outputs", pa.table(columns, schema=_OUTPUT_SCHEMA), session)

    def append_grades(self, rows: Sequence[tuple[str, str, float, str]]) -> Path:
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[]] * 4
        table = pa.table(dict(zip(_GRADE_SCHEMA.names, columns, strict=True)), schema=_GRADE_SCHEMA)
        return self._append("grades", table, {})
