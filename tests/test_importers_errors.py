"""Malformed and truncated files: the error names the file and the line, and nothing is
committed (not even the other, valid sources of the same import)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import onebench
import pytest
from importer_fixtures import FIXTURES, details_parquet, eval_log, listing
from onebench.cli import main
from onebench.importers import import_sources


def _copy(tmp_path: Path, relative: str) -> Path:
    source = FIXTURES / relative
    target = tmp_path / "input" / relative
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    return target


def _edit_line(path: Path, number: int, edit: Callable[[dict], None]) -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[number - 1])
    edit(record)
    lines[number - 1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def _truncate(path: Path, keep: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _lm_eval_truncated(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "lm_eval")
    log = next(folder.rglob("samples_toy_mc_2024-05-01*"))
    text = log.read_text()
    log.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 40])  # cut inside line 3
    return folder, log


def _lm_eval_missing_doc_id(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "lm_eval")
    log = next(folder.rglob("samples_toy_gen_*"))
    _edit_line(log, 3, lambda record: record.pop("doc_id"))
    return folder, log


def _lm_eval_not_binary(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "lm_eval")
    log = next(folder.rglob("samples_toy_mc_2024-05-02*"))
    _edit_line(log, 2, lambda record: record.update(acc=0.5))
    return folder, log


def _helm_truncated(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "helm")
    stats = next(folder.rglob("*tiny-7b/per_instance_stats.json"))
    _truncate(stats, 0.8)
    return folder, stats


def _helm_missing_instance_id(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "helm")
    stats = next(folder.rglob("*tiny-13b/per_instance_stats.json"))
    entries = json.loads(stats.read_text())
    entries[1].pop("instance_id")
    stats.write_text("[\n" + ",\n".join(json.dumps(entry) for entry in entries) + "\n]\n")
    return folder, stats


def _alpaca_unclosed(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "alpaca_eval")
    annotations = next(folder.rglob("tiny-13b/*/annotations.json"))
    text = annotations.read_text().rstrip()
    annotations.write_text(text[: text.rindex("]")])
    return folder, annotations


def _alpaca_bad_preference(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "alpaca_eval")
    annotations = next(folder.rglob("tiny-13b/*/annotations.json"))
    records = json.loads(annotations.read_text())
    records[2]["preference"] = 2.5
    annotations.write_text("[\n" + ",\n".join(json.dumps(record) for record in records) + "\n]")
    return folder, annotations


def _arena_bad_winner(tmp_path: Path) -> tuple[Path, Path]:
    battles = _copy(tmp_path, "arena/battles.jsonl")
    _edit_line(battles, 4, lambda record: record.update(winner="model_c"))
    return battles, battles


def _arena_same_model(tmp_path: Path) -> tuple[Path, Path]:
    # Found by the store (a pairwise row with model_a == model_b), reported at its line.
    battles = _copy(tmp_path, "arena/battles.jsonl")
    _edit_line(battles, 3, lambda record: record.update(model_b=record["model_a"]))
    return battles, battles


def _arena_truncated(tmp_path: Path) -> tuple[Path, Path]:
    battles = _copy(tmp_path, "arena/battles.jsonl")
    _truncate(battles, 0.9)
    return battles, battles


def _inspect_truncated(tmp_path: Path) -> tuple[Path, Path]:
    log = eval_log(tmp_path / "toy.eval")
    _truncate(log, 0.5)
    return log, log


def _inspect_bad_sample(tmp_path: Path) -> tuple[Path, Path]:
    folder = _copy(tmp_path, "inspect/toy_task")
    sample = folder / "samples" / "2_epoch_1.json"
    sample.write_text('{"id": 2,\n "epoch": 1,\n "scores": {"match": {"value": "C"}\n')
    return eval_log(tmp_path / "toy.eval", folder), sample


def _details_truncated(tmp_path: Path) -> tuple[Path, Path]:
    parquet = details_parquet(tmp_path / "details")
    _truncate(parquet, 0.5)
    return parquet, parquet


def _long_nan(tmp_path: Path) -> tuple[Path, Path]:
    measurements = tmp_path / "toy" / "measurements.jsonl"
    measurements.parent.mkdir()
    rows = [
        {"sample_id": "t/1", "model": "a", "kind": "binary", "score": 1},
        {"sample_id": "t/1", "model": "b", "kind": "binary", "score": 0},
        {"sample_id": "t/2", "model": "a", "kind": "numeric", "score": float("nan")},
    ]
    measurements.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return measurements, measurements


CASES = {
    "lm-eval truncated log": (_lm_eval_truncated, 3, "not valid JSON"),
    "lm-eval record without doc_id": (_lm_eval_missing_doc_id, 3, "doc_id"),
    "lm-eval binary metric 0.5": (_lm_eval_not_binary, 2, "0 or 1"),
    "helm truncated stats": (_helm_truncated, None, "truncated|not valid JSON"),
    "helm entry without instance_id": (_helm_missing_instance_id, 3, "instance_id"),
    "alpaca list not closed": (_alpaca_unclosed, 4, "truncated"),
    "alpaca preference 2.5": (_alpaca_bad_preference, 4, r"outside \[1, 2\]"),
    "arena unknown winner": (_arena_bad_winner, 4, "model_c"),
    "arena model against itself": (_arena_same_model, 3, "both"),
    "arena truncated": (_arena_truncated, 5, "not valid JSON"),
    "inspect truncated archive": (_inspect_truncated, None, "zip"),
    "inspect malformed sample": (_inspect_bad_sample, 4, "samples/2_epoch_1.json"),
    "details truncated parquet": (_details_truncated, None, "cannot be read"),
    "long format NaN score": (_long_nan, 3, "score"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_file_is_named_with_its_line_and_nothing_is_committed(
    tmp_path: Path, case: str
) -> None:
    build, line, message = CASES[case]
    entry, broken = build(tmp_path)
    pool = onebench.Pool.create(tmp_path / "pool")
    # A valid source first in the same import: it must not be committed either.
    valid = FIXTURES / "arena" / "clean_battles.json"
    version, files = pool.version, listing(pool.path)
    with pytest.raises(onebench.InvalidInputError, match=message) as caught:
        import_sources(pool, [valid, entry])
    text = str(caught.value)
    assert broken.name in text, text
    if line is not None:
        assert f"line {line}:" in text, text
    pool.refresh()
    assert (pool.version, listing(pool.path)) == (version, files)
    assert pool.stats().measurements == 0


def test_cli_reports_the_file_and_line_on_stderr(tmp_path: Path, capsys) -> None:
    battles, _ = _arena_bad_winner(tmp_path)
    code = main(["import", str(battles), "--pool", str(tmp_path / "p")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert f"{battles}, line 4:" in captured.err
    assert not (tmp_path / "p").exists(), "a failed first import creates no pool"
