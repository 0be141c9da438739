"""Exact match after normalisation (case, punctuation, articles and whitespace, as in the
SQuAD evaluation script), against any reference; the output's first line may match too,
since models often add an explanation after the answer."""

from __future__ import annotations

import re
import string
import unicodedata

from ..exceptions import InvalidInputError
from ._protocol import Grade, GradingSample
from ._registry import register_grader

__all__ = ["ExactMatch", "normalise_answer"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise_answer(
    text: str, *, case: bool = False, punctuation: bool = False, articles: bool = False
) -> str:
    """``text`` with Unicode NFKC, and unless kept, case, punctuation and English
    articles removed; whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    if not case:
        text = text.lower()
    if not punctuation:
        text = text.translate(_PUNCTUATION)
    if not articles:
        text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


class ExactMatch:
    name = "exact_match"
    kind = "binary"
    higher_is_better = True

    def __init__(self, case: bool = False, punctuation: bool = False, first_line: bool = True):
        self.keep = {"case": case, "punctuation": punctuation}
        self.first_line = first_line

    def grade(self, sample: GradingSample, output: str) -> Grade:
        if not sample.references:
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: exact_match needs a reference", field="references"
            )
        references = {normalise_answer(reference, **self.keep) for reference in sample.references}
        candidates = [output]
        if self.first_line:
            lines = [line for line in output.strip().splitlines() if line.strip()]
            candidates += lines[:1]
        for candidate in candidates:
            if normalise_answer(candidate, **self.keep) in references:
                return Grade(1.0, "matches a reference")
        return Grade(0.0, "matches no reference")


@register_grader("exact_match")
def exact_match(
    case: bool = False, punctuation: bool = False, first_line: bool = True
) -> ExactMatch:
    return ExactMatch(case=case, punctuation=punctuation, first_line=first_line)
