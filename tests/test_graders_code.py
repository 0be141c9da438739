"""Code execution grader: programs run against the sample's tests in a sandbox; an infinite
loop, a memory bomb and a network call are each stopped and graded as failures."""

from __future__ import annotations

import socket
import threading

import pytest
from onebench import InvalidInputError
from onebench.graders import GradingSample, extract_program, load_grader, network_isolation
from onebench.graders._sandbox import run_python

TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"


def code_sample(**metadata: object) -> GradingSample:
    return GradingSample("c1", "Write add(a, b).", (), {"tests": TESTS, **metadata})


def grade(output: str, **options: object) -> tuple[float, str]:
    result = load_grader("code", **options).grade(code_sample(), output)
    return result.score, result.explanation


def test_a_correct_program_passes_and_a_wrong_one_fails() -> None:
    assert grade("def add(a, b):\n    return a + b\n") == (1.0, "tests passed")
    score, explanation = grade("def add(a, b):\n    return a - b\n")
    assert score == 0.0 and "AssertionError" in explanation
    assert grade("this is not python")[0] == 0.0


def test_the_program_is_the_first_fenced_block() -> None:
    output = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nEnjoy."
    assert extract_program(output) == "def add(a, b):\n    return a + b\n"
    assert grade(output)[0] == 1.0


def test_humaneval_style_entry_point_and_check() -> None:
    prompt = 'def add(a, b):\n    """Add two numbers."""\n'
    tests = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
    item = GradingSample("h1", prompt, (), {"test": tests, "entry_point": "add"})
    grader = load_grader("code")
    # The model continued the prompt's function body: the prompt is put before it.
    assert grader.grade(item, "    return a + b\n").score == 1.0
    assert grader.grade(item, "    return a * b\n").score == 0.0
    program = grader.program(item, "    return a + b\n")
    assert program.startswith(prompt) and program.rstrip().endswith("check(add)")


def test_an_infinite_loop_is_stopped_at_the_timeout() -> None:
    score, explanation = grade("def add(a, b):\n    while True:\n        pass\n", timeout=1.5)
    assert score == 0.0 and "timed out" in explanation
    result = run_python("while True:\n    pass\n", timeout=1.0)
    assert result.timed_out and not result.passed and result.seconds < 10


def test_a_memory_bomb_is_stopped_by_the_memory_limit() -> None:
    bomb = "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
    score, explanation = grade(bomb + "def add(a, b):\n    return a + b\n", memory_mb=256)
    assert score == 0.0 and "MemoryError" in explanation
    result = run_python("x = bytearray(4 * 1024 ** 3)\n", memory_mb=256)
    assert result.returncode != 0 and "MemoryError" in result.stderr


@pytest.fixture
def listener() -> tuple[int, list[object]]:
    """A TCP server on 127.0.0.1 that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, address = server.accept()
            except OSError:
                continue
            accepted.append(address)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def _network_program(port: int) -> str:
    return (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "def add(a, b):\n    return a + b\n"
    )


def test_the_listener_is_reachable_without_the_sandbox(listener: tuple[int, list]) -> None:
    # The control: the same connection from an unsandboxed process gets through.
    port, accepted = listener
    socket.create_connection(("127.0.0.1", port), timeout=3).close()
    for _ in range(50):
        if accepted:
            break
        threading.Event().wait(0.05)
    assert accepted


@pytest.mark.parametrize("network", ["namespace", "socket-block"])
def test_a_network_call_fails(network: str, listener: tuple[int, list]) -> None:
    if network == "namespace" and network_isolation() != "namespace":
        pytest.skip("network namespaces (unshare --net) are not available here")
    port, accepted = listener
    score, explanation = grade(_network_program(port), network=network)
    assert score == 0.0
    assert "Network is unreachable" in explanation or "network access is disabled" in explanation
    assert accepted == []


def test_the_grader_reports_which_isolation_it_uses_and_checks_its_tests() -> None:
    assert load_grader("code").network == network_isolation()
    with pytest.raises(InvalidInputError, match="needs tests"):
        load_grader("code").grade(GradingSample("c2", "x"), "pass")
    with pytest.raises(InvalidInputError, match="timeout"):
        load_grader("code", timeout=0)
