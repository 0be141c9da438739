"""Numeric answers within a tolerance: the answer is the number after a marker such as
``####`` or "answer is", else the last number of the output; the reference's number is
found the same way (so GSM8K-style worked references work)."""

from __future__ import annotations

import math
import re

from ..exceptions import InvalidInputError
from ._protocol import Grade, GradingSample
from ._registry import register_grader

__all__ = ["NumericMatch", "extract_number"]

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER_RE = re.compile(rf"(?<![\w.])({_NUMBER})(?:\s*/\s*(\d+))?")
_MARKERS = re.compile(r"(?:####|answer is|answer:|=)\s*\$?\s*", re.IGNORECASE)


def extract_number(text: str) -> float | None:
    """The answer's number in ``text`` (commas, ``$``, ``%`` and ``p/q`` fractions
    understood), or ``None``."""
    markers = list(_MARKERS.finditer(text))
    if markers:
        value = _numbers(text[markers[-1].end() :])
        if value:
            return value[0]
    values = _numbers(text)
    return values[-1] if values else None


def _numbers(text: str) -> list[float]:
    values = []
    for match in _NUMBER_RE.finditer(text):
        body, denominator = match.group(1), match.group(2)
        if not any(character.isdigit() for character in body):
            continue
        try:
            value = float(body.replace(",", ""))
        except ValueError:
            continue
        if denominator and float(denominator) != 0:
            value /= float(denominator)
        values.append(value)
    return values


class NumericMatch:
    name = "numeric"
    kind = "binary"
    higher_is_better = True

    def __init__(self, tolerance: float = 1e-6, relative_tolerance: float = 1e-6) -> None:
        if tolerance < 0 or relative_tolerance < 0:
            raise InvalidInputError("tolerance: must be >= 0", field="tolerance")
        self.tolerance = tolerance
        self.relative_tolerance = relative_tolerance

    def grade(self, sample: GradingSample, output: str) -> Grade:
        found = [extract_number(reference) for reference in sample.references]
        expected = [value for value in found if value is not None]
        if not expected:
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: numeric needs a reference with a number",
                field="references",
            )
        # A sample may set its own tolerance (say, for answers rounded to cents).
        tolerance = float(sample.metadata.get("tolerance", self.tolerance))
        got = extract_number(output)
        if got is None:
            return Grade(0.0, "no number in the output")
        for value in expected:
            if math.isclose(got, value, rel_tol=self.relative_tolerance, abs_tol=tolerance):
                return Grade(1.0, f"{got} matches {value}")
        return Grade(0.0, f"{got} is not {expected[0]}")


@register_grader("numeric")
def numeric(tolerance: float = 1e-6, relative_tolerance: float = 1e-6) -> NumericMatch:
    return NumericMatch(tolerance=tolerance, relative_tolerance=relative_tolerance)
