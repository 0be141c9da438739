"""Code execution: the output's program is run against the sample's tests in two sandboxes
(:mod:`._sandbox`), and it passes when the tests' side reports that every test passed.

The program is the first fenced code block of the output (```python ... ```), else the
whole output. The tests come with the sample: metadata ``tests`` (or ``test``), Python that
raises on failure. With metadata ``entry_point`` (HumanEval style) the tests' ``check``
function is called on it, and the prompt is put before the output when the output does not
define the entry point itself (the model continued the prompt's function).

Why two processes: a verdict read from the program's own process can be forged by the
program (``os._exit(0)`` after a wrong answer, an ``excepthook`` that exits 0, an object whose
``__eq__`` is always true). Here the program runs in one box and the tests in another; the
tests call the program's functions through a pipe and get plain data back, and the verdict,
with a one-time token, comes from the tests' box alone. The grader's limits come from its
configuration (capped); a sample's metadata ``timeout`` can only lower them.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import tempfile
from typing import Any

from ..exceptions import InvalidInputError, OnebenchError
from ._protocol import Grade, GradingSample
from ._registry import register_grader
from ._sandbox import Limits, SandboxProcess, resolve_isolation

__all__ = ["OPERATOR_OPTIONS", "CodeExecution", "extract_program"]

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL)
#: Options only the user may set: a sample's metadata grader_options may not name them.
OPERATOR_OPTIONS = frozenset(
    {"timeout", "memory_mb", "file_mb", "processes", "isolation", "allow_weak_isolation"}
)


def extract_program(output: str) -> str:
    match = _FENCE.search(output)
    return match.group(1) if match else output


class CodeExecution:
    name = "code"
    kind = "binary"
    higher_is_better = True

    def __init__(
        self,
        timeout: float = 10.0,
        memory_mb: int = 512,
        *,
        file_mb: int = 16,
        processes: int = 64,
        isolation: str | None = None,
        allow_weak_isolation: bool = False,
    ) -> None:
        self.limits = Limits(timeout, memory_mb, file_mb, processes)
        #: The isolation level the programs run at (see sandbox_isolation()).
        self.isolation = resolve_isolation(isolation, allow_weak_isolation)

    @property
    def timeout(self) -> float:
        return self.limits.timeout

    @property
    def memory_mb(self) -> int:
        return self.limits.memory_mb

    @property
    def network(self) -> str:
        return "socket-block" if self.isolation == "socket-block" else "namespace"

    def program(self, sample: GradingSample, output: str) -> str:
        """What runs in the program's box: the output's program, after the prompt when
        the program continues the prompt's entry point."""
        program = extract_program(output)
        entry_point = self._entry_point(sample)
        if entry_point and not re.search(rf"\bdef\s+{re.escape(entry_point)}\b", program):
            return f"{sample.text}\n\n{program}\n"
        return program if program.endswith("\n") else program + "\n"

    def tests(self, sample: GradingSample) -> tuple[str, str | None]:
        """The tests' source and the entry point their ``check`` is called on (or None)."""
        tests = sample.metadata.get("tests") or sample.metadata.get("test")
        if not tests:
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: code needs tests (metadata 'tests')", field="tests"
            )
        entry_point = self._entry_point(sample)
        return str(tests), entry_point if entry_point and "check(" in str(tests) else None

    @staticmethod
    def _entry_point(sample: GradingSample) -> str | None:
        entry_point = sample.metadata.get("entry_point")
        if entry_point and not (isinstance(entry_point, str) and entry_point.isidentifier()):
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: entry_point must be a Python name",
                field="entry_point",
            )
        return entry_point or None

    def sample_limits(self, sample: GradingSample) -> Limits:
        """The grader's limits, with the sample's metadata ``timeout`` when it is lower."""
        wanted = sample.metadata.get("timeout")
        timeout = self.limits.timeout
        if isinstance(wanted, (int, float)) and math.isfinite(wanted) and 0 < wanted < timeout:
            timeout = float(wanted)
        return Limits(timeout, self.limits.memory_mb, self.limits.file_mb, self.limits.processes)

    def grade(self, sample: GradingSample, output: str) -> Grade:
        tests, check = self.tests(sample)
        program = self.program(sample, output)
        limits = self.sample_limits(sample)
        token = secrets.token_hex(16)
        verdict = tempfile.TemporaryFile()
        to_program, from_program = os.pipe(), os.pipe()
        boxes: list[SandboxProcess] = []
        try:
            try:
                boxes.append(
                    SandboxProcess(
                        self.isolation,
                        "_box_program.py",
                        {"program": "program.py", "requests_fd": to_program[0]}
                        | {"replies_fd": from_program[1]},
                        {"program.py": program},
                        (to_program[0], from_program[1]),
                        limits,
                    )
                )
                boxes.append(
                    SandboxProcess(
                        self.isolation,
                        "_box_tests.py",
                        {"tests": "tests.py", "check": check, "token": token}
                        | {"requests_fd": to_program[1], "replies_fd": from_program[0]}
                        | {"verdict_fd": verdict.fileno()},
                        {"tests.py": tests},
                        (to_program[1], from_program[0], verdict.fileno()),
                        limits,
                    )
                )
            finally:
                for fd in (*to_program, *from_program):
                    os.close(fd)
            tests_box = boxes[1]
            status = tests_box.wait(tests_box.started + limits.timeout)
            for box in boxes:
                box.kill()
            self._check_started(boxes)
            if status is None:
                return Grade(0.0, f"timed out after {limits.timeout:g}s")
            return _verdict(verdict, token, tests_box)
        finally:
            for box in boxes:
                box.kill()
                box.close()
            verdict.close()

    def _check_started(self, boxes: list[SandboxProcess]) -> None:
        # bwrap reports the box's pid before any of the program runs: a box without one
        # never started, and that is the machine's failure, not a wrong program.
        if self.isolation == "box":
            for box in boxes:
                if box.child_pid is None:
                    raise OnebenchError(
                        f"code grader: the sandbox did not start: {box.output('stderr', 300)}"
                    )


def _verdict(file: Any, token: str, tests_box: SandboxProcess) -> Grade:
    file.seek(0)
    try:
        verdict = json.loads(file.read(100_000) or b"{}")
    except ValueError:
        verdict = {}
    if not isinstance(verdict, dict) or verdict.get("token") != token:
        last = tests_box.output("stderr").strip().splitlines()[-1:]
        return Grade(0.0, (last[0] if last else "the tests gave no verdict")[:300])
    if verdict.get("passed") is True and tests_box.process.returncode == 0:
        return Grade(1.0, "tests passed")
    return Grade(0.0, str(verdict.get("explanation") or "tests failed")[:300])


@register_grader("code", operator_options=OPERATOR_OPTIONS)
def code(
    timeout: float = 10.0,
    memory_mb: int = 512,
    file_mb: int = 16,
    processes: int = 64,
    isolation: str | None = None,
    allow_weak_isolation: bool = False,
) -> CodeExecution:
    return CodeExecution(
        timeout=timeout,
        memory_mb=memory_mb,
        file_mb=file_mb,
        processes=processes,
        isolation=isolation,
        allow_weak_isolation=allow_weak_isolation,
    )
