"""What a grader is: a named function from (sample, output) to a score, or for judges
from (sample, output a, output b) to a verdict."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["Grade", "Grader", "GradingSample", "PairwiseGrader", "Verdict"]


@dataclass(frozen=True)
class GradingSample:
    """The parts of a pool sample a grader may look at."""

    sample_id: str
    text: str
    references: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GradingSample:
        """From a row of ``Pool.samples()`` (``metadata`` is JSON text there)."""
        metadata = row.get("metadata") or {}
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        return cls(
            sample_id=str(row["sample_id"]),
            text=str(row.get("text") or ""),
            references=tuple(row.get("references") or ()),
            metadata=metadata,
        )


@dataclass(frozen=True)
class Grade:
    """A cardinal grade: ``score`` is 0 or 1 for binary graders, any float for numeric."""

    score: float
    explanation: str = ""


@dataclass(frozen=True)
class Verdict:
    """A pairwise judgement: ``winner`` is 'a', 'b', 'tie', or None when no judgement
    could be read. ``first`` and ``second`` are the judge's picks (in terms of a/b, '?'
    when unreadable) with a shown first and with b shown first; a tie means they
    disagreed (position bias) or both said tie."""

    winner: str | None
    first: str
    second: str


@runtime_checkable
class Grader(Protocol):
    """Grades one output of one sample.

    ``name`` is recorded as the measurements' grader; ``kind`` is 'binary' or 'numeric'
    (then ``higher_is_better`` orders the scores). ``grade`` must not raise for a bad
    output (that is a failing grade); it raises :class:`~onebench.InvalidInputError` only
    when the sample itself lacks what the grader needs (a reference, tests, a pattern).
    """

    name: str
    kind: str
    higher_is_better: bool

    def grade(self, sample: GradingSample, output: str) -> Grade: ...


@runtime_checkable
class PairwiseGrader(Protocol):
    """Compares two outputs per sample (kind 'pairwise'); ``judge`` names who judged."""

    name: str
    kind: str
    judge: str

    def compare(self, items: Sequence[tuple[GradingSample, str, str]]) -> list[Verdict]: ...
