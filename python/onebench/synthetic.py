"""Synthetic sparse sample pools with a known true order of models.

As in ONEBench's simulation (Ghosh et al., ACL 2025, arXiv 2412.06745), model ``m`` has a
Gaussian ``N(mu_m, sigma_m)`` with ``mu_m ~ U(0, 1)``, ``sigma_m ~ U(0, dispersion)``; each
score is a draw from it, and on binary samples a score above the sample's threshold counts as
correct. The order of ``mu`` is the truth to recover. ONEBench's generator function defaults
to ``dispersion=0.25`` and its command line to 0.1; 0.25 is the default here because it is
the harder case: a full-ranking likelihood weighs a model by where its draws land, so models
whose scores spread more are underrated, and the wider the spreads differ the more the order
of ``mu`` departs from what Plackett–Luce estimates. Two departures from ONEBench's script:

* The threshold is drawn from ``U(0, 1)`` rather than between the sample's lowest and highest
  score, which would need the whole dense column; the dense matrix is never built.
* Missingness can be *structured*. Cells missing at random leave each model's plain mean
  unbiased, which flatters that baseline. In real pools weak, old models were run on easy
  benchmarks and strong, new ones on hard ones: with ``structure="benchmarks"`` or
  ``"difficulty"`` a model is measured mostly where difficulty matches its strength, so its mean
  reflects what it was run on, while the order within each sample still carries the truth.

Kept cells are drawn first, by geometric skips over the flattened (sample, model) grid, and only
they are scored, chunk by chunk: 1000 models x 1M samples at 95% missing (50M measurements)
takes seconds and little more memory than the output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._synthetic_cells import draw_cells
from .exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STRUCTURES", "SyntheticData", "generate"]

STRUCTURES: tuple[str | None, ...] = (None, "benchmarks", "difficulty")

# Difficulty offsets are as wide as the spread of strengths (means span [0, 1]), as between an
# old saturated benchmark and a new hard one; per-sample difficulty is a little wider still
# because the affinity below blurs which samples a model sees.
_BENCHMARK_SPREAD = 1.0
_SAMPLE_SPREAD = 1.2
_AFFINITY_WIDTH = 0.15  # how far (in strength quantiles) a model strays from its own level
_AFFINITY_FLOOR = 0.05  # in "difficulty" mode every cell keeps some chance: mixing across levels
_BENCHMARK_COVERAGE = 0.4  # share of the benchmarks each model is run on


@dataclass(frozen=True, eq=False)
class SyntheticData:
    """A synthetic pool in long format, with the truth it was drawn from.

    Attributes
    ----------
    model_ids : list of str
        ``"model-000"``, ... in model-index order.
    sample_ids : list of str
        ``"synthetic/000000"``, ... in sample-index order.
    benchmarks : numpy.ndarray
        Per sample, the benchmark name (``"synthetic-b0"``, ...). Samples of one benchmark are
        contiguous. Names are assigned in every mode; only ``structure="benchmarks"`` makes
        them differ in difficulty.
    binary : numpy.ndarray
        Per sample, bool: True for a binary metric, False for a numeric one (higher is better).
    true_strength : numpy.ndarray
        Per model, float64 ``mu_m``; higher is better.
    sample, model : numpy.ndarray
        Per measurement, int32 indexes, sorted by sample then model.
    value : numpy.ndarray
        Per measurement, float32: 0/1 on binary samples, the raw score on numeric ones.
    """

    model_ids: list[str]
    sample_ids: list[str]
    benchmarks: np.ndarray
    binary: np.ndarray
    true_strength: np.ndarray
    sample: np.ndarray
    model: np.ndarray
    value: np.ndarray

    @property
    def n_measurements(self) -> int:
        """Number of measured (sample, model) cells."""
        return int(self.value.size)

    def true_order(self) -> list[str]:
        """Model ids, best first, by true strength."""
        order = np.argsort(-self.true_strength, kind="stable")
        return [self.model_ids[i] for i in order]

    def measurements_frame(self) -> pd.DataFrame:
        """Measurements as a long DataFrame: sample_id, model, kind, score.

        ``sample_id``, ``model`` and ``kind`` (``"binary"``/``"numeric"``) are pandas
        Categoricals built from the integer codes, so no per-row strings are created, and
        ``score`` shares memory with :attr:`value` (no copy; 50M rows take under a second).
        """
        import pandas as pd

        kind_codes = (~self.binary).astype(np.int8)[self.sample]
        return pd.DataFrame(
            {
                "sample_id": pd.Categorical.from_codes(self.sample, categories=self.sample_ids),
                "model": pd.Categorical.from_codes(self.model, categories=self.model_ids),
                "kind": pd.Categorical.from_codes(kind_codes, categories=["binary", "numeric"]),
                "score": self.value,
            },
            copy=False,  # pandas copies dict columns by default; these arrays are ours to share
        )

    def samples_frame(self) -> pd.DataFrame:
        """One row per sample: sample_id, benchmark."""
        import pandas as pd

        return pd.DataFrame({"sample_id": self.sample_ids, "benchmark": self.benchmarks})


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}", field=name)
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}", field=name)
    return int(value)


def _check_fraction(name: str, value: Any, *, allow_one: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InvalidInputError(f"{name} must be a number, got {value!r}", field=name)
    value = float(value)
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if not (value >= 0.0 and upper_ok):
        bound = "]" if allow_one else ")"
        raise InvalidInputError(f"{name} must lie in [0, 1{bound}, got {value}", field=name)
    return value


def _quantiles(x: np.ndarray) -> np.ndarray:
    """Rank of each entry scaled to [0, 1] (0 = lowest)."""
    ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    return ranks / max(x.size - 1, 1)


def _benchmark_layout(
    rng: np.random.Generator, strength_q: np.ndarray, n_benchmarks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-benchmark difficulty offsets and the model x benchmark 'was run on' matrix."""
    offsets = np.linspace(-_BENCHMARK_SPREAD / 2, _BENCHMARK_SPREAD / 2, n_benchmarks)
    offsets = rng.permutation(offsets)
    hardness_q = _quantiles(offsets)
    # Each model is run on k benchmarks drawn without replacement, favouring those whose
    # hardness matches its strength (Gumbel top-k: argsort of log-weight plus Gumbel noise).
    k = min(n_benchmarks, max(2, round(_BENCHMARK_COVERAGE * n_benchmarks)))
    log_w = -((strength_q[:, None] - hardness_q[None, :]) ** 2) / (2 * _AFFINITY_WIDTH**2)
    keys = log_w + rng.gumbel(size=log_w.shape)
    chosen = np.argsort(-keys, axis=1)[:, :k]
    measured = np.zeros(log_w.shape, dtype=bool)
    np.put_along_axis(measured, chosen, True, axis=1)
    return offsets.astype(np.float32), measured


