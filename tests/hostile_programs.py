"""Hostile programs for the code grader, and what the host watches while each one runs.

Every case is a model output for the task "solve(x) returns twice x"; all are wrong except
where ``right`` says so. :func:`run_case` grades one through the public grader
(``load_grader("code")``) and reports the verdict, the time, the processes of the grade still
alive afterwards (any process left in one of the grade's PID namespaces, or carrying the
case's marker), the host files it changed, the connections the host's sockets accepted and
whether the planted secret shows anywhere. Used by ``tests/test_graders_hostile.py`` and
``benches/hostile_grader_bench.py`` (the README's table).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onebench.graders import GradingSample, _sandbox, load_grader

TASK = "Write solve(x), which returns twice x."
TESTS = "assert solve(2) == 4\nassert solve(5) == 10\n"
WRONG = "def solve(x):\n    return 0\n"
RIGHT = "def solve(x):\n    return 2 * x\n"
SECRET_VARIABLE = "ONEBENCH_HOSTILE_SECRET"


@dataclass
class Host:
    """What the host plants: a secret (in the grading process's environment and in a file
    anyone may read), a file anyone may overwrite, and listening sockets anyone may reach."""

    folder: Path
    secret: str
    marker: str  # digits: sandboxed `sleep 600.<marker>` processes carry it
    accepted: list[str] = field(default_factory=list)
    tcp_port: int = 0

    @property
    def secret_file(self) -> Path:
        return self.folder / "secret.txt"

    @property
    def victim(self) -> Path:
        return self.folder / "victim.txt"

    @property
    def unix_path(self) -> Path:
        return self.folder / "host.sock"

    @property
    def abstract_name(self) -> str:
        return f"\0onebench-hostile-{self.marker}"

    def write_targets(self) -> list[Path]:
        """Paths a program tries to create; none may exist afterwards."""
        name = f"hostile-{self.marker}"
        return [
            self.folder / "created.txt",
            Path(tempfile.gettempdir()) / name,
            Path.cwd() / name,
            Path(os.__file__).parent / name,
            Path.home() / name,
        ]


@contextmanager
def planted_host() -> Iterator[Host]:
    folder = Path(tempfile.mkdtemp(prefix="onebench-hostile-"))
    folder.chmod(0o777)
    host = Host(folder, secrets.token_hex(16), str(secrets.randbelow(10**9)).zfill(9))
    host.secret_file.write_text(host.secret)
    host.secret_file.chmod(0o644)
    host.victim.write_text("original")
    host.victim.chmod(0o666)
    listeners = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)]
    listeners[0].bind(str(host.unix_path))
    host.unix_path.chmod(0o777)
    listeners[1].bind(host.abstract_name)
    listeners.append(socket.create_server(("127.0.0.1", 0)))
    host.tcp_port = listeners[-1].getsockname()[1]
    stop = threading.Event()

    def serve(listener: socket.socket, label: str) -> None:
        listener.listen(16)
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            host.accepted.append(label)
            connection.close()

    threads = [
        threading.Thread(target=serve, args=(listener, label), daemon=True)
        for listener, label in zip(listeners, ("unix", "abstract", "tcp"), strict=True)
    ]
    for thread in threads:
        thread.start()
    previous = os.environ.get(SECRET_VARIABLE)
    os.environ[SECRET_VARIABLE] = host.secret
    try:
        yield host
    finally:
        if previous is None:
            os.environ.pop(SECRET_VARIABLE, None)
        else:
            os.environ[SECRET_VARIABLE] = previous
        stop.set()
        for thread in threads:
            thread.join()
        for listener in listeners:
            listener.close()
        shutil.rmtree(folder, ignore_errors=True)
        for target in host.write_targets()[1:]:
            target.unlink(missing_ok=True)


_DAEMON = """\
import os, subprocess
def daemon(marker):
    # Double fork and setsid: the grandchild belongs to no session or parent of the grade.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "600." + marker])
        os._exit(0)
    os.wait()
"""

_ENVIRONMENTS = """\
import os
found = [repr(dict(os.environ))]
for pid in {os.getppid(), 1, *(int(p) for p in os.listdir("/proc") if p.isdigit())}:
    try:
        found.append(open(f"/proc/{pid}/environ", "rb").read().decode("latin-1"))
    except OSError as error:
        found.append(f"{pid}: {error}")
