"""What an evaluation reports and how it is capped: budgets, progress events, reports."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .exceptions import InvalidInputError

__all__ = ["Budget", "EvalProgress", "EvalReport", "parse_budget"]


@dataclass(frozen=True)
class Budget:
    """A cap on one evaluation call: ``amount`` samples, or tokens (prompt + completion,
    checked between chunks, so the last chunk may overshoot)."""

    amount: int
    unit: str = "samples"

    def __post_init__(self) -> None:
        if self.unit not in ("samples", "tokens") or self.amount < 1:
            raise InvalidInputError(
                "budget: expected a positive number of samples or tokens", field="budget"
            )


_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*(samples?|tokens?)?\s*$")


def parse_budget(value: Budget | int | str | None) -> Budget | None:
    """``500`` or ``"500 samples"``, ``"20k tokens"``, ``"1.5M tokens"``."""
    if value is None or isinstance(value, Budget):
        return value
    if isinstance(value, int):
        return Budget(value)
    match = _BUDGET.match(str(value))
    if match is None:
        raise InvalidInputError(
            f"budget: cannot read {value!r}; write e.g. '500', '500 samples' or '20k tokens'",
            field="budget",
        )
    number = float(match.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[match.group(2).lower()]
    unit = "tokens" if (match.group(3) or "").startswith("token") else "samples"
    return Budget(int(number), unit)


@dataclass(frozen=True)
class EvalProgress:
    """Sent to the ``progress`` callback: ``stage`` is 'generation' (an output arrived),
    'saved' (a chunk's outputs are on disk) or 'committed' (its measurements are in)."""

    stage: str
    done: int
    total: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class EvalReport:
    run_id: str
    model: str
    selected: int = 0
    already_measured: int = 0
    pending: int = 0
    generated: int = 0
    reused: int = 0
    failed: int = 0
    committed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    #: Per grader label: measurements committed and their mean score.
    graders: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
