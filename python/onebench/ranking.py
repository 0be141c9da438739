"""Leaderboards: ranking models on any subset of the pool."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from ._fit_store import open_fits
from ._leaderboard import Leaderboard, LeaderboardRow
from ._model_form import FORM_PARTS, ModelForm
from ._rank_options import check_diagnostics_options, check_rank_options
from .exceptions import InvalidInputError, UnknownIdError

if TYPE_CHECKING:
    from .pool import Pool

__all__ = [
    "DEFAULT_FORM",
    "DEFAULT_METHOD",
    "FORM_PARTS",
    "METHODS",
    "Leaderboard",
    "LeaderboardRow",
    "ModelForm",
    "default_alpha",
]

# The joint model's form when the caller names none: chosen per pool and selection by
# held-out measurements. "core", "full" or "core+part+..." (parts of FORM_PARTS) fix it.
DEFAULT_FORM = "auto"

METHODS: tuple[str, ...] = tuple(_core.rank_dataset_methods())

# The method of `Pool.rank`, the CLI and the MCP tools when the caller names none. The joint
# model is the only one that is best or within 0.016 of the best in every cell of
# benches/fidelity_bench.py; Plackett-Luce falls 0.2-0.31 behind it (0.18 behind the mean)
# when most samples hold one model, and the mean 0.3-0.6 behind when models saw parts of
# different difficulty.
DEFAULT_METHOD = "joint"

# The prior strength of a method when the caller gives none. The joint model's skills share
# a logit scale with the difficulties, whose hierarchical prior already ties sparse models
# to the common scale; its skill prior only has to keep perfect scores finite, and a
# stronger one pulls weakly linked groups of models together (benches/README.md). ONEBench's
# estimator uses ONEBench's own regularisation, choix's alpha = 0.01 (its ilsr_top1 script).
_DEFAULT_ALPHA = {"joint": 0.1, "onebench": 0.01}


def default_alpha(method: str) -> float:
    """The prior strength ``alpha`` that ``Pool.rank`` uses for ``method`` by default."""
    return _DEFAULT_ALPHA.get(method, 1.0)


def resolve_samples(pool: Pool, samples: Any) -> np.ndarray:
    """Dense sample indexes for ids, a Benchmark-like object with ``sample_ids``, or an
    integer index array."""
    if hasattr(samples, "sample_ids"):
        samples = samples.sample_ids
    if isinstance(samples, np.ndarray) and samples.dtype.kind in "iu":
        indexes = samples
    else:
        if isinstance(samples, str) or not isinstance(samples, Sequence | np.ndarray):
            raise InvalidInputError(
                "samples: expected a list of sample ids, a Benchmark or None", field="samples"
            )
        lookup = {sample_id: index for index, sample_id in enumerate(pool.sample_ids())}
        indexes = np.empty(len(samples), dtype=np.int64)
        for position, sample_id in enumerate(samples):
            index = lookup.get(sample_id)
            if index is None and isinstance(sample_id, str):
                # Another source's copy of a sample (found by content on import).
                index = pool._inner.sample_index(sample_id)
            if index is None:
                raise UnknownIdError(
                    f"unknown sample id {sample_id!r} (position {position} of samples)",
                    field="samples",
                    id=str(sample_id),
                    row=position,
                )
            indexes[position] = index
    if len(indexes) == 0:
        raise InvalidInputError("samples: the subset is empty", field="samples")
    return np.ascontiguousarray(indexes, dtype=np.uint32)


_REMEMBERED = 16


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    """Keeps the last few entries (a subset key can be large)."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > _REMEMBERED:
        cache.pop(next(iter(cache)))


