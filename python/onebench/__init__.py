"""onebench: open-ended, sample-level benchmarking of foundation models.

Pool the samples of many test sets, store sparse mixed measurements (binary, numeric,
pairwise, rankings) and rank models on any subset, with uncertainty: a joint latent-skill
model by default, ONEBench's own estimator, Plackett–Luce and the usual baselines on
request.
"""

from __future__ import annotations

from ._core import __version__
from ._eval import EvalProgress, EvalReport, evaluate
from ._judging import JudgeReport, judge_pairs
from .exceptions import (
    ConvergenceError,
    CorruptPoolError,
    DisconnectedGraphError,
    InvalidInputError,
    OnebenchError,
    PoolIOError,
    PoolLockedError,
    PoolNotFoundError,
    UnknownIdError,
)
from .pool import CommitReport, Pool, PoolStats
from .query import Benchmark
from .ranking import METHODS, Leaderboard, LeaderboardRow

__all__ = [
    "METHODS",
    "Benchmark",
    "CommitReport",
    "ConvergenceError",
    "CorruptPoolError",
    "DisconnectedGraphError",
    "EvalProgress",
    "EvalReport",
    "InvalidInputError",
    "JudgeReport",
    "Leaderboard",
    "LeaderboardRow",
    "OnebenchError",
    "Pool",
    "PoolIOError",
    "PoolLockedError",
    "PoolNotFoundError",
    "PoolStats",
    "UnknownIdError",
    "__version__",
    "evaluate",
    "judge_pairs",
]
