"""The joint latent-skill model through the public API: every kind of measurement in one
fit, item diagnostics as a table, and ``onebench samples --flagged``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onebench
import pytest
from onebench.cli import main
from onebench.metrics import kendall_tau
from onebench.ranking import METHODS, default_alpha
from onebench.synthetic import generate


def _synthetic_pool(path: Path, data: onebench.synthetic.SyntheticData, scores=None):
    pool = onebench.Pool.create(path)
    pool.add_samples(data.samples_frame())
    pool.add_models(data.model_ids)
    frame = data.measurements_frame()
    if scores is not None:
        frame["score"] = scores
    pool.add_measurements(frame)
    return pool


def test_joint_is_a_method_with_a_plain_name_and_its_own_prior(tmp_path: Path) -> None:
    assert "joint" in METHODS
    assert default_alpha("joint") < default_alpha("plackett-luce") == 1.0
    data = generate(12, 600, missing=0.5, seed=1)
    pool = _synthetic_pool(tmp_path / "p", data)
    board = pool.rank(method="joint")
    assert board.method == "joint"
    assert str(board).startswith("joint (one skill per model")
    assert kendall_tau(board.models, data.true_order()) > 0.8
    for row in board:
        assert row.ci_low < row.score < row.ci_high
    # The same question twice gets the same answer; a subset ranks in place.
    assert pool.rank(method="joint").models == board.models
    half = data.sample_ids[::2]
    assert len(pool.rank(half, method="joint")) == 12


def test_every_kind_of_measurement_informs_one_skill(tmp_path: Path) -> None:
    # m0 > m1 > m2 > m3, told by four kinds of measurement on different samples; no
    # sample is measured by two kinds.
    rng = np.random.default_rng(0)
    skill = np.array([1.5, 0.5, -0.5, -1.5])
    models = ["m0", "m1", "m2", "m3"]
    pool = onebench.Pool.create(tmp_path / "p")
    binary = [f"b{i}" for i in range(200)]
    numeric = [f"n{i}" for i in range(200)]
    pairs = [f"p{i}" for i in range(200)]
    ranks = [f"r{i}" for i in range(60)]
    pool.add_samples({"sample_id": binary + numeric + pairs + ranks})
    pool.add_models(models)
    # Binary: each sample answered by one model only.
    owner = np.arange(200) % 4
    right = rng.random(200) < 1 / (1 + np.exp(-(skill[owner] - rng.normal(0, 1, 200))))
    pool.add_measurements(
        {"sample_id": binary, "model": [models[m] for m in owner], "score": right * 1.0},
        kind="binary",
    )
    # Numeric, lower is better, in its own units: two models per sample.
    sample_ids, model_ids, values = [], [], []
    for i, sample in enumerate(numeric):
        for m in ((i % 4), (i + 1) % 4):
            sample_ids.append(sample)
            model_ids.append(models[m])
            values.append(100.0 - 10.0 * skill[m] + rng.normal(0, 15))
    pool.add_measurements(
        {"sample_id": sample_ids, "model": model_ids, "score": values},
        kind="numeric",
        higher_is_better=False,
    )
    a = rng.integers(0, 4, 200)
    b = (a + rng.integers(1, 4, 200)) % 4
    wins = rng.random(200) < 1 / (1 + np.exp(-(skill[a] - skill[b])))
    pool.add_measurements(
        {
            "sample_id": pairs,
            "model_a": [models[m] for m in a],
            "model_b": [models[m] for m in b],
            "winner": np.where(wins, "a", "b"),
        },
        kind="pairwise",
    )
    pool.add_measurements(
        {"sample_id": ranks, "ranking": [[models[m] for m in rng.permutation(4)] for _ in ranks]},
        kind="ranking",
    )
    board = pool.rank(method="joint")
    assert board.models == models
    assert all(row.n_samples > 100 for row in board)


def test_item_diagnostics_recover_flipped_labels(tmp_path: Path) -> None:
    """The issue's check, on ONEBench's generator: 2% of binary samples get every label
    flipped; the flagged samples should be most of them and little else."""
    data = generate(60, 2000, missing=0.5, binary_fraction=1.0, seed=3)
    rng = np.random.default_rng(4)
    flipped = rng.choice(2000, size=40, replace=False)
    scores = data.value.copy()
    chosen = np.isin(data.sample, flipped)
    scores[chosen] = 1.0 - scores[chosen]
    pool = _synthetic_pool(tmp_path / "p", data, scores)
    table = pool.item_diagnostics()
    assert table.column_names == [
        "sample_id",
        "benchmark",
        "metric",
        "n_models",
        "difficulty",
        "discrimination",
        "discrimination_se",
        "flagged",
    ]
    assert table.num_rows == 2000
    flagged = {
        data.sample_ids.index(sample)
        for sample, flag in zip(
            table.column("sample_id").to_pylist(), table.column("flagged").to_pylist(), strict=True
        )
        if flag
    }
    truth = set(flipped.tolist())
    precision = len(flagged & truth) / max(len(flagged), 1)
    recall = len(flagged & truth) / len(truth)
    assert precision >= 0.9, (precision, recall)
    assert recall >= 0.8, (precision, recall)
    # A subset in its own order.
    part = pool.item_diagnostics(data.sample_ids[:5][::-1])
    assert part.column("sample_id").to_pylist() == data.sample_ids[:5][::-1]


def test_samples_command_lists_flagged_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = generate(30, 400, binary_fraction=1.0, seed=5)
    scores = data.value.copy()
    broken = np.isin(data.sample, [7, 123])
    scores[broken] = 1.0 - scores[broken]
    _synthetic_pool(tmp_path / "p", data, scores)
    assert main(["samples", "--pool", str(tmp_path / "p"), "--flagged", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["samples"] == 400
    assert {row["sample_id"] for row in payload["rows"]} >= {
        data.sample_ids[7],
        data.sample_ids[123],
    }
    assert all(row["flagged"] and row["discrimination"] < 0 for row in payload["rows"])
    assert main(["samples", "--pool", str(tmp_path / "p"), "--flagged"]) == 0
    text = capsys.readouterr().out
    assert "samples flagged" in text and data.sample_ids[7] in text
    assert main(["rank", "--pool", str(tmp_path / "p"), "--method", "joint", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "joint"


def test_a_fit_across_a_near_separable_benchmark_leaves_its_plateau(tmp_path: Path) -> None:
    # Seed 11 of benches/convergence_bench.py's second cell: one benchmark's location and
    # spread sit on a plateau of the posterior, where every pass moves a hair more than
    # the last. Judging the extrapolations by their changes refused every jump there and
    # the fit took 5,330 passes; judged by the objective 739, and 433 with shorter jumps.
    data = generate(100, 5_000, missing=0.9, structure="benchmarks", binary_fraction=0.5, seed=11)
    board = _synthetic_pool(tmp_path / "pool", data).rank(method="joint", interval="none")
    assert board.converged
    assert board.iterations < 2_000
    truth = dict(zip(data.model_ids, data.true_strength, strict=True))
    tau = kendall_tau([row.score for row in board], [truth[row.model] for row in board])
    assert tau > 0.95


def test_a_fit_whose_passes_overshoot_takes_short_jumps(tmp_path: Path) -> None:
    # Seed 6 of benches/convergence_bench.py's 95%-missing cell: the skills of two models
    # that failed nearly every sample alternate sides of their optimum (a mode with
    # eigenvalue near -0.92). SQUAREM's step length for it is 0.52; bounded at 1, every jump
    # was a plain pass and the fit took 202 passes, with jumps down to 1/2 it takes 31.
    data = generate(100, 5_000, missing=0.95, binary_fraction=1.0, seed=6)
    board = _synthetic_pool(tmp_path / "pool", data).rank(method="joint", interval="none")
    assert board.converged
    assert board.iterations < 100


def test_item_diagnostics_resume_the_leaderboard_s_fit(tmp_path: Path) -> None:
    data = generate(30, 600, missing=0.5, binary_fraction=1.0, seed=5)
    pool = _synthetic_pool(tmp_path / "p", data, data.value)
    cold = pool.item_diagnostics()
    seen: list[object] = []

    class Recording:
        """Forwards to the Rust pool and records the solution diagnostics start from."""

        def __init__(self, inner: object) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self._inner, name)

        def item_diagnostics(self, *arguments: object) -> dict:
            seen.append(arguments[4])
            return self._inner.item_diagnostics(*arguments)

    pool._inner = Recording(pool._inner)
    assert pool.item_diagnostics().equals(cold) and seen[-1] is None
    pool.rank()
    resumed = pool.item_diagnostics()
    assert isinstance(seen[-1], onebench._core.Solution)
    np.testing.assert_allclose(
        resumed.column("discrimination").to_numpy(),
        cold.column("discrimination").to_numpy(),
        atol=1e-5,
    )
    assert resumed.column("flagged").to_pylist() == cold.column("flagged").to_pylist()
