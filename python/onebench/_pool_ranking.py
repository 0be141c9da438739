"""Leaderboards and item diagnostics of a pool, as a mixin of :class:`onebench.Pool`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    # Only an annotation here: ranking does not load pyarrow.
    import pyarrow as pa

    from .pool import Pool
    from .ranking import Leaderboard

__all__ = ["PoolRanking"]


class PoolRanking:
    # Only Pool mixes this in, so `self` is cast to the Pool that onebench.ranking expects.

    def rank(
        self,
        samples: Any = None,
        *,
        method: str | None = None,
        ci: float = 0.95,
        bootstrap: int = 0,
        alpha: float | None = None,
        seed: int = 0,
        interval: str | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 10_000,
        min_samples: int = 1,
        form: str = "auto",
    ) -> Leaderboard:
        """Ranks the models on ``samples`` (ids, a Benchmark, or None for the whole pool).

        ``method`` is one of ``onebench.ranking.METHODS``; None means the default,
        ``"joint"``: one skill per model fitted to every measurement (binary: Rasch;
        numeric: a per-sample offset; pairwise: Bradley-Terry with Davidson ties;
        rankings: Plackett-Luce), with per-sample difficulties shrunk towards their
        benchmark's stratum, moved by how skilled the models measured on the sample are
        (samples handed out by difficulty), and a deviation per model and stratum where a
        benchmark has several strata (the score is the skill on ``samples``).
        ``"onebench"`` is ONEBench's published estimator: on each sample every model is
        chosen (a Luce top-1 choice) over the models that did strictly worse (binary:
        each model right over the models wrong; numeric and rankings: a Plackett-Luce
        ranking, ties following the binary rule; pairwise: a choice of two), fitted as
        choix's ``ilsr_top1`` with its regularisation ``alpha``. ``"plackett-luce"`` is
        the Plackett-Luce model with tied groups (the models in a group chosen together
        from the models not above them); ``"mean"``, ``"bradley-terry"``, ``"elo"`` and
        ``"borda"`` are the usual baselines.

        ``bootstrap`` > 0 computes percentile intervals from that many bootstrap
        replicates over samples; otherwise intervals come from the observed Fisher
        information (methods with a likelihood) or are omitted. ``alpha`` is the prior
        strength that keeps all-win and all-lose models finite (default: 1, 0.1 for
        ``method="joint"`` and ONEBench's 0.01 for ``method="onebench"``, see
        ``onebench.ranking.default_alpha``).

        ``form`` is the joint model's form: ``"auto"`` (the default) starts from the core
        (one skill per model, difficulties shrunk to their stratum at a fixed spread) and
        adds each part of ``onebench.ranking.FORM_PARTS`` (``"spreads"``, ``"deviations"``,
        ``"measurer"``) only where it predicts held-out measurements better, by 5-fold
        cross-validation on this pool and selection; ``"core"``, ``"full"`` or
        ``"core+spreads"``-style names fix it. ``Leaderboard.model_form`` says which form
        was used and why.

        ``min_samples`` leaves out of the table the models measured on fewer of these
        samples (listed in ``Leaderboard.hidden``): they are still fitted, so their
        measurements inform everyone else's scores, but ranks and rank intervals are
        among the models shown. Useful where a selection mixes samples many models were
        measured on with a few that other models were: a model right on its two samples
        can top the table with an interval as wide as the scale.
        """
        from .ranking import rank_pool

        return rank_pool(
            cast("Pool", self),
            samples,
            method=method,
            ci=ci,
            bootstrap=bootstrap,
            alpha=alpha,
            seed=seed,
            interval=interval,
            tolerance=tolerance,
            max_iterations=max_iterations,
            min_samples=min_samples,
            form=form,
        )

    def item_diagnostics(
        self,
        samples: Any = None,
        *,
        alpha: float | None = None,
        tolerance: float = 1e-8,
        max_iterations: int = 10_000,
    ) -> pa.Table:
        """Per-sample difficulty and discrimination under the joint model.

        One row per sample (of ``samples``, or of the pool), with ``sample_id``,
        ``benchmark``, ``metric``, ``n_models`` (models with a binary or numeric
        measurement), ``difficulty`` (logits, on the skills' scale), ``discrimination``
        (the 2PL slope given the skills: 1 is typical, below 0 means strong models fail
        where weak ones pass) with its standard error ``discrimination_se``, and
        ``flagged``: discrimination below 0 at the one-sided 95% level, the usual sign of
        a wrong reference answer. Samples without binary or numeric measurements of
        ranked models have NaN values. ``alpha`` is the joint model's skill prior strength
        (default: ``onebench.ranking.default_alpha("joint")``, as ``Pool.rank`` uses).
        """
        from ._diagnostics import item_diagnostics

        return item_diagnostics(
            cast("Pool", self),
            samples,
            alpha=alpha,
            tolerance=tolerance,
            max_iterations=max_iterations,
        )
