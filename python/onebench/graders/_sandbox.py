"""Running untrusted Python in a sandbox (see :mod:`._isolation` for what the box is).

Inside, a trusted harness (``_box_program.py``, ``_box_tests.py``, standard library only)
sets the hard limits first: address space, CPU seconds, bytes per written file, open files,
processes, no core dumps. The wall-clock timeout is the grader's: at the deadline the box's
init is killed, and with it everything in the box. Output goes to anonymous files bounded by
the file-size limit, never pipes, so a program that prints forever cannot fill our memory.
"""

from __future__ import annotations

import functools
import json
import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..exceptions import InvalidInputError, OnebenchError
from ._isolation import (
    ALLOW_WEAK_VARIABLE,
    BOX_FILES,
    BOX_WORK,
    LEVELS,
    THREADS,
    box_command,
    network_prefix,
    sandbox_isolation,
)

__all__ = [
    "Limits",
    "SandboxProcess",
    "SandboxResult",
    "network_isolation",
    "probe_box",
    "resolve_isolation",
    "run_python",
]

_HARNESS = ("_box_wire.py", "_box_program.py", "_box_tests.py")
#: Caps on what a grader may be configured with (sample data can only lower limits).
MAX_TIMEOUT, MAX_MEMORY_MB, MAX_FILE_MB, MAX_PROCESSES = 600.0, 16_384, 1_024, 1_024


@dataclass(frozen=True)
class Limits:
    """Per-process limits (memory, file size) and per-box ones (processes, wall clock)."""

    timeout: float = 10.0
    memory_mb: int = 512
    file_mb: int = 16
    processes: int = 64

    def __post_init__(self) -> None:
        checks = (
            ("timeout", self.timeout, 0.0, MAX_TIMEOUT),
            ("memory_mb", self.memory_mb, 64, MAX_MEMORY_MB),
            ("file_mb", self.file_mb, 1, MAX_FILE_MB),
            ("processes", self.processes, 4, MAX_PROCESSES),
        )
        for name, value, low, high in checks:
            if not (isinstance(value, (int, float)) and math.isfinite(value)) or not (
                low < value <= high if name == "timeout" else low <= value <= high
            ):
                raise InvalidInputError(
                    f"code grader: {name} must be in {'(' if name == 'timeout' else '['}"
                    f"{low:g}, {high:g}], got {value!r}",
                    field=name,
                )

    def harness(self, level: str) -> dict[str, int]:
        limits = {
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "cpu_seconds": math.ceil(self.timeout) + 1,
            "file_bytes": self.file_mb * 1024 * 1024,
            "open_files": 64,
        }
        if level == "box":  # elsewhere the count would include the user's other processes
            limits["processes"] = self.processes
        return limits


def resolve_isolation(isolation: str | None, allow_weak: bool) -> str:
    """The level to run at: ``isolation`` or the strongest available; weak levels only with
    ``allow_weak`` (or ``ONEBENCH_ALLOW_WEAK_SANDBOX=1``)."""
    if isolation is not None and isolation not in LEVELS:
        raise InvalidInputError(
            f"isolation: unknown level {isolation!r}; choose one of {', '.join(LEVELS)}",
            field="isolation",
        )
    found = sandbox_isolation()
    level = isolation or found.level
    if level == "box" and not found.complete:
        raise OnebenchError(f"sandbox: the box is not available here: {found.missing}")
    if level == "network-namespace" and network_prefix() is None:
        raise OnebenchError("sandbox: network namespaces are not available here (unshare failed)")
    allowed = allow_weak or os.environ.get(ALLOW_WEAK_VARIABLE, "") == "1"
    if level != "box" and not allowed:
        raise OnebenchError(
            f"sandbox: refusing to run untrusted code with weak isolation ({level}: the host's "
            f"files and processes are reachable): {found.missing}. Install bubblewrap, or "
            f"accept the risk with allow_weak_isolation=True or {ALLOW_WEAK_VARIABLE}=1"
        )
    return level


def _data_file(text: str) -> IO[bytes]:
    file = tempfile.TemporaryFile()
    file.write(text.encode("utf-8"))
    file.seek(0)
    return file


@functools.cache
def _harness_text() -> dict[str, str]:
    here = Path(__file__).parent
    return {name: (here / name).read_text(encoding="utf-8") for name in _HARNESS}


