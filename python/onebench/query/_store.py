"""Embeddings on disk, inside the pool directory, managed by Python.

Layout: ``embeddings/<encoder key>/<field>/`` holds ``header.json`` and, per committed
part, ``part-<n>.f16`` (a raw row-major float16 matrix) and ``part-<n>.ids`` (the sample ids
of its rows, one JSON string per line). The Rust store ignores these files.

The header is the commit point, like the pool's manifest: parts are written under temporary
names, fsynced and renamed, and only then does a new header (written the same way) name
them. A crash leaves at worst an orphan part that no header names, which the next writer
removes; readers never see a half-written matrix. Parts are append-only, so a reader that
loaded an older header keeps reading valid files. One writer at a time holds ``LOCK``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomic
from ..exceptions import CorruptPoolError, InvalidInputError, PoolLockedError

__all__ = [
    "FIELDS",
    "FORMAT_VERSION",
    "EmbeddingPart",
    "EmbeddingSet",
    "check_field",
    "encoder_key",
]

FORMAT_VERSION = 1
_FORMAT = "onebench.embeddings"
#: What of a sample can be embedded: its prompt, its reference answers, its image, and a
#: line describing it (its benchmark and text metadata, e.g. category and subject).
FIELDS = ("text", "references", "image", "metadata")


def check_field(field: str) -> str:
    if field not in FIELDS:
        raise InvalidInputError(
            f"field: unknown field {field!r}; expected one of {', '.join(FIELDS)}",
            field="field",
        )
    return field


def encoder_key(name: str) -> str:
    """A folder name for an encoder: its name with unsafe characters replaced (a path
    becomes its last two components plus a short hash, so two checkpoints never collide)."""
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "encoder"
    if safe == name and len(name) <= 80:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    tail = "_".join(Path(name).parts[-2:]) if os.sep in name or "/" in name else safe
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._")[-60:]
    return f"{tail}-{digest}"


@dataclass(frozen=True)
class EmbeddingPart:
    """One committed part: ``vectors`` (memory-mapped float16, rows × dimension) and the
    sample ids of its rows."""

    name: str
    sample_ids: list[str]
    vectors: np.ndarray


class EmbeddingSet:
    """The embeddings of one field (``text``, ``references``, ``image``, ``metadata``) of the pool's
    samples under one encoder."""

    def __init__(self, pool_path: Path, encoder: str, field: str) -> None:
        check_field(field)
        self.encoder = encoder
        self.field = field
        self.directory = Path(pool_path) / "embeddings" / encoder_key(encoder) / field
        self._header_path = self.directory / "header.json"

    def exists(self) -> bool:
        return self._header_path.exists()

    def header(self) -> dict[str, Any]:
        """The committed header; an empty one when nothing was embedded yet."""
        try:
            raw = self._header_path.read_text()
        except FileNotFoundError:
            return {"parts": [], "dimension": None, "count": 0}
        try:
            header = json.loads(raw)
        except json.JSONDecodeError as error:
            raise CorruptPoolError(
                f"{self._header_path}: not JSON ({error})", path=str(self._header_path)
            ) from error
        if header.get("format") != _FORMAT or not isinstance(header.get("version"), int):
            raise CorruptPoolError(
                f"{self._header_path}: not an onebench embeddings header",
                path=str(self._header_path),
            )
        if header["version"] > FORMAT_VERSION:
            raise CorruptPoolError(
                f"{self._header_path}: format version {header['version']} is newer than this "
                f"onebench reads ({FORMAT_VERSION}); upgrade onebench",
                path=str(self._header_path),
            )
        return header

    def parts(self) -> list[EmbeddingPart]:
        """Every committed part, memory-mapped (no copy of the vectors is made)."""
        header = self.header()
        try:
            return self._parts(header)
        except CorruptPoolError:
            # A writer that merged parts removes the old files after its new header is in
            # place: a reader between the two reads the header again.
            fresh = self.header()
            if fresh == header:
                raise
            return self._parts(fresh)

    def _parts(self, header: dict[str, Any]) -> list[EmbeddingPart]:
        parts = []
        for entry in header["parts"]:
            vectors_path = self.directory / f"{entry['name']}.f16"
            ids_path = self.directory / f"{entry['name']}.ids"
            rows, dimension = int(entry["rows"]), int(header["dimension"])
            expected = rows * dimension * 2
            try:
                size = vectors_path.stat().st_size
                ids = [json.loads(line) for line in ids_path.read_text().splitlines()]
            except (OSError, json.JSONDecodeError) as error:
                raise CorruptPoolError(
                    f"{vectors_path}: part named by the header cannot be read ({error})",
                    path=str(vectors_path),
                ) from error
            if size != expected or len(ids) != rows:
                raise CorruptPoolError(
                    f"{vectors_path}: expected {rows} rows of {dimension} float16 values "
                    f"({expected} bytes, {rows} ids), found {size} bytes and {len(ids)} ids",
                    path=str(vectors_path),
                )
            # Copy-on-write mapping: writable as far as numpy and torch.from_numpy can tell
            # (no warning, no copy), while the file itself is never written.
            vectors = (
                np.memmap(vectors_path, dtype=np.float16, mode="c", shape=(rows, dimension))
                if rows
                else np.zeros((0, dimension), dtype=np.float16)
            )
            parts.append(EmbeddingPart(entry["name"], ids, vectors))
        return parts

    def variant(self) -> str | None:
        """The encoder variant that made the stored vectors (None when there are none):
        headers written before variants were recorded hold the float model's vectors."""
        header = self.header()
        if not header["parts"]:
            return None
        return str((header.get("encoder_info") or {}).get("variant", "float32"))

    def embedded_ids(self) -> set[str]:
        return {sample_id for part in self.parts() for sample_id in part.sample_ids}

    @contextlib.contextmanager
    def writer(self) -> Iterator[_Writer]:
        """Holds the writer lock of this set for the duration of the block."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_path = self.directory / "LOCK"
        with open(lock_path, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise PoolLockedError(
                    f"{lock_path}: another process is embedding this pool", path=str(lock_path)
                ) from error
            try:
                writer = _Writer(self)
                writer.remove_orphans()
                yield writer
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class _Writer:
    """Appends parts to an :class:`EmbeddingSet` while holding its lock."""

    def __init__(self, embedding_set: EmbeddingSet) -> None:
        self._set = embedding_set
        self._header = embedding_set.header()

    def remove_orphans(self) -> None:
        """Deletes temporary files and parts no header names (left by a crash)."""
        named = {entry["name"] for entry in self._header["parts"]}
        for path in self._set.directory.iterdir():
            ann = self._header.get("ann")
            if (
                path.name.startswith(".tmp-")
                or (path.suffix in (".f16", ".ids") and path.stem not in named)
                or (path.suffix == ".usearch" and (not ann or path.name != ann["file"]))
            ):
                path.unlink(missing_ok=True)

    def commit_file(self, temporary: Path, name: str) -> None:
        """Moves a finished file (written under ``temporary``) to its final ``name``."""
        import os

        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self._set.directory / name)

    def set_ann(self, ann: dict[str, Any]) -> None:
        """Names a new ANN index in the header, then removes the one it replaces."""
        previous = self._header.get("ann")
        self._write_header({**self._header, "ann": ann})
        if previous and previous["file"] != ann["file"]:
            (self._set.directory / previous["file"]).unlink(missing_ok=True)

    def _write_header(self, header: dict[str, Any]) -> None:
        write_atomic(self._set.directory / "header.json", json.dumps(header, indent=1).encode())
        self._header = header

    def merge(self) -> None:
        """Rewrites every part as one, in the same row order (so ANN keys stay valid):
        a search makes one large product instead of many small ones, which costs twice the
        time. The old parts are removed after the new header names the merged one."""
        parts = self._set.parts()
        if len(parts) < 2:
            return
        name = self._next_name()
        directory = self._set.directory
        temporary = directory / f".tmp-{name}.f16"
        with open(temporary, "wb") as handle:
            for part in parts:  # streamed: the whole matrix never sits in memory
                handle.write(np.ascontiguousarray(part.vectors).tobytes())
        self.commit_file(temporary, f"{name}.f16")
        write_atomic(
            directory / f"{name}.ids",
            "".join(json.dumps(i) + "\n" for part in parts for i in part.sample_ids).encode(),
        )
        rows = sum(len(part.sample_ids) for part in parts)
        self._write_header({**self._header, "parts": [{"name": name, "rows": rows}]})
        for part in parts:
            (directory / f"{part.name}.f16").unlink(missing_ok=True)
            (directory / f"{part.name}.ids").unlink(missing_ok=True)

    def _next_name(self) -> str:
        number = 1 + max(
            (int(entry["name"].split("-")[1]) for entry in self._header["parts"]), default=-1
        )
        return f"part-{number:06d}"

    def part_count(self) -> int:
        return len(self._header["parts"])

    def append(self, sample_ids: list[str], vectors: np.ndarray, encoder_info: dict) -> None:
        """Commits one part: its files first, then a header that names it."""
        if len(sample_ids) != len(vectors):
            raise ValueError("one id per vector")
        if not sample_ids:
            return
        dimension = int(vectors.shape[1])
        known = self._header.get("dimension")
        if known is not None and known != dimension:
            raise CorruptPoolError(
                f"{self._set.directory}: stored vectors have dimension {known}, the encoder "
                f"gives {dimension}; the encoder changed under the same name",
                path=str(self._set.directory),
            )
        name = self._next_name()
        directory = self._set.directory
        write_atomic(
            directory / f"{name}.f16", np.ascontiguousarray(vectors, dtype=np.float16).tobytes()
        )
        write_atomic(
            directory / f"{name}.ids",
            "".join(json.dumps(sample_id) + "\n" for sample_id in sample_ids).encode(),
        )
        header = {
            "format": _FORMAT,
            "version": FORMAT_VERSION,
            "encoder": self._set.encoder,
            "encoder_info": encoder_info,
            "field": self._set.field,
            "dtype": "float16",
            "dimension": dimension,
            "count": int(self._header.get("count", 0)) + len(sample_ids),
            "parts": [*self._header["parts"], {"name": name, "rows": len(sample_ids)}],
        }
        if "ann" in self._header:
            header["ann"] = self._header["ann"]
        self._write_header(header)
