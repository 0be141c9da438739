"""The joint model's form: chosen by held-out measurements, reported on the leaderboard."""

from __future__ import annotations

import json

import numpy as np
import onebench
import pandas as pd
import pytest
from onebench.exceptions import InvalidInputError


def _pool(tmp_path, *, interaction: float, seed: int = 0) -> onebench.Pool:
    """40 models x 1,200 binary samples in 2 categories of one benchmark, 30% of cells
    measured; a model's skill on the second category differs from its skill on the first
    by ``interaction`` times an independent normal."""
    rng = np.random.default_rng(seed)
    n_models, n_samples = 40, 1_200
    skills = rng.normal(0.0, 1.0, n_models)
    other = skills + interaction * rng.normal(0.0, 1.0, n_models)
    category = np.repeat(["a", "b"], n_samples // 2)
    difficulty = rng.normal(0.0, 1.0, n_samples)
    rows = []
    for sample in range(n_samples):
        skill = skills if category[sample] == "a" else other
        for model in np.flatnonzero(rng.random(n_models) < 0.3):
            p = 1.0 / (1.0 + np.exp(-(skill[model] - difficulty[sample])))
            rows.append((f"s{sample}", f"m{model:02d}", float(rng.random() < p)))
    measurements = pd.DataFrame(rows, columns=["sample_id", "model", "score"]).assign(kind="binary")
    samples = pd.DataFrame(
        {
            "sample_id": [f"s{s}" for s in range(n_samples)],
            "benchmark": "bench",
            "category": category,
        }
    )
    pool = onebench.Pool.create(tmp_path / "pool")
    models = sorted(set(measurements["model"]))
    pool.add_measurements(measurements, samples=samples, models=models, source="synthetic")
    return pool


def test_a_part_enters_only_where_held_out_measurements_support_it(tmp_path):
    plain = _pool(tmp_path / "plain", interaction=0.0).rank(interval="none").model_form
    assert plain is not None and plain.chosen_by == "cross-validation"
    assert "deviations" not in plain.parts
    assert plain.candidates[0].form == "core"
    structured = _pool(tmp_path / "structured", interaction=1.5).rank(interval="none")
    form = structured.model_form
    assert form is not None and "deviations" in form.parts
    tried = {candidate.form: candidate for candidate in form.candidates}
    kept = [candidate for candidate in form.candidates if "deviations" in candidate.parts]
    assert kept and kept[0].kept and kept[0].gain > 2 * kept[0].standard_error
    assert form.measurements > 1_000 and "core" in tried
    assert "deviations: kept" in form.reason


def test_a_given_form_is_used_and_reported(tmp_path):
    pool = _pool(tmp_path, interaction=1.5)
    core = pool.rank(form="core", interval="none")
    assert core.model_form is not None
    assert (core.model_form.name, core.model_form.parts) == ("core", ())
    assert core.model_form.chosen_by == "given" and core.model_form.candidates == ()
    full = pool.rank(form="full", interval="none")
    assert full.model_form is not None
    assert full.model_form.parts == onebench.ranking.FORM_PARTS
    some = pool.rank(form="core+deviations", interval="none")
    assert some.model_form is not None and some.model_form.parts == ("deviations",)
    # The forms are different models: their scores differ.
    assert core.models != full.models or any(
        abs(core[m].score - full[m].score) > 1e-6 for m in core.models
    )


def test_model_form_in_json_and_table(tmp_path):
    board = _pool(tmp_path, interaction=1.5).rank()
    payload = json.loads(board.to_json())
    assert payload["model_form"]["chosen_by"] == "cross-validation"
    assert payload["model_form"]["candidates"][0]["form"] == "core"
    assert {"log_likelihood", "gain", "standard_error", "kept"} <= set(
        payload["model_form"]["candidates"][0]
    )
    assert "model form: " in str(board)
    assert _pool(tmp_path / "mean", interaction=0.0).rank(method="mean").model_form is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"form": "fancy"}, "unknown form"),
        ({"form": "core+spreads+spreads"}, "unknown form"),
        ({"form": 3}, "expected a string"),
        ({"form": "core", "method": "mean"}, "only for the joint method"),
    ],
)
def test_bad_forms_are_refused_naming_the_argument(tmp_path, kwargs, message):
    pool = _pool(tmp_path, interaction=0.0)
    with pytest.raises(InvalidInputError, match=message) as caught:
        pool.rank(**kwargs)
    assert caught.value.field == "form"


def test_cli_form_flag(tmp_path, capsys):
    from onebench.cli import main

    pool = _pool(tmp_path, interaction=1.5)
    assert main(["rank", "--pool", str(pool.path), "--json", "--form", "core"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model_form"]["name"] == "core"
    assert payload["model_form"]["chosen_by"] == "given"
    assert main(["rank", "--pool", str(pool.path), "--form", "nonsense"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "form" in error[0]