@dataclass
class SandboxProcess:
    """One sandboxed harness process: ``entry`` (a harness file) run with ``settings``
    (JSON), ``files`` beside it, ``pass_fds`` inherited. Output goes to anonymous files."""

    level: str
    entry: str
    settings: dict[str, Any]
    files: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.stdout, self.stderr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self._opened: list[IO[bytes]] = [self.stdout, self.stderr]
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        #: The box's init (host pid) and PID namespace (inode), from bwrap's report.
        self.child_pid: int | None = None
        self.pid_namespace: int | None = None
        files = {**_harness_text(), **self.files}
        settings = {**self.settings, "limits": self.limits.harness(self.level)}
        if self.level == "box":
            settings["cwd"], settings["init"] = BOX_WORK, True
            data = {name: _data_file(text) for name, text in files.items()}
            self._opened += data.values()
            read_info, write_info = os.pipe()
            fds = {name: file.fileno() for name, file in data.items()}
            entry = f"{BOX_FILES}/{self.entry}"
            command = [sys.executable, "-I", "-B", entry, json.dumps(settings)]
            argv = box_command(command, fds, write_info, 4 * self.limits.file_mb * 1024 * 1024)
            inherited = (*self.pass_fds, *fds.values(), write_info)
        else:
            self._folder = tempfile.TemporaryDirectory(prefix="onebench-sandbox-")
            base = Path(self._folder.name)
            (base / "files").mkdir()
            (base / "work").mkdir()
            for name, text in files.items():
                (base / "files" / name).write_text(text, encoding="utf-8")
            settings["cwd"] = str(base / "work")
            settings["block_sockets"] = self.level == "socket-block"
            prefix = network_prefix() if self.level == "network-namespace" else None
            entry = str(base / "files" / self.entry)
            argv = [*(prefix or ()), sys.executable, "-I", "-B", entry, json.dumps(settings)]
            inherited, read_info, write_info = self.pass_fds, -1, -1
        self.started = time.monotonic()
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self.stdout,
                stderr=self.stderr,
                pass_fds=inherited,
                cwd="/" if self.level == "box" else settings["cwd"],
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **THREADS},
                start_new_session=True,
            )
        except BaseException:
            if read_info >= 0:
                os.close(read_info)
            self.close()
            raise
        finally:
            if write_info >= 0:
                os.close(write_info)
        if read_info >= 0:
            info = _read_info(read_info)
            self.child_pid, self.pid_namespace = info.get("child-pid"), info.get("pid-namespace")

    def wait(self, deadline: float) -> int | None:
        """The exit status, or None when ``deadline`` (time.monotonic) passed first."""
        try:
            return self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> int:
        """Ends the box and everything in it; returns once all of it is gone."""
        if self.process.poll() is None:
            # The box's init, not bwrap: the kernel then kills the whole PID namespace,
            # and bwrap exits once it has reaped its init, that is once all of it is gone.
            try:
                os.kill(self.child_pid or self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.level != "box":  # no PID namespace: the process group is what we can reach
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.process.wait()

    def output(self, which: str, limit: int = 2000) -> str:
        file = self.stdout if which == "stdout" else self.stderr
        size = os.fstat(file.fileno()).st_size
        data = os.pread(file.fileno(), limit, max(0, size - limit))
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        for file in self._opened:
            file.close()
        if self._folder is not None:
            self._folder.cleanup()


def _read_info(fd: int, seconds: float = 30.0) -> dict[str, int]:
    """bwrap's report on the box (JSON: its child pid, namespaces), read until the object
    closes; empty when bwrap failed before making the box."""
    data = b""
    deadline = time.monotonic() + seconds
    try:
        while b"}" not in data and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        info = json.loads(data.decode())
    except ValueError:
        return {}
    if not isinstance(info, dict):
        return {}
    return {key: value for key, value in info.items() if type(value) is int}


@dataclass(frozen=True)
class SandboxResult:
    returncode: int
    timed_out: bool
    seconds: float
    stdout: str
    stderr: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_python(
    source: str,
    *,
    timeout: float = 10.0,
    memory_mb: int = 512,
    file_mb: int = 16,
    processes: int = 64,
    isolation: str | None = None,
    allow_weak_isolation: bool = False,
) -> SandboxResult:
    """Runs ``source`` as ``__main__`` in the sandbox (``python -I``, a fresh private work
    folder). ``isolation`` forces a level (default: the strongest available); weak levels
    need ``allow_weak_isolation``."""
    limits = Limits(timeout, memory_mb, file_mb, processes)
    level = resolve_isolation(isolation, allow_weak_isolation)
    return _run(level, source, limits)


def _run(level: str, source: str, limits: Limits) -> SandboxResult:
    box = SandboxProcess(
        level,
        "_box_program.py",
        {"mode": "run", "program": "program.py"},
        {"program.py": source},
        limits=limits,
    )
    try:
        returncode = box.wait(box.started + limits.timeout)
        timed_out = returncode is None
        returncode = box.kill()
        return SandboxResult(
            returncode=returncode,
            timed_out=timed_out,
            seconds=time.monotonic() - box.started,
            stdout=box.output("stdout"),
            stderr=box.output("stderr"),
        )
    finally:
        box.close()


@functools.cache
def probe_box() -> str:
    """Why a program cannot run in the box here ("" when it can)."""
    try:
        result = _run("box", "print('onebench-box-ok')\n", Limits(timeout=60))
    except OSError as error:
        return str(error)
    if result.passed and "onebench-box-ok" in result.stdout:
        return ""
    lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
    return lines[-1][:300]


def network_isolation() -> str:
    """``"namespace"`` when programs run in a network namespace of their own, else
    ``"socket-block"`` (see :func:`sandbox_isolation` for the whole picture)."""
    return sandbox_isolation().network
