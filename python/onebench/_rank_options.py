"""Checking the options of ``Pool.rank`` and ``Pool.item_diagnostics`` once, in Python.

The Rust core takes fixed-width numbers: handed ``None``, ``-1`` or ``2**70`` PyO3 raises
a bare ``TypeError`` or ``OverflowError``, and ``seed=1.5`` would be truncated silently.
Every interface (Python, the CLI, MCP) reaches the core through here, so each bad option
is an :class:`InvalidInputError` naming the argument, raised before any work starts.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from .exceptions import InvalidInputError

__all__ = ["INTERVALS", "check_diagnostics_options", "check_rank_options"]

INTERVALS = ("none", "fisher", "bootstrap")
# The core's integer arguments are 64-bit unsigned (seed, counts) or usize.
_U64 = 2**64


def _integer(name: str, value: Any, low: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidInputError(f"{name}: expected an integer, got {value!r:.60}", field=name)
    number = int(value)
    if number < low:
        raise InvalidInputError(f"{name}: must be {what}, got {number}", field=name)
    if number >= _U64:
        raise InvalidInputError(f"{name}: must be below 2**64, got {number}", field=name)
    return number


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidInputError(f"{name}: expected a number, got {value!r:.60}", field=name)
    return float(value)


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInputError(
            f"{name}: unknown {name} {value!r:.60}; choose one of {', '.join(choices)}",
            field=name,
        )
    return value


def check_diagnostics_options(
    alpha: Any, tolerance: Any, max_iterations: Any
) -> tuple[float | None, float, int]:
    """``alpha`` (None: the method's default), ``tolerance`` and ``max_iterations``."""
    if alpha is not None:
        alpha = _real("alpha", alpha)
        if not (math.isfinite(alpha) and alpha >= 0):
            raise InvalidInputError(f"alpha: must be finite and >= 0, got {alpha}", field="alpha")
    tolerance = _real("tolerance", tolerance)
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise InvalidInputError(
            f"tolerance: must be finite and > 0, got {tolerance}", field="tolerance"
        )
    return alpha, tolerance, _integer("max_iterations", max_iterations, 1, "at least 1")


def check_rank_options(
    *,
    methods: tuple[str, ...],
    method: Any,
    ci: Any,
    bootstrap: Any,
    seed: Any,
    interval: Any,
    min_samples: Any,
    form: Any,
) -> tuple[float, int, int, int]:
    """``(ci, bootstrap, seed, min_samples)`` checked, as plain Python numbers; ``method``,
    ``interval`` and ``form`` are checked only (None keeps its default)."""
    if method is not None:
        _choice("method", method, methods)
    ci = _real("ci", ci)
    if not 0 < ci < 1:  # NaN fails too
        raise InvalidInputError(f"ci: must be in (0, 1), got {ci}", field="ci")
    bootstrap = _integer("bootstrap", bootstrap, 0, "0 (no bootstrap) or at least 2")
    if bootstrap == 1:
        raise InvalidInputError(
            "bootstrap: must be 0 (no bootstrap) or at least 2 replicates, got 1",
            field="bootstrap",
        )
    if interval is not None:
        _choice("interval", interval, INTERVALS)
        if interval == "bootstrap" and bootstrap < 2:
            raise InvalidInputError(
                f"bootstrap: interval='bootstrap' needs at least 2 replicates, got {bootstrap}",
                field="bootstrap",
            )
    if form is not None and not isinstance(form, str):
        raise InvalidInputError(f"form: expected a string, got {form!r:.60}", field="form")
    seed = _integer("seed", seed, 0, "at least 0")
    return ci, bootstrap, seed, _integer("min_samples", min_samples, 1, "at least 1")
