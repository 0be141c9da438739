"""Running untrusted Python: a subprocess with time, memory and file-size limits and no
network.

Limits are set with ``resource.setrlimit`` in the child before it starts: address space
(memory), CPU seconds, size of files written, open files, no core dumps. The wall-clock
timeout kills the child's whole process group. Output goes to files (bounded by the
file-size limit), not pipes, so a program that prints forever cannot fill our memory.

Network: the child runs in a new, empty network namespace (``unshare --net``, or
``unshare --net --map-root-user`` for an unprivileged user) where no address is reachable,
not even the host's loopback. Where neither works, the fallback blocks sockets at import
time (``socket.socket`` and friends raise), which stops ordinary code but not code that
digs out ``_socket`` itself; :func:`network_isolation` says which is in use.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SandboxResult", "network_isolation", "run_python"]

_SOCKET_BLOCK = """\
import socket as _onebench_socket
def _onebench_no_network(*args, **kwargs):
    raise PermissionError("network access is disabled in the onebench sandbox")
for _name in ("socket", "create_connection", "getaddrinfo", "socketpair", "fromfd",
              "create_server", "gethostbyname", "gethostbyname_ex"):
    setattr(_onebench_socket, _name, _onebench_no_network)
del _name
"""


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


@functools.cache
def _unshare_prefix() -> tuple[str, ...] | None:
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ((unshare, "--net"), (unshare, "--net", "--map-root-user")):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def network_isolation() -> str:
    """``"namespace"`` when programs run in an empty network namespace, else
    ``"socket-block"``."""
    return "namespace" if _unshare_prefix() is not None else "socket-block"


def _limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    # Runs in the child between fork and exec: only async-signal-safe work here.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def run_python(
    source: str,
    *,
    timeout: float = 10.0,
    memory_mb: int = 512,
    file_mb: int = 16,
    network: str | None = None,
) -> SandboxResult:
    """Runs ``source`` with ``python -I`` in a fresh temporary folder.

    ``network`` forces ``"namespace"`` or ``"socket-block"`` (default: the strongest
    available; forcing ``"namespace"`` where it is unavailable raises ``OSError``)."""
    mode = network or network_isolation()
    prefix: tuple[str, ...] = ()
    if mode == "namespace":
        found = _unshare_prefix()
        if found is None:
            raise OSError("network namespaces are not available here (unshare failed)")
        prefix = found
    elif mode == "socket-block":
        source = _SOCKET_BLOCK + source
    else:
        raise ValueError(f"network: unknown isolation {mode!r}")
    with tempfile.TemporaryDirectory(prefix="onebench-sandbox-") as folder:
        directory = Path(folder)
        (directory / "main.py").write_text(source, encoding="utf-8")
        stdout = open(directory / "stdout", "wb")
        stderr = open(directory / "stderr", "wb")
        environment = {"PATH": "/usr/bin:/bin", "HOME": folder, "LANG": "C.UTF-8"}
        started = time.perf_counter()
        timed_out = False
        try:
            child = subprocess.Popen(
                [*prefix, sys.executable, "-I", "-B", "main.py"],
                cwd=folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=functools.partial(
                    _limits,
                    memory_mb * 1024 * 1024,
                    max(1, int(timeout) + 1),
                    file_mb * 1024 * 1024,
                ),
            )
            try:
                returncode = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(child.pid)
                returncode = child.wait()
        finally:
            stdout.close()
            stderr.close()
        seconds = time.perf_counter() - started
        return SandboxResult(
            returncode=returncode,
            timed_out=timed_out,
            seconds=seconds,
            stdout=_tail(directory / "stdout"),
            stderr=_tail(directory / "stderr"),
        )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _tail(path: Path, limit: int = 2000) -> str:
    data = path.read_bytes()
    return data[-limit:].decode("utf-8", "replace")
