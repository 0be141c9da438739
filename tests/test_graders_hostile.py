"""The code grader against hostile programs (tests/hostile_programs.py): every wrong program
fails, no process of a grade is alive afterwards, nothing outside the sandbox is written, no
host socket is reached and the secret planted in the grading process's environment and in a
host file shows nowhere. Controls run the same attacks without the sandbox and see them work.

The box needs bubblewrap and user namespaces (CI installs bubblewrap, see .ci/run); without
them these tests skip, saying why, and the refusal tests at the end still run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from hostile_programs import CASES, SECRET_VARIABLE, Case, Host, planted_host, run_case
from onebench import InvalidInputError, OnebenchError
from onebench.graders import (
    GradingSample,
    SandboxIsolation,
    _isolation,
    _sandbox,
    guess_grader,
    load_grader,
    run_python,
    sandbox_isolation,
)

ISOLATION = sandbox_isolation()
needs_box = pytest.mark.skipif(
    not ISOLATION.complete, reason=f"the sandbox's box is not available here: {ISOLATION.missing}"
)


@pytest.fixture
def host() -> Iterator[Host]:
    with planted_host() as planted:
        yield planted


@needs_box
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_hostile_program_fails_and_leaves_nothing_behind(case: Case, host: Host) -> None:
    outcome = run_case(case, host)
    assert outcome.score == (1.0 if case.right else 0.0), outcome.explanation
    assert outcome.survivors == [], "processes of the grade are still alive"
    assert outcome.changed_files == []
    assert outcome.accepted == [], "a host socket accepted a connection"
    assert not outcome.secret_seen
    # Bounded by the grader's timeout (plus the two boxes' start), never by the program.
    assert outcome.seconds < case.timeout + 10


def _unsandboxed(program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", program], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "name",
    [
        "reads /proc/<parent>/environ and every environ",
        "reads host files",
        "connects to host Unix (path, abstract) and TCP sockets",
        "writes and overwrites host files",
    ],
)
def test_the_attacks_work_without_the_sandbox(name: str, host: Host) -> None:
    """The controls: the same programs, run as a plain process, find what the box hides."""
    case = next(case for case in CASES if case.name == name)
    result = _unsandboxed(case.program(host))
    if name.startswith("reads"):
        assert host.secret in result.stderr
    elif name.startswith("connects"):
        # Unix path, abstract Unix and TCP on 127.0.0.1 (the host listens on IPv4 only).
        assert result.stderr.count("'connected'") == 3, result.stderr
        for _ in range(100):
            if len(host.accepted) == 3:
                break
            time.sleep(0.05)
        assert sorted(host.accepted) == ["abstract", "tcp", "unix"]
    else:
        assert host.victim.read_text() == "overwritten by the sandbox"
        assert (host.folder / "created.txt").exists()


def _run(program: str, **limits: object) -> subprocess.CompletedProcess[str]:
    result = run_python(program, **limits)  # type: ignore[arg-type]
    assert not result.timed_out, result.stderr
    return subprocess.CompletedProcess([], result.returncode, result.stdout, result.stderr)


@needs_box
def test_the_box_shows_only_the_runtime_and_its_own_processes(host: Host) -> None:
    program = (
        "import os, json\n"
        f"roots = {_isolation._runtime_roots()!r}\n"
        "paths = {'/': sorted(os.listdir('/'))}\n"
        "for root in roots:\n"
        "    parts = root.strip('/').split('/')\n"
        "    for depth in range(1, len(parts)):\n"
        "        folder = '/' + '/'.join(parts[:depth])\n"
        "        paths[folder] = sorted(os.listdir(folder))\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "print(json.dumps({'paths': paths, 'pids': pids, 'pid': os.getpid(),\n"
        "                  'parent': os.getppid(), 'environ': sorted(os.environ)}))\n"
    )
    seen = json.loads(_run(program).stdout)
    fixed = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "dev"}
    fixed |= {"tmp", "sandbox", "onebench"}
    roots = _isolation._runtime_roots()
    assert set(seen["paths"]["/"]) <= fixed | {root.split("/")[1] for root in roots}
    for root in roots:  # each folder above a runtime root holds only the way down
        parts = root.strip("/").split("/")
        for depth in range(1, len(parts)):
            assert seen["paths"]["/" + "/".join(parts[:depth])] == [parts[depth]]
    # Its own PID namespace: the harness's init (1), the program (2), nothing of the host.
    assert (seen["pid"], seen["parent"], seen["pids"]) == (2, 1, [1, 2])
    assert set(seen["environ"]) <= {"PATH", "HOME", "LANG", "TMPDIR", "PWD", *_isolation.THREADS}


@needs_box
def test_the_box_is_read_only_but_its_work_folder_and_bounded() -> None:
    program = (
        "import os\n"
        "for path in ['/usr/onebench-test', '/onebench-test', '/etc/onebench-test']:\n"
        "    try:\n        open(path, 'w')\n        print('wrote', path)\n"
        "    except OSError as error:\n        print('refused', path, error.errno)\n"
        "written = 0\n"
        "try:\n"
        "    for n in range(100):\n"
        "        with open(f'/sandbox/{n}', 'wb') as f:\n"
        "            f.write(b'x' * (1 << 20))\n"
        "        written += 1\n"
        "except OSError as error:\n"
        "    print('full after', written, 'MiB', error.errno)\n"
    )
    out = _run(program, file_mb=2).stdout
    assert "wrote" not in out and out.count("refused") == 3
    # /sandbox is a tmpfs of 4 x file_mb: the eighth 1 MiB file does not fit.
    assert "full after 7 MiB" in out or "full after 8 MiB" in out, out


@needs_box
def test_the_process_limit_binds_even_for_a_root_grader() -> None:
    program = (
        "import os, time\n"
        "made = 0\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        made += 1\n"
        "except OSError as error:\n"
        "    print('stopped after', made, error.errno)\n"
    )
    out = _run(program, processes=16, timeout=20).stdout
    # 16 processes of the box's user: the init, the program and 14 children (EAGAIN = 11).
    assert out.strip() == "stopped after 14 11", out
    assert ISOLATION.process_limit and (os.geteuid() != 0 or "65534" in ISOLATION.tool)


@needs_box
def test_sandbox_isolation_reports_the_box() -> None:
    assert ISOLATION == SandboxIsolation("box", ISOLATION.tool, True, True, "namespace", True, "")
    assert ISOLATION.tool.startswith("bwrap ")
    assert load_grader("code").isolation == "box"


def _weak(missing: str = "bubblewrap is not installed") -> SandboxIsolation:
    return SandboxIsolation("socket-block", "python", False, False, "socket-block", False, missing)


def test_weak_isolation_is_refused_unless_the_user_opts_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(_isolation.ALLOW_WEAK_VARIABLE, raising=False)
    monkeypatch.setattr(_sandbox, "sandbox_isolation", _weak)
    with pytest.raises(OnebenchError, match=r"refusing to run untrusted code.*bubblewrap"):
        load_grader("code")
    with pytest.raises(OnebenchError, match="refusing"):
        run_python("print(1)")
    with pytest.raises(OnebenchError, match="the box is not available here"):
        load_grader("code", isolation="box")
    grader = load_grader("code", allow_weak_isolation=True)
    assert grader.isolation == "socket-block"
    sample = GradingSample("c", "x", (), {"tests": "assert twice(2) == 4"})
    assert grader.grade(sample, "def twice(x):\n    return 2 * x\n").score == 1.0
    monkeypatch.setenv(_isolation.ALLOW_WEAK_VARIABLE, "1")
    assert load_grader("code").isolation == "socket-block"
    with pytest.raises(InvalidInputError, match="isolation"):
        load_grader("code", isolation="chroot")


def test_sample_data_cannot_loosen_the_grader() -> None:
    for options in ({"timeout": 100}, {"allow_weak_isolation": True}, {"memory_mb": 9000}):
        sample = GradingSample(
            "c", "x", (), {"tests": "pass", "grader": "code", "grader_options": options}
        )
        with pytest.raises(InvalidInputError, match="may not set"):
            guess_grader(sample)
    # A metadata timeout only lowers the grader's own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_isolation.ALLOW_WEAK_VARIABLE, "1")
        grader = load_grader("code", timeout=3)
    lowered = GradingSample("c", "x", (), {"tests": "pass", "timeout": 1})
    raised = GradingSample("c", "x", (), {"tests": "pass", "timeout": 25})
    assert grader.sample_limits(lowered).timeout == 1
    assert grader.sample_limits(raised).timeout == 3


def test_limits_are_capped() -> None:
    for options in ({"timeout": 10_000}, {"memory_mb": 10**6}, {"processes": 10**5}):
        with pytest.raises(InvalidInputError, match="must be in"):
            load_grader("code", allow_weak_isolation=True, **options)


def test_the_secret_variable_is_not_in_the_plain_environment_of_a_box() -> None:
    """The environment the grader passes to its boxes carries nothing of its own."""
    os.environ[SECRET_VARIABLE] = "not-for-the-box"
    try:
        box = _sandbox.SandboxProcess(
            "socket-block",
            "_box_program.py",
            {"mode": "run", "program": "program.py"},
            {"program.py": "import os\nprint(sorted(os.environ))\n"},
        )
        box.wait(box.started + 30)
        box.kill()
        assert SECRET_VARIABLE not in box.output("stdout")
        assert "PATH" in box.output("stdout")
        box.close()
    finally:
        del os.environ[SECRET_VARIABLE]
