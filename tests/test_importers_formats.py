"""Every importer on its hand-written fixture: what becomes samples, models,
measurements and provenance."""

from __future__ import annotations

import json
from pathlib import Path

import onebench
import pytest
from importer_fixtures import FIXTURES, details_parquet, eval_log
from onebench.importers import ImportOptions, detect_format, import_sources, importer_names


def _import(tmp_path: Path, *paths: Path, **options: str) -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path / "pool")
    import_sources(pool, list(paths), options=ImportOptions(**options))
    return pool


def _rows(pool: onebench.Pool) -> list[dict]:
    return pool.measurements().to_pylist()


def _scores(pool: onebench.Pool) -> dict[tuple[str, str], float]:
    return {(row["sample_id"], row["model"]): row["score"] for row in _rows(pool)}


def _sample(pool: onebench.Pool, sample_id: str) -> dict:
    rows = [row for row in pool.samples().to_pylist() if row["sample_id"] == sample_id]
    assert rows, f"no sample {sample_id}"
    row = rows[0]
    row["metadata"] = json.loads(row["metadata"] or "{}")
    return row


def test_every_format_is_detected(tmp_path: Path) -> None:
    paths = {
        "lm-eval": FIXTURES / "lm_eval",
        "helm": FIXTURES / "helm",
        "alpaca-eval": FIXTURES / "alpaca_eval",
        "arena": FIXTURES / "arena" / "battles.jsonl",
        "inspect": eval_log(tmp_path / "toy.eval"),
        "open-llm-leaderboard": details_parquet(tmp_path / "details"),
        "long": Path(__file__).parent / "fixtures",  # not a data set folder: see below
    }
    assert set(paths) == set(importer_names())
    for name, path in paths.items():
        if name != "long":
            assert detect_format(path).name == name, path
    assert detect_format(FIXTURES / "arena" / "clean_battles.json").name == "arena"
    assert detect_format(next((FIXTURES / "lm_eval").rglob("samples_toy_mc_*"))).name == "lm-eval"
    stray = tmp_path / "notes.txt"
    stray.write_text("hello\n")
    with pytest.raises(onebench.InvalidInputError, match="--format"):
        detect_format(stray)


def test_lm_eval_documents_become_samples_and_metrics_measurements(tmp_path: Path) -> None:
    pool = _import(tmp_path, FIXTURES / "lm_eval")
    assert sorted(pool.model_ids()) == ["acme/tiny-13b", "acme/tiny-7b"]
    # The 13b run rendered a few-shot prompt, the 7b run a zero-shot one: one sample.
    assert pool.stats().samples == 5
    spider = _sample(pool, "lm-eval/toy_mc/0")
    assert spider["text"] == (
        "How many legs does a spider have?\n\n(A) six\n(B) eight\n(C) ten\n(D) four"
    )
    assert spider["references"] == ["B"]
    assert spider["metadata"]["category"] == "biology"
    assert spider["benchmark"] == "toy_mc"
    scores = _scores(pool)
    assert scores[("lm-eval/toy_mc/1", "acme/tiny-7b")] == 0.0
    assert scores[("lm-eval/toy_mc/1", "acme/tiny-13b")] == 1.0
    # Two filters logged per document: "none" is taken (strict-match scored 0 here).
    assert scores[("lm-eval/toy_gen/1", "acme/tiny-7b")] == 1.0
    rows = {(row["sample_id"], row["model"]): row for row in _rows(pool)}
    row = rows[("lm-eval/toy_gen/0", "acme/tiny-7b")]
    assert row["source"] == "lm-eval-harness"
    assert row["grader"] == "lm-eval:acc,lm-eval:exact_match"
    assert row["time"] == "2024-05-01T10:00:00+00:00"
    assert rows[("lm-eval/toy_mc/0", "acme/tiny-13b")]["grader"] == "lm-eval:acc"


def test_lm_eval_metric_option_and_a_samples_file_as_entry(tmp_path: Path) -> None:
    log = next((FIXTURES / "lm_eval" / "acme__tiny-7b").glob("samples_toy_mc_*"))
    pool = _import(tmp_path, log, metric="acc_norm")
    scores = _scores(pool)
    assert scores[("lm-eval/toy_mc/2", "acme/tiny-7b")] == 0.0  # acc was 1, acc_norm 0
    assert pool.model_ids() == ["acme/tiny-7b"]


def test_helm_runs_take_the_main_metric_of_unperturbed_first_trials(tmp_path: Path) -> None:
    pool = _import(tmp_path, FIXTURES / "helm")
    assert sorted(pool.model_ids()) == ["acme/tiny-13b", "acme/tiny-7b"]
    scores = _scores(pool)
    sample = "helm/toy_mc:subject=general/id11"
    # The perturbed (typos) entry scored 0 and is another condition: not taken.
    assert scores[(sample, "acme/tiny-7b")] == 1.0
    # Train trial 1 scored 0: only trial 0 is taken.
    assert scores[("helm/toy_mc:subject=general/id12", "acme/tiny-13b")] == 1.0
    assert len(scores) == 4
    question = _sample(pool, sample)
    assert question["benchmark"] == "toy_mc:subject=general"
    assert question["references"] == ["eight"]
    assert question["text"].startswith("How many legs does a spider have?\n\n(A) six\n(B) eight")
    # The second run has no instances.json: its texts come from scenario_state.json.
    assert {row["grader"] for row in _rows(pool)} == {"helm:exact_match"}


