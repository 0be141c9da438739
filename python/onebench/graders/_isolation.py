"""Which isolation the sandbox gives on this machine, and the command that gives it.

The full box (``"box"``) is bubblewrap (``bwrap``) run by an unprivileged user: new user,
PID, mount, network, IPC and UTS namespaces; a root holding only the interpreter's runtime
(``/usr``, the Python prefixes), read-only; private size-limited ``/tmp``, ``/sandbox`` and
``/dev/shm``; its own ``/proc``; an empty environment. When its first process exits, the
PID namespace's init exits and the kernel kills everything left in it, ``setsid`` daemons
included. The process-count limit (``RLIMIT_NPROC``) binds because the box's user is not
root: the kernel exempts only the real root user, so a grader running as root drops to
``nobody`` (uid 65534) with ``setpriv`` first, after binding runtime folders that user could
not reach (``/root/...``) onto a reachable place in a private mount namespace of its own.

Without bubblewrap, two weaker levels remain, refused for untrusted code unless the user opts
in: ``"network-namespace"`` (``unshare --net``: no network, but the host's files, processes
and Unix sockets are reachable) and ``"socket-block"`` (``socket`` refuses in Python only).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ALLOW_WEAK_VARIABLE",
    "LEVELS",
    "SANDBOX_UID",
    "THREADS",
    "SandboxIsolation",
    "box_command",
    "network_prefix",
    "sandbox_isolation",
]

LEVELS = ("box", "network-namespace", "socket-block")
#: The user a root grader runs the box as (``nobody`` on Debian and most Linux systems).
SANDBOX_UID = 65534
#: Set to 1 to accept weak isolation for untrusted code without passing an option.
ALLOW_WEAK_VARIABLE = "ONEBENCH_ALLOW_WEAK_SANDBOX"
#: Where the box sees its files: the harness and program (read-only), and its work folder.
BOX_FILES, BOX_WORK = "/onebench", "/sandbox"
#: One thread for the numeric libraries: a BLAS starting a thread per core would run into
#: the box's process limit on a large machine (RLIMIT_NPROC counts threads).
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives")


@dataclass(frozen=True)
class SandboxIsolation:
    """What the code grader's sandbox enforces here (see :func:`sandbox_isolation`)."""

    #: "box", "network-namespace" or "socket-block" (strongest first).
    level: str
    #: The tool that builds it and how it is run, e.g. "bwrap 0.8.0 as uid 65534".
    tool: str
    #: A PID namespace of its own: no host process visible, no survivor after the grade.
    pid_namespace: bool
    #: Host files hidden: only the interpreter's runtime, read-only; a private work folder.
    host_hidden: bool
    #: "namespace" (no network of any family reaches outside) or "socket-block".
    network: str
    #: A process-count limit that binds (root included).
    process_limit: bool
    #: Why the full box is not in force ("" when it is).
    missing: str = ""

    @property
    def complete(self) -> bool:
        return self.level == "box"


def _bwrap() -> tuple[str | None, str, str]:
    """(bwrap path, version, why it cannot build the box)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "", "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap)"
    try:
        shown = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
        helped = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as error:
        return None, "", f"bwrap does not run: {error}"
    version = shown.stdout.strip().rsplit(" ", 1)[-1]
    flags = ("--size", "--ro-bind-data", "--info-fd")
    needed = ", ".join(flag for flag in flags if flag not in helped.stdout)
    if needed:
        return None, version, f"bwrap {version} is too old (no {needed}; 0.8 or later works)"
    return bwrap, version, ""


@functools.cache
def _tools() -> dict[str, str]:
    found = {name: shutil.which(name) for name in ("setpriv", "unshare", "sh", "mount")}
    return {name: path for name, path in found.items() if path}


@functools.cache
def _disable_userns() -> bool:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    helped = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    return "--disable-userns" in helped.stdout


def _runtime_roots() -> list[str]:
    """The folders the interpreter needs besides /usr: its prefixes (a virtual environment
    and its base), outermost first, none inside another."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates.add(str(Path(sys.executable).parent.parent))
    roots: list[str] = []
    for path in sorted(os.path.abspath(item) for item in candidates):
        if path in ("/", "/usr") or path.startswith("/usr/") or not os.path.isdir(path):
            continue
        if not any(path == root or path.startswith(root + "/") for root in roots):
            roots.append(path)
    return roots


def _reachable_by_others(path: str) -> bool:
    """Whether a user with no relation to the owners can read ``path``."""
    current = Path(path)
    if not os.access(current, os.R_OK) or current.stat().st_mode & 0o005 != 0o005:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in current.parents)


