"""One identity for models (proposed, confirmed, never silent) and for samples (the same
question from two sources is one sample with both provenances)."""

from __future__ import annotations

import json
from pathlib import Path

import onebench
import pytest
from importer_fixtures import FIXTURES
from onebench._identity import ModelMapping, date_suffix, name_key, suggest
from onebench.cli import main
from onebench.importers import import_sources

LM_EVAL = FIXTURES / "lm_eval"
HELM = FIXTURES / "helm"
ARENA = FIXTURES / "arena" / "battles.jsonl"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_name_keys_ignore_case_organisation_separators_and_packaging() -> None:
    assert len({name_key(n) for n in ("gpt4o", "GPT-4o", "openai/gpt-4o", "gpt_4o")}) == 1
    assert name_key("TheBloke/Llama-2-7B-GPTQ") == name_key("meta-llama/Llama-2-7b-hf")
    assert name_key("Qwen2.5-7B-Instruct-AWQ") == name_key("qwen2.5-7b-instruct")
    assert name_key("gpt-4o-2024-05-13") != name_key("gpt-4o")
    assert name_key("gpt-4o-2024-05-13", without_date=True) == name_key("gpt-4o")
    assert name_key("claude-3-opus-20240229", without_date=True) == "claude3opus"
    # Chat and instruct variants are other models.
    assert name_key("llama-2-7b-chat") != name_key("llama-2-7b")
    assert date_suffix("gpt-4-0613") == "0613"
    assert date_suffix("mistral-large-2407") is None  # 24 is no month: a version, not a date


def test_suggest_groups_look_alikes_but_not_two_snapshots() -> None:
    proposals = suggest(
        {"gpt4o": [], "gpt-4-0613": [], "gpt-4-0314": []},
        ["GPT-4o", "gpt-4o-2024-05-13", "GPT-4", "llama-3-8b"],
        {"gpt4o": 10},
    )
    assert [(p.model, p.aliases, p.applicable) for p in proposals] == [
        ("gpt4o", ("GPT-4o", "gpt-4o-2024-05-13"), True)
    ]
    # Two models that both hold measurements cannot be merged in place.
    (both,) = suggest({"gpt4o": [], "GPT-4o": []}, [], {"gpt4o": 3, "GPT-4o": 2})
    assert both.model == "gpt4o" and not both.applicable
    # A name and its alias are one model already: nothing to propose.
    assert suggest({"gpt4o": ["GPT-4o"]}, ["GPT-4o"]) == []


def test_mapping_file_round_trip_and_errors(tmp_path: Path) -> None:
    mapping = ModelMapping({"acme/tiny-7b": ["Tiny-7B", "tiny-7b"]})
    path = tmp_path / "models.json"
    mapping.save(path)
    loaded = ModelMapping.load(path)
    assert loaded.canonical("Tiny-7B") == "acme/tiny-7b"
    assert loaded.canonical("acme/tiny-7b") == "acme/tiny-7b"
    assert loaded.canonical("other") is None
    with pytest.raises(onebench.InvalidInputError, match="both"):
        ModelMapping({"a": ["x"], "b": ["x"]})
    path.write_text('{"format": "something-else", "version": 1, "models": {}}')
    with pytest.raises(onebench.InvalidInputError, match="not a model mapping"):
        ModelMapping.load(path)
    path.write_text('{"format": "onebench-model-mapping", "version": 1, "models": {"a": "x"}}')
    with pytest.raises(onebench.InvalidInputError, match="list of alias"):
        ModelMapping.load(path)