def test_alpaca_eval_preferences_become_pairwise_with_probabilities(tmp_path: Path) -> None:
    pool = _import(tmp_path, FIXTURES / "alpaca_eval")
    rows = _rows(pool)
    assert len(rows) == 5  # one annotation has no preference
    found = sorted((row["model_b"], round(row["probability"], 4), row["winner"]) for row in rows)
    assert found == [
        ("tiny-13b", 0.5, "tie"),
        ("tiny-13b", 0.64, "b"),
        ("tiny-13b", 0.97, "b"),
        ("tiny-7b", 0.2184, "a"),
        ("tiny-7b", 0.9031, "b"),
    ]
    assert {row["model_a"] for row in rows} == {"gpt4_1106_preview"}
    assert {row["judge"] for row in rows} == {"weighted_alpaca_eval_gpt4_turbo"}
    assert pool.stats().samples == 3
    texts = set(pool.samples().column("text").to_pylist())
    assert "Explain in one sentence why the sky is blue." in texts


def test_arena_battles_count_both_ties_and_keep_the_prompt(tmp_path: Path) -> None:
    pool = _import(tmp_path, FIXTURES / "arena" / "battles.jsonl")
    rows = {row["sample_id"]: row for row in _rows(pool)}
    assert rows["arena/a1f0"]["winner"] == "b"
    assert rows["arena/a1f1"]["winner"] == "a"
    assert rows["arena/a1f2"]["winner"] == "tie"
    assert rows["arena/a1f3"]["winner"] == "tie"  # tie (bothbad)
    assert _sample(pool, "arena/a1f4")["text"] == "How many legs does a spider have?"
    assert _sample(pool, "arena/a1f1")["text"] == "What is the capital of Australia?"
    assert rows["arena/a1f0"]["judge"] is None  # a crowd of voters, counted in the provenance
    assert rows["arena/a1f0"]["time"] == "2024-05-01T08:00:00+00:00"


def test_arena_json_list_without_conversations(tmp_path: Path) -> None:
    pool = _import(tmp_path, FIXTURES / "arena" / "clean_battles.json")
    assert sorted(pool.sample_ids()) == ["arena/b200", "arena/b201"]
    assert _sample(pool, "arena/b201")["metadata"] == {"language": "German"}


def test_inspect_log_takes_the_first_epoch_of_the_first_scorer(tmp_path: Path) -> None:
    log = eval_log(tmp_path / "toy.eval")
    pool = _import(tmp_path, log)
    scores = _scores(pool)
    assert scores == {
        ("inspect/toy_arithmetic/1", "acme/tiny-7b"): 1.0,  # epoch 2 scored I: not taken
        ("inspect/toy_arithmetic/2", "acme/tiny-7b"): 0.0,
        ("inspect/toy_arithmetic/3", "acme/tiny-7b"): 1.0,
    }
    assert set(pool.samples().column("metric").to_pylist()) == {"binary"}
    assert _sample(pool, "inspect/toy_arithmetic/2")["text"] == "What is 9 squared?"
    assert _sample(pool, "inspect/toy_arithmetic/3")["text"] == "What is 144 divided by 12?"
    assert _sample(pool, "inspect/toy_arithmetic/2")["references"] == ["81"]
    row = _rows(pool)[0]
    assert (row["source"], row["grader"]) == ("inspect_ai", "inspect:match")
    assert row["time"] == "2024-06-01T12:00:00+00:00"


def test_inspect_partial_credit_makes_a_numeric_scorer(tmp_path: Path) -> None:
    pool = _import(tmp_path, eval_log(tmp_path / "toy.eval"), metric="model_graded_qa")
    assert sorted(_scores(pool).values()) == [0.0, 0.5, 1.0]
    assert set(pool.samples().column("metric").to_pylist()) == {"numeric_higher"}


def test_open_llm_leaderboard_details(tmp_path: Path) -> None:
    pool = _import(tmp_path, details_parquet(tmp_path / "details").parent.parent)
    assert pool.model_ids() == ["acme/tiny-7b"]
    samples = pool.samples().to_pylist()
    # The same example twice in the file stays two samples.
    assert len(samples) == 3
    assert sorted(row["score"] for row in _rows(pool)) == [0.0, 1.0, 1.0]
    mammal = next(row for row in samples if row["text"].startswith("Question: Which"))
    assert mammal["references"] == [" dolphin"]
    assert mammal["benchmark"] == "arc:challenge"
    assert "(B)  dolphin" in mammal["text"]
    row = _rows(pool)[0]
    assert (row["source"], row["grader"]) == ("open-llm-leaderboard", "harness:acc")


def test_format_option_and_source_option(tmp_path: Path) -> None:
    battles = tmp_path / "battles.txt"
    battles.write_text((FIXTURES / "arena" / "battles.jsonl").read_text())
    pool = onebench.Pool.create(tmp_path / "pool")
    report = import_sources(
        pool, [battles], format="arena", options=ImportOptions(source="my-arena")
    )
    assert report.measurements_added == 5
    assert {row["source"] for row in _rows(pool)} == {"my-arena"}
    with pytest.raises(onebench.InvalidInputError, match="unknown format"):
        import_sources(pool, [battles], format="nonsense")
