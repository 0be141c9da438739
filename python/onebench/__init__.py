"""onebench: open-ended, sample-level benchmarking of foundation models.

Pool the samples of many test sets, store sparse mixed measurements (binary, numeric,
pairwise, rankings) and rank models on any subset, with uncertainty: a joint latent-skill
model by default, ONEBench's own estimator, Plackett–Luce and the usual baselines on
request.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public names load on first use (PEP 562): `import onebench` and the CLI's `--help`
# must not pay for numpy, pyarrow, the evaluation stack or the Rust core until a name that
# needs them is touched. The exceptions are plain classes, cheap to load, and `except
# onebench.OnebenchError` should not need a lookup to work.
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

if TYPE_CHECKING:
    from ._core import __version__
    from ._eval import EvalProgress, EvalReport, evaluate
    from ._judging import JudgeReport, judge_pairs
    from .pool import CommitReport, Pool, PoolStats
    from .query import Benchmark
    from .ranking import METHODS, Leaderboard, LeaderboardRow

# Where each lazily loaded public name lives.
_LAZY = {
    "__version__": "._core",
    "EvalProgress": "._eval",
    "EvalReport": "._eval",
    "evaluate": "._eval",
    "JudgeReport": "._judging",
    "judge_pairs": "._judging",
    "CommitReport": ".pool",
    "Pool": ".pool",
    "PoolStats": ".pool",
    "Benchmark": ".query",
    "METHODS": ".ranking",
    "Leaderboard": ".ranking",
    "LeaderboardRow": ".ranking",
}

# Subpackages and modules reachable as attributes after a bare `import onebench`, as they
# were when this module imported everything (`onebench.query.load_encoder(...)`).
_SUBMODULES = frozenset(
    {"graders", "importers", "infer", "mcp", "metrics", "pool", "query", "ranking", "synthetic"}
)

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Bound once: later lookups are plain attribute reads.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
