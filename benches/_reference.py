"""A plain hierarchical Rasch model, written here as the fidelity bench's reference.

The Rasch (1960) model: P(model m right on sample s) = sigmoid(skill_m - difficulty_s).
Each difficulty is drawn around its stratum's location, difficulty_s ~ N(location, 1/2),
the locations free (a flat prior); a stratum is the sample's benchmark split by its
``category`` / ``subject`` / ``difficulty`` metadata, the strata the joint model is given.
Skills ~ N(0, 100), a prior that only keeps perfect scores finite. Fitted at the posterior
mode by L-BFGS-B with the analytic gradient. Numeric scores enter the same Bernoulli
likelihood as a fractional y, clipped to [0, 1] (13% of the synthetic numeric scores lie
outside it).

It shares no code with onebench's Rust fit on purpose: it is close to the joint model's
core (which has a fixed spread of one logit and its own numeric model), so a joint model
that falls behind it in a cell loses by its fit or its form, not by the data.

G. Rasch (1960), Probabilistic Models for Some Intelligence and Attainment Tests. Danish
Institute for Educational Research, Copenhagen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

__all__ = ["DIFFICULTY_VARIANCE", "SKILL_VARIANCE", "STRATA", "rasch_fit", "rasch_scores", "strata"]

DIFFICULTY_VARIANCE = 0.5
SKILL_VARIANCE = 100.0
# Sample metadata that splits a benchmark into strata, as for the joint model.
STRATA = ("category", "subject", "difficulty")


def rasch_fit(
    model: np.ndarray,
    sample: np.ndarray,
    group: np.ndarray,
    y: np.ndarray,
    n_models: int,
    variance: float = DIFFICULTY_VARIANCE,
) -> np.ndarray:
    """MAP skills for measurements (``model``, ``sample``, ``y``) with integer codes;
    ``group`` is the benchmark code of each sample (one entry per sample)."""
    n_samples = len(group)
    n_groups = int(group.max()) + 1
    group_size = np.bincount(group, minlength=n_groups)
    y = y.astype(float)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        skill, difficulty = theta[:n_models], theta[n_models:]
        eta = skill[model] - difficulty[sample]
        # -log likelihood of a Bernoulli(sigmoid(eta)) with y in [0, 1], stable form.
        loss = float(np.sum(np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))) - y * eta))
        residual = expit(eta) - y
        # The free locations at their optimum (each group's mean difficulty): by the
        # envelope theorem the gradient in the difficulties is the prior's at that optimum.
        location = np.bincount(group, weights=difficulty, minlength=n_groups) / group_size
        centred = difficulty - location[group]
        loss += float(centred @ centred) / (2 * variance)
        loss += float(skill @ skill) / (2 * SKILL_VARIANCE)
        gradient = np.concatenate(
            [
                np.bincount(model, weights=residual, minlength=n_models) + skill / SKILL_VARIANCE,
                -np.bincount(sample, weights=residual, minlength=n_samples) + centred / variance,
            ]
        )
        return loss, gradient

    start = np.zeros(n_models + n_samples)
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "maxcor": 20, "gtol": 1e-6, "ftol": 1e-12},
    )
    return result.x[:n_models]


def strata(samples: pd.DataFrame) -> np.ndarray:
    """Integer stratum per sample: its benchmark, split by whichever of the ``STRATA``
    metadata columns the frame has (the strata the joint model's difficulty prior uses)."""
    keys = samples["benchmark"].astype(str)
    for column in STRATA:
        if column in samples:
            keys = keys + "\x1f" + samples[column].astype(str).fillna("")
    return pd.factorize(keys)[0]


def rasch_scores(
    measurements: pd.DataFrame, samples: pd.DataFrame, variance: float = DIFFICULTY_VARIANCE
) -> dict[str, float]:
    """Skill per measured model from long-format ``measurements`` (sample_id, model,
    score) and ``samples`` (sample_id, benchmark, optional strata metadata). Numeric
    scores are clipped to [0, 1]."""
    index = pd.Index(samples["sample_id"].astype(str))
    sample = index.get_indexer(measurements["sample_id"].astype(str))
    if (sample < 0).any():
        raise ValueError("a measurement's sample is not in samples")
    model, names = pd.factorize(measurements["model"].astype(str))
    y = np.clip(measurements["score"].to_numpy(dtype=float), 0.0, 1.0)
    skill = rasch_fit(model, sample, strata(samples), y, len(names), variance)
    return dict(zip(names.tolist(), skill.tolist(), strict=True))
