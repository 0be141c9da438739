"""Regular-expression grading: the output passes when the pattern (the grader's, else the
sample's metadata ``pattern``) is found in it, or matches all of it with ``fullmatch``."""

from __future__ import annotations

import re

from ..exceptions import InvalidInputError
from ._protocol import Grade, GradingSample
from ._registry import register_grader

__all__ = ["RegexMatch"]


class RegexMatch:
    name = "regex"
    kind = "binary"
    higher_is_better = True

    def __init__(
        self, pattern: str | None = None, fullmatch: bool = False, ignore_case: bool = False
    ) -> None:
        self.flags = re.IGNORECASE if ignore_case else 0
        self.fullmatch = fullmatch
        self.pattern = self._compile(pattern, "pattern") if pattern is not None else None

    def _compile(self, pattern: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern, self.flags)
        except re.error as error:
            raise InvalidInputError(
                f"{where}: bad regular expression ({error})", field="pattern"
            ) from error

    def grade(self, sample: GradingSample, output: str) -> Grade:
        pattern = self.pattern
        if pattern is None:
            text = sample.metadata.get("pattern")
            if not text:
                raise InvalidInputError(
                    f"sample {sample.sample_id!r}: regex needs a pattern (grader option or "
                    "metadata 'pattern')",
                    field="pattern",
                )
            pattern = self._compile(str(text), f"sample {sample.sample_id!r} pattern")
        found = pattern.fullmatch(output.strip()) if self.fullmatch else pattern.search(output)
        return Grade(1.0 if found else 0.0, "matches" if found else "no match")


@register_grader("regex")
def regex(
    pattern: str | None = None, fullmatch: bool = False, ignore_case: bool = False
) -> RegexMatch:
    return RegexMatch(pattern=pattern, fullmatch=fullmatch, ignore_case=ignore_case)
