"""Incremental import: the same files twice change nothing; a newer file adds only what
is new (and a cell measured again with another value keeps its first value)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onebench
import pytest
from importer_fixtures import FIXTURES, details_parquet, eval_log, listing
from onebench.importers import import_sources

SOURCES = {
    "lm-eval": lambda tmp: FIXTURES / "lm_eval",
    "helm": lambda tmp: FIXTURES / "helm",
    "alpaca-eval": lambda tmp: FIXTURES / "alpaca_eval",
    "arena": lambda tmp: FIXTURES / "arena",
    "inspect": lambda tmp: eval_log(tmp / "toy.eval"),
    "open-llm-leaderboard": lambda tmp: details_parquet(tmp / "details"),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_importing_the_same_files_twice_changes_nothing(tmp_path: Path, name: str) -> None:
    source = SOURCES[name](tmp_path)
    pool = onebench.Pool.create(tmp_path / "pool")
    first = import_sources(pool, [source])
    assert first.measurements_added > 0
    before = (pool.version, listing(pool.path), pool.stats())
    again = import_sources(pool, [source])
    assert (again.samples_added, again.models_added, again.measurements_added) == (0, 0, 0)
    assert again.measurements_present == first.measurements_added
    assert (pool.version, listing(pool.path), pool.stats()) == before
    # Both in one command: the second copy is recognised within the import too.
    fresh = onebench.Pool.create(tmp_path / "fresh")
    twice = import_sources(fresh, [source, source])
    assert twice.measurements_added == first.measurements_added


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def test_a_newer_lm_eval_run_adds_only_its_new_rows(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    import_sources(pool, [FIXTURES / "lm_eval"])
    newer = tmp_path / "newer" / "acme__tiny-7b"
    shutil.copytree(FIXTURES / "lm_eval" / "acme__tiny-7b", newer)
    log = next(newer.glob("samples_toy_mc_*"))
    records = _lines(log)
    records[1]["acc"] = 1.0  # doc 1 scored again, differently
    extra = dict(records[2], doc_id=3, acc=1.0)
    extra["doc"] = dict(records[2]["doc"], question="What is 6 times 8?")
    _write(log, [*records, extra])
    report = import_sources(pool, [newer])
    assert report.measurements_added == 1
    assert report.measurements_present == 5
    assert report.measurements_changed == 1
    assert report.samples_added == 1
    scores = {
        (row["sample_id"], row["model"]): row["score"] for row in pool.measurements().to_pylist()
    }
    assert scores[("lm-eval/toy_mc/1", "acme/tiny-7b")] == 0.0  # the first value is kept
    assert scores[("lm-eval/toy_mc/3", "acme/tiny-7b")] == 1.0


def test_a_newer_battle_dump_adds_only_new_battles(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    import_sources(pool, [FIXTURES / "arena" / "battles.jsonl"])
    records = _lines(FIXTURES / "arena" / "battles.jsonl")
    # One more vote on a known question and pair (a second judge), and a new question.
    repeat = dict(records[1], judge="arena_user_44", tstamp=1714560000.0)
    new = dict(records[0], question_id="a1f9", winner="model_a", tstamp=1714560100.0)
    newer = tmp_path / "battles-newer.jsonl"
    _write(newer, [*records, repeat, new])
    report = import_sources(pool, [newer])
    assert (report.measurements_added, report.measurements_present) == (2, 5)
    votes = [row for row in pool.measurements().to_pylist() if row["sample_id"] == "arena/a1f1"]
    assert len(votes) == 2


def test_a_newer_annotations_file_adds_the_newly_judged_instruction(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    original = next((FIXTURES / "alpaca_eval").rglob("tiny-7b/*/annotations.json"))
    import_sources(pool, [original])
    records = json.loads(original.read_text())
    records[2]["preference"] = 1.7  # the judge answered this time
    newer = tmp_path / "annotations.json"
    newer.write_text(json.dumps(records, indent=1))
    report = import_sources(pool, [newer])
    assert (report.measurements_added, report.measurements_present) == (1, 2)
    assert pool.stats().pairwise == 3
