"""A user imports an lm-evaluation-harness folder and an Arena battle file into one
pool, confirms which names are one model, and gets one ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from importer_fixtures import FIXTURES
from onebench.cli import main


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lm_eval_folder_and_arena_battles_give_one_ranking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = str(tmp_path / "pool")
    lm_eval, arena = str(FIXTURES / "lm_eval"), str(FIXTURES / "arena" / "battles.jsonl")
    mapping = str(tmp_path / "models.json")

    # Without confirmed identities the sources name their models differently: the
    # look-alikes are reported, and nothing links the two halves of the pool.
    code, out, err = _cli(capsys, "import", lm_eval, arena, "--pool", pool, "--json")
    assert code == 0, err
    assert "'Tiny-7B' looks like 'acme/tiny-7b'" in err
    code, out, _ = _cli(capsys, "rank", "--pool", pool, "--json")
    assert json.loads(out)["disconnected"]

    # With the proposals confirmed as a mapping file, a fresh pool ranks everyone.
    pool = str(tmp_path / "pool2")
    _cli(capsys, "import", lm_eval, "--pool", pool)
    code, out, _ = _cli(capsys, "models", "suggest", arena, "--pool", pool, "--write", mapping)
    assert code == 0 and "Tiny-7B" in out
    code, out, err = _cli(capsys, "import", arena, "--pool", pool, "--models", mapping, "--json")
    assert code == 0 and "looks like" not in err
    assert json.loads(out)["models_added"] == 1  # other-9b; the two others are aliases

    code, out, _ = _cli(capsys, "stats", "--pool", pool, "--json")
    stats = json.loads(out)
    assert set(stats["benchmarks"]) == {"toy_mc", "toy_gen", "arena"}
    assert stats["models"] == 3
    code, out, _ = _cli(capsys, "rank", "--pool", pool, "--json")
    ranking = json.loads(out)
    assert not ranking["disconnected"]
    models = [row["model"] for row in ranking["models"]]
    assert sorted(models) == ["acme/tiny-13b", "acme/tiny-7b", "other-9b"]
    # tiny-13b answers every lm-eval question and wins or ties all its battles.
    assert models[0] == "acme/tiny-13b"