def generate(
    n_models: int = 100,
    n_samples: int = 10_000,
    *,
    missing: float = 0.0,
    binary_fraction: float = 0.5,
    structure: str | None = None,
    n_benchmarks: int = 10,
    dispersion: float = 0.25,
    seed: int = 0,
) -> SyntheticData:
    """Draw a synthetic pool of measurements with a known true model order.

    Parameters
    ----------
    n_models, n_samples
        Size of the (never materialised) dense grid; at least 2 models and 1 sample.
    missing
        Fraction in [0, 1) of the cells left by ``structure`` that are removed at random.
    binary_fraction
        Probability in [0, 1] that a sample is binary (thresholded) rather than numeric.
    structure
        ``None``: cells missing completely at random. ``"benchmarks"``: samples fall into
        ``n_benchmarks`` benchmarks of different difficulty (an offset subtracted from every
        score on them); each model is run on 40% of the benchmarks, chosen to match its
        strength, so weak models are measured mostly on easy benchmarks. ``"difficulty"``:
        every sample has its own difficulty offset and a model is measured on a sample with a
        probability that falls with the gap between its strength and the sample's difficulty.
    n_benchmarks
        Number of benchmark names (at least 1; at least 2 with ``structure="benchmarks"``).
    dispersion
        Upper bound in [0, 1] of the per-model score spread ``sigma_m ~ U(0, dispersion)``.
    seed
        Seed of the numpy Generator; equal arguments give equal data.

    Returns
    -------
    SyntheticData

    Raises
    ------
    onebench.InvalidInputError
        (a ValueError) If an argument is out of range; its message and ``field`` name it.
    """
    n_models = _check_int("n_models", n_models, 2)
    n_samples = _check_int("n_samples", n_samples, 1)
    missing = _check_fraction("missing", missing, allow_one=False)
    binary_fraction = _check_fraction("binary_fraction", binary_fraction, allow_one=True)
    if structure not in STRUCTURES:
        raise InvalidInputError(
            f"structure must be one of {STRUCTURES}, got {structure!r}", field="structure"
        )
    n_benchmarks = _check_int("n_benchmarks", n_benchmarks, 2 if structure == "benchmarks" else 1)
    dispersion = _check_fraction("dispersion", dispersion, allow_one=True)
    seed = _check_int("seed", seed, 0)

    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.0, 1.0, n_models)
    sigma = rng.uniform(0.0, dispersion, n_models)
    binary = rng.random(n_samples) < binary_fraction
    threshold = rng.random(n_samples, dtype=np.float32)
    bench = np.sort(rng.integers(0, n_benchmarks, n_samples)).astype(np.int32)
    strength_q = _quantiles(mu)

    # Structure: a per-sample difficulty offset subtracted from every score, and a test that
    # thins candidate cells (j, m) to those the structure keeps.
    offset: np.ndarray | None = None
    accept: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    if structure == "benchmarks":
        bench_offset, run_on = _benchmark_layout(rng, strength_q, n_benchmarks)
        offset = bench_offset[bench]

        def accept(j: np.ndarray, m: np.ndarray) -> np.ndarray:
            return run_on.ravel()[m.astype(np.int64) * n_benchmarks + bench[j]]

    elif structure == "difficulty":
        half = _SAMPLE_SPREAD / 2
        offset = rng.uniform(-half, half, n_samples).astype(np.float32)
        hardness_q = ((offset + half) / _SAMPLE_SPREAD).astype(np.float32)
        strength_q32 = strength_q.astype(np.float32)
        two_w2 = np.float32(2 * _AFFINITY_WIDTH**2)

        def accept(j: np.ndarray, m: np.ndarray) -> np.ndarray:
            gap = strength_q32[m] - hardness_q[j]
            prob = _AFFINITY_FLOOR + (1 - _AFFINITY_FLOOR) * np.exp(-(gap * gap) / two_w2)
            return rng.random(j.size, dtype=np.float32) < prob

    scores = (mu.astype(np.float32), sigma.astype(np.float32), binary, threshold, offset)
    sample, model, value = draw_cells(rng, n_models, n_samples, 1.0 - missing, scores, accept)

    width = max(3, len(str(n_models - 1)))
    sample_width = max(6, len(str(n_samples - 1)))
    names = np.array([f"synthetic-b{k}" for k in range(n_benchmarks)])
    return SyntheticData(
        model_ids=[f"model-{i:0{width}d}" for i in range(n_models)],
        sample_ids=[f"synthetic/{j:0{sample_width}d}" for j in range(n_samples)],
        benchmarks=names[bench],
        binary=binary,
        true_strength=mu,
        sample=sample,
        model=model,
        value=value,
    )
