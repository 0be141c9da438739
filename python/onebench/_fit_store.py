"""Fits kept in the pool: ``<pool>/fits/``, one small file per ranking question.

``Pool.rank`` asks here before fitting, so the same question on an unchanged pool is
answered from the file by any process (the CLI, Python, ``onebench serve``), and after new
measurements the newest earlier fit of the same method, prior, selection and form is the
warm start. The store is a cache: a file that is missing, damaged, of another format or
of another question is a miss, and a failure to write is logged, never raised (a
read-only pool still ranks).

A file is ``f<FORMAT>-<pool version>-<warm hash>-<key hash>.npz``: the result's arrays,
the joint solution's bytes and a JSON header with the full key, which a reader compares
with its own (a hash collision or a renamed file is a miss). The key names everything
that changes the answer: the pool (a digest of its manifest, whose segment names carry a
per-commit nonce, so a pool re-created at the same path with as many commits is another
pool), the options and samples, and the onebench build. Files are written to a temporary
name and renamed, so a reader sees a whole file or none, and two writers of one key each
leave a whole file. Older pool versions' files are dropped once the same warm key has a
newer one, and at most ``KEEP`` files (``KEEP_BYTES`` bytes) stay.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["DIRECTORY", "FORMAT", "KEEP", "KEEP_BYTES", "PoolFits", "open_fits"]

logger = logging.getLogger("onebench.fits")

DIRECTORY = "fits"
# The layout of one file; a reader skips every other number (and never prunes it).
FORMAT = 1
# Files kept at most, and bytes: a few selections and option sets per pool. A file is
# about 13 bytes per fitted sample plus 90 per model (and per model and stratum with the
# deviations): 160 kB for MMLU-Pro's 12,032 samples, 13 MB for 1M samples.
KEEP = 32
KEEP_BYTES = 256 * 2**20
# `ONEBENCH_FITS=off` neither reads nor writes the store (every call fits afresh);
# `ONEBENCH_FITS=read` reads it but writes nothing, as a pool with `keep_fits = False`
# (a read-only `onebench serve`, which leaves the pool's files as they are).
ENVIRONMENT = "ONEBENCH_FITS"

_ARRAYS = (
    "scores",
    "ci_low",
    "ci_high",
    "rank",
    "rank_low",
    "rank_high",
    "n_measurements",
    "n_samples",
    "ranked",
)
_SCALARS = ("method", "iterations", "converged", "unconverged_replicates", "notes")
_NAME = re.compile(rf"f{FORMAT}-(\d{{12}})-([0-9a-f]{{16}})-([0-9a-f]{{32}})\.npz")


@cache
def _build() -> str:
    """This build of onebench: its version and its extension module's size and time, so
    that a rebuild (the same version number, other code) never reuses an older fit."""
    module = os.stat(_core.__file__)
    return f"{_core.__version__}:{module.st_size}:{module.st_mtime_ns}"


def _digest(text: str | bytes, length: int) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:length]


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def _lineage(segments: list[str], count: int) -> str:
    """The first ``count`` segment names: a commit only appends segments, so a pool
    grown from another keeps its manifest's names as a prefix (a compaction does not)."""
    return _digest("\n".join(segments[:count]), 32)