"""


@dataclass(frozen=True)
class Case:
    name: str
    program: Callable[[Host], str]
    right: bool = False
    timeout: float = 5.0
    processes: int = 64
    metadata: dict[str, Any] = field(default_factory=dict)


def _forge(host: Host) -> str:
    return (
        WRONG
        + "import os, json\n"
        + "fake = json.dumps({'passed': True, 'explanation': 'tests passed'}).encode()\n"
        + "paths = ['/proc/self/fd/' + fd for fd in os.listdir('/proc/self/fd')]\n"
        + "paths += [f'/proc/{p}/fd/{fd}' for p in os.listdir('/proc') if p.isdigit()\n"
        + "          for fd in (os.listdir(f'/proc/{p}/fd') if os.access(f'/proc/{p}/fd', 4)"
        + " else [])]\n"
        + "for path in paths:\n"
        + "    try:\n"
        + "        with open(path, 'wb') as file:\n"
        + "            file.write(fake)\n"
        + "    except OSError:\n"
        + "        pass\n"
        + "os._exit(0)\n"
    )


def _reads(host: Host) -> str:
    return (
        "import os\nfound = []\n"
        + f"for path in [{str(host.secret_file)!r}, f'/proc/{{os.getppid()}}/cwd/secret.txt',\n"
        + "             os.path.expanduser('~/.bash_history'), '/etc/shadow']:\n"
        + "    try:\n        found.append(open(path).read())\n"
        + "    except OSError as error:\n        found.append(str(error))\n"
        + "raise RuntimeError(' | '.join(found))\n"
    )


def _writes(host: Host) -> str:
    targets = [str(path) for path in host.write_targets()]
    return (
        f"for path in [{str(host.victim)!r}, *{targets!r}]:\n"
        + "    try:\n        open(path, 'w').write('overwritten by the sandbox')\n"
        + "    except OSError:\n        pass\n"
        + WRONG
    )


def _sockets(host: Host) -> str:
    return (
        "import socket\nresults = []\n"
        + f"for family, address in [(socket.AF_UNIX, {str(host.unix_path)!r}),\n"
        + f"                        (socket.AF_UNIX, {host.abstract_name!r}),\n"
        + f"                        (socket.AF_INET, ('127.0.0.1', {host.tcp_port})),\n"
        + f"                        (socket.AF_INET6, ('::1', {host.tcp_port}))]:\n"
        + "    try:\n"
        + "        with socket.socket(family) as s:\n"
        + "            s.settimeout(2)\n            s.connect(address)\n"
        + "            results.append('connected')\n"
        + "    except OSError as error:\n        results.append(str(error))\n"
        + "raise RuntimeError(repr(results))\n"
    )


def _children(host: Host) -> str:
    return (
        RIGHT
        + "import subprocess\n"
        + f"kids = [subprocess.Popen(['sleep', '600.{host.marker}']) for _ in range(100)]\n"
    )


def _storm(host: Host) -> str:
    storm = "import os\\nwhile True:\\n    try:\\n        os.fork()\\n"
    storm += "    except OSError:\\n        pass"
    return (
        "import os, sys\n"
        + f"os.execv(sys.executable, [sys.executable, '-c', '{storm}', '{host.marker}'])\n"
    )


CASES = [
    Case("os._exit(0) after a wrong solve", lambda host: WRONG + "import os\nos._exit(0)\n"),
    Case("sys.exit(0) after a wrong solve", lambda host: WRONG + "import sys\nsys.exit(0)\n"),
    Case(
        "sys.excepthook that exits 0",
        lambda host: "import os, sys\nsys.excepthook = lambda *a: os._exit(0)\n" + WRONG,
    ),
    Case(
        "atexit handler that exits 0",
        lambda host: "import atexit, os\natexit.register(lambda: os._exit(0))\n" + WRONG,
    ),
    Case(
        "result whose __eq__ is always true",
        lambda host: (
            "class Same:\n    def __eq__(self, other):\n        return True\n"
            "    __ne__ = lambda self, other: False\n"
            "def solve(x):\n    return Same()\n"
        ),
    ),
    Case(
        "int subclass equal to everything",
        lambda host: (
            "class Same(int):\n    __eq__ = lambda self, other: True\n"
            "def solve(x):\n    return Same(0)\n"
        ),
    ),
    Case("forged verdict written to every reachable fd", _forge),
    Case(
        "reads /proc/<parent>/environ and every environ",
        lambda host: _ENVIRONMENTS + "raise RuntimeError(' | '.join(found))\n",
    ),
    Case("reads host files", _reads),
    Case("writes and overwrites host files", _writes),
    Case("connects to host Unix (path, abstract) and TCP sockets", _sockets),
    Case("os.kill(os.getppid(), 9)", lambda host: "import os\nos.kill(os.getppid(), 9)\n" + WRONG),
    Case(
        "os.kill(-1, 9)",
        # Only inside a PID namespace of its own (pid 2, under the box's init): never on a host.
        lambda host: (
            "import os, subprocess\nif os.getpid() != 2 or os.getppid() != 1:\n"
            f"    os._exit(3)\nchild = subprocess.Popen(['sleep', '600.{host.marker}'])\n"
            "os.kill(-1, 9)\nassert child.wait() == -9\n" + WRONG
        ),
    ),
    Case("100 children left after a right solve", _children, right=True, processes=256),
    Case(
        "setsid double-forked daemon, then a timeout",
        lambda host: _DAEMON + f"daemon('{host.marker}')\nwhile True:\n    pass\n",
        timeout=2.0,
    ),
    Case(
        "setsid double-forked daemon after a wrong solve",
        lambda host: _DAEMON + f"daemon('{host.marker}')\n" + WRONG,
    ),
    Case("fork storm", _storm, timeout=2.0, processes=32),
    Case(
        "huge output (stdout forever)",
        lambda host: "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    ),
    Case(
        "memory bomb",
        lambda host: "blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n",
    ),
    Case(
        "metadata timeout of 25 s on an endless loop",
        lambda host: "while True:\n    pass\n",
        timeout=2.0,
        metadata={"timeout": 25},
    ),
]


@dataclass(frozen=True)
class Outcome:
    case: str
    score: float
    explanation: str
    seconds: float
    survivors: list[int]
    changed_files: list[str]
    accepted: list[str]
    secret_seen: bool

    @property
    def held(self) -> bool:
        """Everything the sandbox promises held for this case."""
        return not (self.survivors or self.changed_files or self.accepted or self.secret_seen)


def _pid_namespace(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def survivors(namespaces: set[str], marker: str) -> list[int]:
    """Processes in one of ``namespaces`` (``pid:[inode]``) or whose command line carries
    ``marker``."""
    alive = []
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in command or _pid_namespace(pid) in namespaces:
            alive.append(int(pid))
    return alive


@dataclass
class Recorded:
    """A sandbox started during a grade: its PID namespace and everything it printed."""

    pid_namespace: int | None = None
    output: str = ""


@contextmanager
def recorded_boxes() -> Iterator[list[Recorded]]:
    """Every sandbox started inside the block."""
    boxes: list[Recorded] = []
    start, close = _sandbox.SandboxProcess.__post_init__, _sandbox.SandboxProcess.close

    def record(self: _sandbox.SandboxProcess) -> None:
        start(self)
        self.recorded = Recorded(self.pid_namespace)  # type: ignore[attr-defined]
        boxes.append(self.recorded)  # type: ignore[attr-defined]

    def keep_output(self: _sandbox.SandboxProcess) -> None:
        recorded = getattr(self, "recorded", None)
        if recorded is not None:
            recorded.output = self.output("stdout", 1 << 20) + self.output("stderr", 1 << 20)
        close(self)

    _sandbox.SandboxProcess.__post_init__ = record  # type: ignore[method-assign]
    _sandbox.SandboxProcess.close = keep_output  # type: ignore[method-assign]
    try:
        yield boxes
    finally:
        _sandbox.SandboxProcess.__post_init__ = start  # type: ignore[method-assign]
        _sandbox.SandboxProcess.close = close  # type: ignore[method-assign]


def run_case(case: Case, host: Host) -> Outcome:
    grader = load_grader("code", timeout=case.timeout, processes=case.processes)
    sample = GradingSample("hostile", TASK, (), {"tests": TESTS, **case.metadata})
    program = case.program(host)
    with recorded_boxes() as boxes:
        started = time.perf_counter()
        grade = grader.grade(sample, program)
        seconds = time.perf_counter() - started
    namespaces = {f"pid:[{box.pid_namespace}]" for box in boxes if box.pid_namespace}
    changed = [str(path) for path in host.write_targets() if path.exists()]
    if host.victim.read_text() != "original":
        changed.append(str(host.victim))
    seen = host.secret in grade.explanation or any(host.secret in box.output for box in boxes)
    return Outcome(
        case.name,
        grade.score,
        grade.explanation,
        seconds,
        survivors(namespaces, host.marker),
        changed,
        list(host.accepted),
        seen,
    )
