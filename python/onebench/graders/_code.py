"""Code execution: the output's program is run against the sample's tests in a sandbox
(:mod:`._sandbox`); it passes when the process exits with status 0 within the limits.

The program is the first fenced code block of the output (```python ... ```), else the
whole output. The tests come with the sample: metadata ``tests`` (or ``test``), Python that
raises on failure. With metadata ``entry_point`` (HumanEval style) the tests' ``check``
function is called on it, and the prompt is put before the output when the output does not
define the entry point itself (the model continued the prompt's function)."""

from __future__ import annotations

import re

from ..exceptions import InvalidInputError
from ._protocol import Grade, GradingSample
from ._registry import register_grader
from ._sandbox import network_isolation, run_python

__all__ = ["CodeExecution", "extract_program"]

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL)


def extract_program(output: str) -> str:
    match = _FENCE.search(output)
    return match.group(1) if match else output


class CodeExecution:
    name = "code"
    kind = "binary"
    higher_is_better = True

    def __init__(self, timeout: float = 10.0, memory_mb: int = 512, network: str | None = None):
        if timeout <= 0 or memory_mb < 64:
            raise InvalidInputError(
                "code grader: timeout must be > 0 and memory_mb >= 64", field="grader_options"
            )
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.network = network or network_isolation()

    def program(self, sample: GradingSample, output: str) -> str:
        tests = sample.metadata.get("tests") or sample.metadata.get("test")
        if not tests:
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: code needs tests (metadata 'tests')", field="tests"
            )
        program = extract_program(output)
        entry_point = sample.metadata.get("entry_point")
        parts = []
        if entry_point and not re.search(rf"\bdef\s+{re.escape(entry_point)}\b", program):
            parts.append(sample.text)
        parts += [program, str(tests)]
        if entry_point and "check(" in str(tests):
            parts.append(f"check({entry_point})")
        return "\n\n".join(parts) + "\n"

    def grade(self, sample: GradingSample, output: str) -> Grade:
        timeout = float(sample.metadata.get("timeout", self.timeout))
        result = run_python(
            self.program(sample, output),
            timeout=timeout,
            memory_mb=self.memory_mb,
            network=self.network,
        )
        if result.timed_out:
            return Grade(0.0, f"timed out after {timeout:g}s")
        if result.returncode != 0:
            last = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
            return Grade(0.0, last[0][:300])
        return Grade(1.0, "tests passed")


@register_grader("code")
def code(timeout: float = 10.0, memory_mb: int = 512, network: str | None = None) -> CodeExecution:
    return CodeExecution(timeout=timeout, memory_mb=memory_mb, network=network)