@dataclass(frozen=True)
class PoolFits:
    """The store of one pool at the version its handle sees."""

    directory: Path
    version: int
    pool: str  # the manifest's digest
    segments: list[str]
    writable: bool = True

    def key(self, question: dict[str, Any]) -> dict[str, Any]:
        return {"format": FORMAT, "build": _build(), "pool": self.pool, **question}

    def _name(self, warm: dict[str, Any], key: dict[str, Any]) -> str:
        return (
            f"f{FORMAT}-{self.version:012d}-{_digest(_canonical(warm), 16)}"
            f"-{_digest(_canonical(key), 32)}.npz"
        )

    def load(self, warm: dict[str, Any], question: dict[str, Any], n_models: int) -> Any:
        """The stored result of this question, as ``PoolCore.rank`` returns it (with the
        solution as bytes), or None."""
        key = self.key(question)
        path = self.directory / self._name(warm, key)
        try:
            header, arrays = _read(path)
            if header.get("key") != key:
                return None
            result: dict[str, Any] = {name: arrays[name] for name in _ARRAYS}
            if any(len(array) != n_models for array in result.values()):
                return None
            result.update({name: header[name] for name in _SCALARS})
            result["disconnected"] = [list(group) for group in header["disconnected"]]
            result["model_form"] = header["model_form"]
            result["hidden"] = arrays["hidden"]
            result["solution"] = arrays["solution"].tobytes() if "solution" in arrays else None
            return result
        except FileNotFoundError:
            return None
        except Exception as error:  # any damage is a miss
            logger.debug("onebench: ignoring the stored fit %s: %s", path, error)
            return None

    def warm_start(
        self, warm: dict[str, Any], n_models: int
    ) -> tuple[np.ndarray, bytes | None] | None:
        """The newest stored fit of the same warm key on this pool or one it grew from:
        its scores (hidden models at 0) and its solution's bytes."""
        prefix = f"-{_digest(_canonical(warm), 16)}-"
        candidates = []
        for name, version in _listing(self.directory):
            if prefix in name and version <= self.version:
                candidates.append((version, name))
        for _, name in sorted(candidates, reverse=True)[:4]:
            path = self.directory / name
            try:
                header, arrays = _read(path)
                count, lineage = header["lineage"]
                if header["warm"] != warm or header["build"] != _build():
                    continue
                if count > len(self.segments) or _lineage(self.segments, count) != lineage:
                    continue
                scores = np.where(arrays["ranked"], arrays["scores"], 0.0)
                if len(scores) > n_models:
                    continue
                solution = arrays["solution"].tobytes() if "solution" in arrays else None
                return scores, solution
            except Exception as error:
                logger.debug("onebench: no warm start from %s: %s", path, error)
        return None

    def save(
        self, warm: dict[str, Any], question: dict[str, Any], result: Any, solution: bytes | None
    ) -> None:
        """Writes the result (never raises: a failure is logged), then prunes."""
        if not self.writable:
            return
        key = self.key(question)
        header = {
            "format_version": FORMAT,
            "onebench": _core.__version__,
            "build": _build(),
            "key": key,
            "warm": warm,
            "version": self.version,
            "lineage": [len(self.segments), _lineage(self.segments, len(self.segments))],
            "disconnected": [[int(index) for index in group] for group in result["disconnected"]],
            "model_form": result["model_form"],
            **{name: _plain(result[name]) for name in _SCALARS},
        }
        arrays: dict[str, Any] = {name: np.asarray(result[name]) for name in (*_ARRAYS, "hidden")}
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        if solution is not None:
            arrays["solution"] = np.frombuffer(solution, dtype=np.uint8)
        try:
            self.directory.mkdir(exist_ok=True)
            _write(self.directory / self._name(warm, key), arrays)
        except OSError as error:
            # A read-only pool (or a full disk) still ranks; the next call fits again.
            quiet = error.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            (logger.debug if quiet else logger.warning)(
                "onebench: could not keep the fit in %s: %s", self.directory, error
            )
            return
        self.prune()

    def prune(self) -> None:
        """Drops each warm key's files of older pool versions, then the oldest files
        beyond ``KEEP``; files of other formats are left to their own readers."""
        listing = _listing(self.directory)
        newest: dict[str, int] = {}
        for name, version in listing:
            warm = name.split("-")[2]
            newest[warm] = max(newest.get(warm, version), version)
        stale = [name for name, version in listing if version < newest[name.split("-")[2]]]
        kept = [name for name, version in listing if version >= newest[name.split("-")[2]]]
        # Newest first: the oldest go beyond KEEP files or KEEP_BYTES (the newest stays).
        sizes = {name: _size(self.directory / name) for name in kept}
        kept.sort(key=lambda name: sizes[name][1], reverse=True)
        total = 0
        for position, name in enumerate(kept):
            total += sizes[name][0]
            if position > 0 and (position >= KEEP or total > KEEP_BYTES):
                stale.append(name)
        # A writer that died between writing and renaming leaves its temporary file.
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                if entry.name.startswith(".tmp-") and _age(entry) > 3600:
                    stale.append(entry.name)
        for name in stale:
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()


def open_fits(pool: Pool) -> PoolFits | None:
    """The store of ``pool`` at its handle's version, or None: switched off, or the
    manifest on disk is not the one the handle loaded (another writer committed since:
    the handle's answers are then of a version the store cannot name)."""
    setting = os.environ.get(ENVIRONMENT, "").strip().lower()
    if setting in ("0", "off", "no", "false"):
        return None
    try:
        body = (pool.path / "MANIFEST").read_bytes().split(b"\n", 1)[0]
        manifest = json.loads(body)
        if manifest["version"] != pool.version:
            return None
        segments = [str(segment["name"]) for segment in manifest["segments"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.debug("onebench: no fit store for %s: %s", pool.path, error)
        return None
    return PoolFits(
        directory=pool.path / DIRECTORY,
        version=pool.version,
        pool=_digest(body, 32),
        segments=segments,
        writable=setting != "read" and getattr(pool, "keep_fits", True),
    )


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every member of a stored fit, each checked by the zip's CRC-32 as it is read."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    header = json.loads(arrays.pop("header").tobytes())
    if header.get("format_version") != FORMAT:
        raise ValueError(f"format {header.get('format_version')!r}, not {FORMAT}")
    return header, arrays


def _write(path: Path, arrays: dict[str, Any]) -> None:
    """A unique temporary file (two threads or processes never share one), fsynced, then
    renamed over ``path``. It gets the manifest's permissions: whoever may read the pool
    may read its fits (a temporary file starts private)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with contextlib.suppress(OSError):
            os.fchmod(handle, stat.S_IMODE(os.stat(path.parent.parent / "MANIFEST").st_mode))
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _listing(directory: Path) -> list[tuple[str, int]]:
    """This format's files and their pool versions."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in names:
        match = _NAME.fullmatch(name)
        if match is not None:
            found.append((name, int(match.group(1))))
    return found


def _size(path: Path) -> tuple[int, float]:
    """Bytes and modification time (0 for a file gone meanwhile)."""
    try:
        found = path.stat()
    except OSError:
        return 0, 0.0
    return found.st_size, found.st_mtime


def _age(entry: os.DirEntry[str]) -> float:
    try:
        return time.time() - entry.stat().st_mtime
    except OSError:
        return 0.0


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a result scalar (numpy integers and booleans included)."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