def rank_pool(
    pool: Pool,
    samples: Any,
    *,
    method: str | None,
    ci: float,
    bootstrap: int,
    alpha: float | None,
    seed: int,
    interval: str | None,
    tolerance: float,
    max_iterations: int,
    min_samples: int = 1,
    form: str | None = None,
) -> Leaderboard:
    ci, bootstrap, seed, min_samples = check_rank_options(
        methods=METHODS,
        method=method,
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        interval=interval,
        min_samples=min_samples,
        form=form,
    )
    alpha, tolerance, max_iterations = check_diagnostics_options(alpha, tolerance, max_iterations)
    if method is None:
        method = DEFAULT_METHOD
    if form is None:
        form = DEFAULT_FORM
    if form != DEFAULT_FORM and method != "joint":
        raise InvalidInputError(
            f"form: a form is only for the joint method, not {method}", field="form"
        )
    if alpha is None:
        alpha = default_alpha(method)
    if interval is None:
        interval = "bootstrap" if bootstrap > 0 else "fisher"
    subset = None if samples is None else resolve_samples(pool, samples)
    model_ids = pool.model_ids()
    key = warm_key(method, alpha, subset, form)
    arguments = (
        float(ci),
        interval,
        int(bootstrap),
        int(seed),
        float(tolerance),
        max_iterations,
        int(min_samples),
    )
    # The same question on an unchanged pool gets the same answer (a warm start would
    # move it within the tolerance): this process's last one, else the one kept in the
    # pool by any process. After new measurements, the last solution is the warm start.
    version = pool.version
    reused: str | None = None
    warm_from: str | None = None
    cached = pool._results.get(key)
    if cached is not None and cached[0] == (version, arguments):
        result = cached[1]
        reused = "memory"
    else:
        fits = open_fits(pool)
        warm, question = _store_key(method, alpha, subset, form, version, arguments)
        result = None if fits is None else fits.load(warm, question, len(model_ids))
        if result is not None:
            reused = "pool"
        else:
            previous = pool._warm.get(key)
            warm_from = None if previous is None else "memory"
            if previous is None and fits is not None:
                previous = fits.warm_start(warm, len(model_ids))
                warm_from = None if previous is None else "pool"
            initial, solution = _warm_start(previous, len(model_ids))
            result = pool._inner.rank(
                subset,
                method,
                float(alpha),
                float(ci),
                interval,
                int(bootstrap),
                int(seed),
                float(tolerance),
                int(max_iterations),
                initial,
                int(min_samples),
                solution,
                form,
            )
            if fits is not None and pool.version == version:
                fitted = result["solution"]
                fits.save(warm, question, result, None if fitted is None else fitted.to_bytes())
        # Another thread may have refreshed the pool meanwhile: cache only an answer that
        # is known to belong to one version.
        if pool.version == version:
            _remember(pool._results, key, ((version, arguments), result))
    scores = result["scores"]
    ranked = result["ranked"]
    if ranked.any():
        # Hidden models' scores are not returned: they start from 0 next time (the joint
        # model's solution carries them, with its difficulties and hubs).
        _remember(pool._warm, key, (np.where(ranked, scores, 0.0), result["solution"]))
    order = sorted(np.flatnonzero(ranked), key=lambda index: int(result["rank"][index]))
    rows = tuple(
        LeaderboardRow(
            model=model_ids[index],
            score=float(scores[index]),
            rank=int(result["rank"][index]),
            ci_low=float(result["ci_low"][index]),
            ci_high=float(result["ci_high"][index]),
            rank_low=_known_rank(result["rank_low"][index]),
            rank_high=_known_rank(result["rank_high"][index]),
            n_measurements=int(result["n_measurements"][index]),
            n_samples=int(result["n_samples"][index]),
        )
        for index in order
    )
    disconnected = tuple(
        tuple(model_ids[index] for index in group) for group in result["disconnected"]
    )
    hidden = tuple(model_ids[index] for index in result["hidden"])
    notes: tuple[str, ...] = tuple(result["notes"])
    if interval == "none":
        notes += ('no intervals were asked for (interval="none"): the rank ranges are unknown',)
    if not result["converged"]:
        notes += (
            f"warning: the solver stopped after {result['iterations']} iterations "
            "before converging",
        )
    if result["unconverged_replicates"]:
        notes += (
            f"warning: {result['unconverged_replicates']} of {int(bootstrap)} bootstrap "
            f"replicates stopped after {max_iterations} iterations before converging; "
            "they still count in the intervals",
        )
    return Leaderboard(
        method=result["method"],
        rows=rows,
        ci=float(ci),
        interval=interval,
        n_samples=pool.stats().samples if subset is None else len(np.unique(subset)),
        disconnected=disconnected,
        hidden=hidden,
        min_samples=int(min_samples),
        converged=bool(result["converged"]),
        iterations=int(result["iterations"]),
        notes=notes,
        model_form=(
            None if result["model_form"] is None else ModelForm.from_core(result["model_form"])
        ),
        reused=reused,
        warm_start=warm_from,
    )


def _known_rank(value: Any) -> int | None:
    """A rank bound from the core, where 0 means unknown."""
    return int(value) or None


def warm_key(
    method: str, alpha: float, subset: np.ndarray | None, form: str = DEFAULT_FORM
) -> tuple[Any, ...]:
    """Which earlier fit of a pool warm-starts a fit (``Pool._warm``): the last one of the
    same method, prior strength, samples and joint form."""
    return (method, float(alpha), None if subset is None else subset.tobytes(), form)


def _store_key(
    method: str,
    alpha: float,
    subset: np.ndarray | None,
    form: str,
    version: int,
    arguments: tuple[Any, ...],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fit store's keys (``onebench._fit_store``): the warm key's fields, and every
    field of the question that changes its answer."""
    warm = {
        "method": method,
        "alpha": float(alpha),
        "samples": None if subset is None else hashlib.sha256(subset.tobytes()).hexdigest(),
        "form": form,
    }
    ci, interval, bootstrap, seed, tolerance, max_iterations, min_samples = arguments
    question = {
        **warm,
        "version": version,
        "ci": ci,
        "interval": interval,
        "bootstrap": bootstrap,
        "seed": seed,
        "tolerance": tolerance,
        "max_iterations": int(max_iterations),
        "min_samples": min_samples,
    }
    return warm, question


def warm_solution(solution: _core.Solution | bytes | None) -> _core.Solution | None:
    """A kept solution as the core takes it: one read from the fit store is bytes until a
    fit needs it (an unreadable one is no warm start)."""
    if isinstance(solution, bytes):
        try:
            return _core.Solution.from_bytes(solution)
        except ValueError:
            return None
    return solution


def _warm_start(
    previous: tuple[np.ndarray, _core.Solution | bytes | None] | None, n_models: int
) -> tuple[np.ndarray | None, _core.Solution | None]:
    """The last fit's scores, padded for models added since, and its whole solution."""
    if previous is None:
        return None, None
    scores, solution = previous
    initial = np.zeros(n_models, dtype=np.float64)
    initial[: min(n_models, len(scores))] = scores[:n_models]
    return initial, warm_solution(solution)
