"""Multiple choice: the letter the output picks against the reference's letter.

The output's letter is, in order of trust: one after "answer is" / "Answer:", a
parenthesised "(C)", or a letter standing alone at the start ("C", "C.", "C)"). Only
letters of the sample's options count (from metadata ``choices`` or the "(A) ..." lines of
its text). The reference's letter is its leading letter ("E: $98.92", "(E)", "E") or
metadata ``answer``."""

from __future__ import annotations

import re

from ..exceptions import InvalidInputError
from ._protocol import Grade, GradingSample
from ._registry import register_grader

__all__ = ["MultipleChoice", "extract_letter"]

# Case-sensitive letters: "the answer is a ..." must not read as option A.
_ANSWER_IS = re.compile(r"[Aa]nswer\s*(?:[Ii]s)?\s*:?\s*\(?([A-Z])\b")
_PARENTHESISED = re.compile(r"\(([A-Z])\)")
_LEADING = re.compile(r"^\s*\**\(?([A-Z])(?:[).:\s]|$)")
_OPTION_LINE = re.compile(r"(?m)^\s*\(?([A-Z])[).:]\s")
_REFERENCE = re.compile(r"^\s*\(?([A-Z])\)?(?:[:.)]|\s|$)")


def extract_letter(output: str, letters: str) -> str | None:
    """The option letter ``output`` picks among ``letters``, or ``None``."""
    for pattern in (_ANSWER_IS, _PARENTHESISED, _LEADING):
        for match in pattern.finditer(output):
            letter = match.group(1).upper()
            if letter in letters:
                return letter
    return None


def _letters(sample: GradingSample) -> str:
    choices = sample.metadata.get("choices")
    if isinstance(choices, list) and choices:
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(choices)]
    found = "".join(sorted(set(_OPTION_LINE.findall(sample.text))))
    return found or "ABCD"


class MultipleChoice:
    name = "multiple_choice"
    kind = "binary"
    higher_is_better = True

    def grade(self, sample: GradingSample, output: str) -> Grade:
        answer = sample.metadata.get("answer")
        if not (isinstance(answer, str) and len(answer.strip()) == 1):
            match = _REFERENCE.match(sample.references[0]) if sample.references else None
            if match is None:
                raise InvalidInputError(
                    f"sample {sample.sample_id!r}: multiple_choice needs a reference letter",
                    field="references",
                )
            answer = match.group(1)
        answer = answer.strip().upper()
        picked = extract_letter(output, _letters(sample))
        if picked is None:
            return Grade(0.0, "no option letter in the output")
        return Grade(float(picked == answer), f"picked {picked}, answer {answer}")


@register_grader("multiple_choice")
def multiple_choice() -> MultipleChoice:
    return MultipleChoice()
