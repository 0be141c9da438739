"""LLM-as-judge, pairwise: a judge model compares two outputs for a sample, with the
reference answer when there is one.

Every pair is judged twice, once with output a shown first and once with b shown first, to
cancel position bias: the verdict stands only when both orders pick the same output;
orders that disagree (or both say tie) make a tie. A pair whose judgement cannot be read
in either order gets no verdict (``winner`` None), so a broken judge adds no measurements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..infer._runner import Prompt, Runner
from ._protocol import GradingSample, Verdict
from ._registry import register_grader

__all__ = ["DEFAULT_TEMPLATE", "PairwiseJudge", "read_verdict"]

DEFAULT_TEMPLATE = """\
You are judging two answers to the same question. Decide which answer is better: more \
correct first, then more helpful and clear.

[Question]
{question}
{reference}
[Answer A]
{first}

[Answer B]
{second}

Reply with exactly one of [[A]], [[B]] or [[tie]]."""

_BRACKETED = re.compile(r"\[\[\s*(A|B|tie)\s*\]\]", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(?:Answer\s+)?(A|B)\b")


def read_verdict(text: str) -> str:
    """'A', 'B', 'tie', or '?' when the judge's reply names none."""
    match = _BRACKETED.search(text) or _LEADING.match(text)
    if match is None:
        return "?"
    value = match.group(1)
    return "tie" if value.lower() == "tie" else value.upper()


class PairwiseJudge:
    name = "judge_pairwise"
    kind = "pairwise"

    def __init__(self, runner: Runner, template: str = DEFAULT_TEMPLATE) -> None:
        self.runner = runner
        self.judge = runner.model
        self.template = template

    def _prompt(self, sample: GradingSample, first: str, second: str) -> str:
        reference = ""
        if sample.references:
            reference = "\n[Reference answer]\n" + "\n".join(sample.references) + "\n"
        return self.template.format(
            question=sample.text, reference=reference, first=first, second=second
        )

    def compare(self, items: Sequence[tuple[GradingSample, str, str]]) -> list[Verdict]:
        prompts = []
        for index, (sample, output_a, output_b) in enumerate(items):
            prompts.append(Prompt(f"{index}/ab", self._prompt(sample, output_a, output_b)))
            prompts.append(Prompt(f"{index}/ba", self._prompt(sample, output_b, output_a)))
        replies = {
            generation.sample_id: ("" if generation.error else generation.text)
            for generation in self.runner.generate(prompts)
        }
        # Map each order's pick back to a/b: in the swapped order "A" is output b.
        as_shown = {"A": "a", "B": "b", "tie": "tie", "?": "?"}
        swapped = {"A": "b", "B": "a", "tie": "tie", "?": "?"}
        verdicts = []
        for index in range(len(items)):
            first = as_shown[read_verdict(replies.get(f"{index}/ab", ""))]
            second = swapped[read_verdict(replies.get(f"{index}/ba", ""))]
            if first == "?" and second == "?":
                winner = None
            elif first == second:
                winner = first
            else:
                winner = "tie"  # the orders disagree (or one is unreadable): position bias
            verdicts.append(Verdict(winner, first, second))
        return verdicts


@register_grader("judge_pairwise")
def judge_pairwise(runner: Any, template: str = DEFAULT_TEMPLATE) -> PairwiseJudge:
    return PairwiseJudge(runner, template=template)
