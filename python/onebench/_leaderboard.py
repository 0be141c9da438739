"""A leaderboard and its rows: what ``Pool.rank`` returns, and how it prints and turns into
JSON or a DataFrame.

Separate from onebench.ranking, which fits the models and fills these in; that module
re-exports both classes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ._model_form import ModelForm

if TYPE_CHECKING:
    import pandas

__all__ = ["Leaderboard", "LeaderboardRow"]


# What a leaderboard's header says of its method, in plain words.
_PLAIN_NAMES = {
    "joint": "joint (one skill per model, fitted to every measurement)",
    "onebench": "onebench (ONEBench's estimator: choix I-LSR on top-1 choices)",
}


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's standing. ``score`` is on the method's own scale (log-strength for
    Plackett–Luce, ONEBench's estimator and Bradley–Terry); ``rank_low``/``rank_high``
    bound its rank at the leaderboard's level (simulated from the scores' covariance with
    Fisher intervals, from the replicates with the bootstrap), and are ``None`` where the
    leaderboard has no intervals: the ``notes`` then say why."""

    model: str
    score: float
    rank: int
    ci_low: float
    ci_high: float
    rank_low: int | None
    rank_high: int | None
    n_measurements: int
    n_samples: int


@dataclass(frozen=True)
class Leaderboard:
    """Models ranked on a set of samples, best first, with intervals and coverage."""

    method: str
    rows: tuple[LeaderboardRow, ...]
    ci: float
    interval: str
    n_samples: int
    disconnected: tuple[tuple[str, ...], ...] = ()
    #: Models fitted but left out of the table: measured on fewer than ``min_samples``.
    hidden: tuple[str, ...] = ()
    min_samples: int = 1
    converged: bool = True
    iterations: int = 0
    notes: tuple[str, ...] = field(default=())
    #: The joint model's form and why (None for the other methods).
    model_form: ModelForm | None = None
    #: Where the answer came from without a fit: ``"memory"`` (this pool handle's last
    #: answer to the same call), ``"pool"`` (a fit kept in the pool's ``fits/`` folder by
    #: any process), or None (fitted by this call). Not part of the answer: leaderboards
    #: compare equal, and print and serialise alike, wherever they came from.
    reused: str | None = field(default=None, compare=False, repr=False)
    #: Where a fitted answer started from: ``"memory"`` or ``"pool"`` (an earlier fit of
    #: the same method, prior, samples and form, on this pool or the pool it grew from),
    #: or None (a cold start).
    warm_start: str | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[LeaderboardRow]:
        return iter(self.rows)

    def __getitem__(self, model: str) -> LeaderboardRow:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(model)

    @property
    def models(self) -> list[str]:
        """Model ids, best first."""
        return [row.model for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``onebench rank --json``."""
        return {
            "method": self.method,
            "ci": self.ci,
            "interval": self.interval,
            "n_samples": self.n_samples,
            "converged": self.converged,
            # Field by field: asdict() deep-copies every value (0.9 ms against 0.1 ms for
            # 100 rows).
            "models": [
                {key: _json_number(getattr(row, key)) for key in _ROW_FIELDS} for row in self.rows
            ],
            "disconnected": [list(group) for group in self.disconnected],
            "hidden": list(self.hidden),
            "min_samples": self.min_samples,
            "model_form": None if self.model_form is None else self.model_form.to_dict(),
            "notes": list(self.notes),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def to_pandas(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame([asdict(row) for row in self.rows])

    def __str__(self) -> str:
        from ._table import format_table

        header = ["rank", "model", "score", f"{self.ci:.0%} CI", "rank range", "meas.", "samples"]
        body = [
            [
                str(row.rank),
                row.model,
                f"{row.score:.3f}",
                "-" if math.isnan(row.ci_low) else f"[{row.ci_low:.3f}, {row.ci_high:.3f}]",
                "?" if row.rank_low is None else f"{row.rank_low}-{row.rank_high}",
                str(row.n_measurements),
                str(row.n_samples),
            ]
            for row in self.rows
        ]
        lines = [
            f"{_PLAIN_NAMES.get(self.method, self.method)} on {self.n_samples} samples "
            f"({self.interval} intervals)",
            format_table(header, body, align="rlrrrrr"),
        ]
        for group in self.disconnected:
            lines.append(
                "not ranked (no comparison links them to the models above): " + ", ".join(group)
            )
        if self.hidden:
            lines.append(
                f"left out (measured on fewer than {self.min_samples} of these samples): "
                + ", ".join(self.hidden)
            )
        if self.model_form is not None:
            lines.append(self.model_form.summary())
        lines.extend(self.notes)
        return "\n".join(lines)


_ROW_FIELDS = tuple(each.name for each in fields(LeaderboardRow))


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
