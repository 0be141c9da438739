"""Code execution grader: programs run against the sample's tests in a sandbox; an infinite
loop, a memory bomb and a network call are each stopped and graded as failures, and honest
programs pass whatever shape their results take. Hostile programs: test_graders_hostile.py.

Where the box (bubblewrap) is missing, these run at the weaker level the machine has, opted
in explicitly: what they check is the grading, not the isolation."""

from __future__ import annotations

import socket
import threading

import pytest
from onebench import InvalidInputError
from onebench.graders import (
    GradingSample,
    extract_program,
    load_grader,
    network_isolation,
    run_python,
    sandbox_isolation,
)
from onebench.graders._isolation import ALLOW_WEAK_VARIABLE, network_prefix

TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"


@pytest.fixture(autouse=True)
def weak_isolation_without_the_box(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sandbox_isolation().complete:
        monkeypatch.setenv(ALLOW_WEAK_VARIABLE, "1")


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
    # The program's box gets the prompt and the output, never the tests; the tests' box
    # calls check on the entry point.
    program = grader.program(item, "    return a + b\n")
    assert program.startswith(prompt) and "check" not in program
    assert grader.tests(item) == (tests, "add")


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


@pytest.mark.parametrize("isolation", ["box", "network-namespace", "socket-block"])
def test_a_network_call_fails(isolation: str, listener: tuple[int, list]) -> None:
    if isolation == "box" and not sandbox_isolation().complete:
        pytest.skip(f"the box is not available here: {sandbox_isolation().missing}")
    if isolation == "network-namespace" and network_prefix() is None:
        pytest.skip("network namespaces (unshare --net) are not available here")
    port, accepted = listener
    weak = isolation != "box"
    score, explanation = grade(
        _network_program(port), isolation=isolation, allow_weak_isolation=weak
    )
    assert score == 0.0
    # The box's own loopback is up but empty; a bare network namespace has none.
    reasons = ("Connection refused", "Network is unreachable", "network access is disabled")
    assert any(reason in explanation for reason in reasons), explanation
    assert accepted == []


def test_the_grader_reports_which_isolation_it_uses_and_checks_its_tests() -> None:
    assert load_grader("code").network == network_isolation()
    with pytest.raises(InvalidInputError, match="needs tests"):
        load_grader("code").grade(GradingSample("c2", "x"), "pass")
    with pytest.raises(InvalidInputError, match="timeout"):
        load_grader("code", timeout=0)


HONEST = [
    # (program, tests): what honest code and ordinary test suites do across the boxes.
    (
        "def shapes():\n    return (1, 2), {3}, {'a': [1.5]}, float('inf'), None, b'x', 1j\n",
        "t, s, d, inf, none, data, z = shapes()\n"
        "assert (t, s, d, none, data, z) == ((1, 2), {3}, {'a': [1.5]}, None, b'x', 1j)\n"
        "assert inf == float('inf') and isinstance(t, tuple)\n",
    ),
    (
        "def count(n):\n    yield from range(n)\n",
        "assert list(count(3)) == [0, 1, 2]\nassert next(count(2)) == 0\n"
        "assert [x * 2 for x in count(2)] == [0, 2]\n",
    ),
    (
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __len__(self):\n        return len(self.items)\n",
        "s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2 and len(s) == 1\n"
        "assert s.items == [1]\n",
    ),
    (
        "def sort_in_place(xs):\n    xs.sort()\n",
        "xs = [3, 1, 2]\nassert sort_in_place(xs) is None\nassert xs == [1, 2, 3]\n",
    ),
    (
        "def root(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x ** 0.5\n",
        "try:\n    root(-1)\nexcept ValueError as error:\n    assert 'negative' in str(error)\n"
        "else:\n    raise AssertionError('no error')\nassert root(4) == 2.0\n",
    ),
    (
        "import math\ndef hyp(a, b):\n    return math.hypot(a, b)\n",
        "assert math.isclose(hyp(3, 4), 5.0)\n",
    ),
    (
        "import numpy as np\ndef stats(xs):\n    a = np.asarray(xs)\n"
        "    return a.mean(), a * 2, np.int64(a.sum())\n",
        "mean, doubled, total = stats([1, 2, 3])\n"
        "assert mean == 2.0 and list(doubled) == [2, 4, 6] and total == 6\n",
    ),
    (
        "import multiprocessing\ndef squares(n):\n"
        "    with multiprocessing.Pool(2) as pool:\n        return pool.map(abs, range(-n, 0))\n",
        "assert squares(3) == [3, 2, 1]\n",
    ),
    (
        "def add(a, b):\n    return a + b\n",
        "import unittest\nclass T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n"
        "unittest.main()\n",
    ),
]


@pytest.mark.parametrize(("program", "tests"), HONEST, ids=lambda value: value[:24])
def test_honest_programs_and_test_suites_pass(program: str, tests: str) -> None:
    grade = load_grader("code").grade(GradingSample("ok", "x", (), {"tests": tests}), program)
    assert (grade.score, grade.explanation) == (1.0, "tests passed")


def test_helpers_of_the_prompt_are_reachable_from_the_tests() -> None:
    # HumanEval/32: the tests call poly(), which the prompt defines next to the entry point.
    prompt = "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\n"
    prompt += "def find_zero(xs):\n"
    tests = "def check(candidate):\n    assert abs(poly([-6, 1], candidate([-6, 1]))) < 1e-6\n"
    item = GradingSample("h32", prompt, (), {"test": tests, "entry_point": "find_zero"})
    assert load_grader("code").grade(item, "    return -xs[0] / xs[1]\n").score == 1.0
    assert load_grader("code").grade(item, "    return 0.0\n").score == 0.0
