"""Which form of the joint model a leaderboard rests on, and why (``Leaderboard.model_form``).

The joint model's core is one skill per model with difficulties shrunk to their stratum at a
fixed spread; the parts ``spreads`` (an estimated spread per benchmark), ``deviations`` (a
deviation per model and stratum) and ``measurer`` (difficulty that follows who was measured)
enter only where held-out measurements support them (see the README, "The joint model").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["FORM_PARTS", "FormCandidate", "ModelForm"]

#: The parts that may enter the joint model beyond its core, in the order they are tried.
FORM_PARTS: tuple[str, ...] = ("spreads", "deviations", "measurer")


@dataclass(frozen=True)
class FormCandidate:
    """One form the selection scored: its held-out log-likelihood per measurement, and its
    gain over the form it was compared with (with the gain's standard error, clustered by
    sample)."""

    form: str
    parts: tuple[str, ...]
    log_likelihood: float
    gain: float
    standard_error: float
    kept: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "parts": list(self.parts),
            "log_likelihood": _finite(self.log_likelihood),
            "gain": _finite(self.gain),
            "standard_error": _finite(self.standard_error),
            "kept": self.kept,
        }


@dataclass(frozen=True)
class ModelForm:
    """The joint model's form on a leaderboard: its name (``"core"``, ``"full"`` or
    ``"core+part+..."``), the parts used, whether it was ``"given"`` or chosen by
    ``"cross-validation"``, the reason in words, the held-out measurements it was scored
    on, and every candidate scored."""

    name: str
    parts: tuple[str, ...]
    chosen_by: str
    reason: str
    measurements: int
    candidates: tuple[FormCandidate, ...]

    @classmethod
    def from_core(cls, report: dict[str, Any]) -> ModelForm:
        return cls(
            name=str(report["form"]),
            parts=tuple(report["parts"]),
            chosen_by=str(report["chosen_by"]),
            reason=str(report["reason"]),
            measurements=int(report["measurements"]),
            candidates=tuple(
                FormCandidate(
                    form=str(entry["form"]),
                    parts=tuple(entry["parts"]),
                    log_likelihood=float(entry["log_likelihood"]),
                    gain=float(entry["gain"]),
                    standard_error=float(entry["standard_error"]),
                    kept=bool(entry["kept"]),
                )
                for entry in report["candidates"]
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parts": list(self.parts),
            "chosen_by": self.chosen_by,
            "reason": self.reason,
            "measurements": self.measurements,
            "candidates": [candidate.to_dict() for candidate in self.candidates],
        }

    def summary(self) -> str:
        """One line for the printed table."""
        return f"model form: {self.name} ({self.chosen_by}): {self.reason}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