def test_look_alike_names_stay_two_models_and_are_reported(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    import_sources(pool, [LM_EVAL])
    report = import_sources(pool, [ARENA])
    assert "Tiny-7B" in pool.model_ids() and "acme/tiny-7b" in pool.model_ids()
    assert ("Tiny-7B", "acme/tiny-7b") in report.lookalikes
    assert ("tiny-13b", "acme/tiny-13b") in report.lookalikes


def test_a_mapping_makes_names_one_model_with_aliases(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    mapping = ModelMapping({"acme/tiny-7b": ["Tiny-7B"], "acme/tiny-13b": ["tiny-13b"]})
    import_sources(pool, [LM_EVAL, ARENA], mapping=mapping)
    assert sorted(pool.model_ids()) == ["acme/tiny-13b", "acme/tiny-7b", "other-9b"]
    table = pool.models()
    aliases = dict(
        zip(table.column("model").to_pylist(), table.column("aliases").to_pylist(), strict=True)
    )
    assert aliases["acme/tiny-7b"] == ["Tiny-7B"]
    pairwise = [row for row in pool.measurements().to_pylist() if row["kind"] == "pairwise"]
    assert {row["model_a"] for row in pairwise} | {row["model_b"] for row in pairwise} == {
        "acme/tiny-7b",
        "acme/tiny-13b",
        "other-9b",
    }
    board = pool.rank(interval="none")
    assert not board.disconnected and len(board) == 3


def test_models_alias_before_import_then_the_name_resolves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = str(tmp_path / "pool")
    assert _cli(capsys, "import", str(LM_EVAL), "--pool", pool)[0] == 0
    code, out, _ = _cli(capsys, "models", "alias", "acme/tiny-7b", "Tiny-7B", "--pool", pool)
    assert code == 0 and "confirmed 1 alias" in out
    code, out, err = _cli(capsys, "import", str(ARENA), "--pool", pool, "--json")
    assert code == 0
    assert "'Tiny-7B'" not in err  # confirmed: no longer reported as a look-alike
    assert "'tiny-13b' looks like 'acme/tiny-13b'" in err
    code, out, _ = _cli(capsys, "models", "list", "--pool", pool, "--json")
    models = {row["model"]: row for row in json.loads(out)["models"]}
    assert models["acme/tiny-7b"]["aliases"] == ["Tiny-7B"]
    # 5 lm-eval measurements and 3 arena battles.
    assert models["acme/tiny-7b"]["measurements"] == 8
    assert "Tiny-7B" not in models


def test_models_alias_refuses_to_merge_two_measured_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = str(tmp_path / "pool")
    _cli(capsys, "import", str(LM_EVAL), str(ARENA), "--pool", pool)
    code, _, err = _cli(capsys, "models", "alias", "acme/tiny-7b", "Tiny-7B", "--pool", pool)
    assert code == 2
    assert "cannot become one in place" in err and "--models" in err


def test_suggest_writes_a_mapping_that_import_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = str(tmp_path / "pool")
    mapping = tmp_path / "models.json"
    _cli(capsys, "import", str(LM_EVAL), "--pool", pool)
    code, out, _ = _cli(
        capsys, "models", "suggest", str(ARENA), "--pool", pool, "--write", str(mapping), "--json"
    )
    assert code == 0
    proposals = {p["model"]: p["aliases"] for p in json.loads(out)["proposals"]}
    assert proposals == {"acme/tiny-13b": ["tiny-13b"], "acme/tiny-7b": ["Tiny-7B"]}
    assert _cli(capsys, "import", str(ARENA), "--pool", pool, "--models", str(mapping))[0] == 0
    assert sorted(onebench.Pool.open(pool).model_ids()) == [
        "acme/tiny-13b",
        "acme/tiny-7b",
        "other-9b",
    ]


def test_the_same_question_from_two_sources_is_one_sample_with_both_provenances(
    tmp_path: Path,
) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    report = import_sources(pool, [LM_EVAL, HELM])  # one import: HELM sees lm-eval's samples
    assert report.samples_merged == 1
    copies = pool.sample_copies().to_pylist()
    assert [(c["sample_id"], c["same_as"]) for c in copies] == [
        ("helm/toy_mc:subject=general/id11", "lm-eval/toy_mc/0")
    ]
    assert copies[0]["benchmark"] == "toy_mc:subject=general"
    assert copies[0]["references"] == ["eight"]
    rows = [r for r in pool.measurements().to_pylist() if r["sample_id"] == "lm-eval/toy_mc/0"]
    assert sorted((r["source"], r["model"]) for r in rows) == [
        ("helm", "acme/tiny-13b"),
        ("helm", "acme/tiny-7b"),
        ("lm-eval-harness", "acme/tiny-13b"),
        ("lm-eval-harness", "acme/tiny-7b"),
    ]
    assert pool.stats().samples == 6  # 5 lm-eval + the other HELM question
    # Ranking a custom benchmark by the copy's id reaches the one sample.
    assert pool.sample_indexes(["helm/toy_mc:subject=general/id11"]).tolist() == (
        pool.sample_indexes(["lm-eval/toy_mc/0"]).tolist()
    )
    # Importing HELM again (after lm-eval, in another command) changes nothing.
    again = import_sources(pool, [HELM])
    assert (again.samples_added, again.measurements_added) == (0, 0)


def _pool_with(tmp_path: Path, texts: dict[str, str], kind: str = "binary") -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path / "pool")
    measurements = tmp_path / "first" / "measurements.jsonl"
    measurements.parent.mkdir()
    samples = measurements.parent / "samples.jsonl"
    samples.write_text(
        "".join(json.dumps({"sample_id": s, "text": t}) + "\n" for s, t in texts.items())
    )
    rows = (
        [{"sample_id": s, "model": "m", "kind": kind, "score": 1} for s in texts]
        if kind != "pairwise"
        else [
            {"sample_id": s, "kind": "pairwise", "model_a": "m", "model_b": "n", "winner": "a"}
            for s in texts
        ]
    )
    measurements.write_text("".join(json.dumps(row) + "\n" for row in rows))
    import_sources(pool, [measurements.parent])
    return pool


def test_no_merge_when_the_match_is_ambiguous_or_the_metric_differs(tmp_path: Path) -> None:
    question = "How many legs does a spider have?\n\n(A) six\n(B) eight\n(C) ten\n(D) four"
    # Two pool samples with this text: which one would it be?
    pool = _pool_with(tmp_path / "a", {"x/1": question, "x/2": question.upper()})
    assert import_sources(pool, [LM_EVAL]).samples_merged == 0
    # The pool's copy is measured pairwise; lm-eval measures it binary: kept apart.
    pool = _pool_with(tmp_path / "b", {"x/1": question}, kind="pairwise")
    assert import_sources(pool, [LM_EVAL]).samples_merged == 0
    # Binary measurements on a numeric sample: merged, stored as 0/1 scores.
    pool = _pool_with(
        tmp_path / "c",
        {"x/1": "  how many legs does a SPIDER have?\n(A) six (B) eight (C) ten (D) four"},
        kind="numeric",
    )
    report = import_sources(pool, [LM_EVAL])
    assert report.samples_merged == 1
    rows = [r for r in pool.measurements().to_pylist() if r["sample_id"] == "x/1"]
    assert {r["kind"] for r in rows} == {"numeric"} and len(rows) == 3