@functools.cache
def _staging() -> tuple[tuple[str, str], ...]:
    """For a root grader: (runtime folder, empty reachable mount point) pairs for the runtime
    folders ``nobody`` cannot reach; the folders are removed when the process exits."""
    unreachable = [root for root in _runtime_roots() if not _reachable_by_others(root)]
    if not unreachable:
        return ()
    parent = tempfile.mkdtemp(prefix="onebench-runtime-")
    os.chmod(parent, 0o755)
    pairs = []
    for number, root in enumerate(unreachable):
        point = os.path.join(parent, str(number))
        os.mkdir(point)
        os.chmod(point, 0o755)
        pairs.append((root, point))
    import atexit

    atexit.register(shutil.rmtree, parent, True)
    return tuple(pairs)


def box_command(
    command: list[str], data_fds: dict[str, int], info_fd: int, tmpfs_bytes: int
) -> list[str]:
    """The argv that runs ``command`` in the box, with ``data_fds`` (name -> readable fd)
    as read-only files in ``/onebench`` and the box's child pid written to ``info_fd``."""
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
    # The harness is the namespace's init (see _box_wire.be_init): bwrap's own init would
    # let bwrap exit before its init is reaped, leaving it a zombie of the host's init.
    args += ["--as-pid-1"]
    args += ["--disable-userns"] if _disable_userns() else []
    args += ["--hostname", "onebench-sandbox", "--ro-bind", "/usr", "/usr"]
    for name in _TOP_LEVEL:
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    root = os.geteuid() == 0
    staged = dict(_staging()) if root else {}
    for path in _runtime_roots():
        args += ["--ro-bind", staged.get(path, path), path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for path in ("/dev/shm", "/tmp", BOX_WORK):
        args += ["--size", str(tmpfs_bytes), "--tmpfs", path]
    args += ["--dir", BOX_FILES]
    for name, fd in data_fds.items():
        args += ["--ro-bind-data", str(fd), f"{BOX_FILES}/{name}"]
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--info-fd", str(info_fd)]
    args += ["--chdir", BOX_WORK, "--clearenv", "--setenv", "PATH", "/usr/bin:/bin"]
    args += ["--setenv", "HOME", BOX_WORK, "--setenv", "LANG", "C.UTF-8"]
    for name, value in THREADS.items():
        args += ["--setenv", name, value]
    args += ["--setenv", "TMPDIR", "/tmp", "--", *command]
    if not root:
        return args
    tools = _tools()
    drop = [tools["setpriv"], f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}"]
    drop += ["--clear-groups", "--", *args]
    if not staged:
        return drop
    # A private mount namespace, so the bind mounts never show on the host.
    script = (
        'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; '
        'shift; exec "$@"'
    )
    binds = [item for pair in staged.items() for item in pair]
    return [tools["unshare"], "--mount", "--", tools["sh"], "-c", script, "sh", *binds, "--", *drop]


@functools.cache
def network_prefix() -> tuple[str, ...] | None:
    """``unshare --net`` (with ``--map-root-user`` for an unprivileged user) when it works."""
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


def _box_missing() -> tuple[str, str]:
    """(tool description, why the box cannot be built: "" when it can)."""
    bwrap, version, why = _bwrap()
    if bwrap is None:
        return "", why
    if sys.platform != "linux":
        return "", "the box needs Linux namespaces"
    as_user = "as the current user"
    if os.geteuid() == 0:
        needed = ["setpriv"] + (["unshare", "sh", "mount"] if _staging() else [])
        absent = [name for name in needed if name not in _tools()]
        if absent:
            return "", (
                f"a root grader needs {', '.join(absent)} (util-linux) to drop to uid {SANDBOX_UID}"
            )
        as_user = f"as uid {SANDBOX_UID}"
    from ._sandbox import probe_box

    failure = probe_box()
    tool = f"bwrap {version} {as_user}"
    return tool, (f"bubblewrap cannot build the box here: {failure}" if failure else "")


@functools.cache
def sandbox_isolation() -> SandboxIsolation:
    """What the code grader's sandbox enforces on this machine (probed once per process by
    running a program in it)."""
    tool, missing = _box_missing()
    if not missing:
        return SandboxIsolation("box", tool, True, True, "namespace", True)
    prefix = network_prefix()
    if prefix is not None:
        tool = " ".join(os.path.basename(part) for part in prefix)
        return SandboxIsolation(
            "network-namespace", tool, False, False, "namespace", False, missing
        )
    return SandboxIsolation("socket-block", "python", False, False, "socket-block", False, missing)
