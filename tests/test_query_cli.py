"""``onebench embed`` and ``onebench query``: tables on stdout, JSON with --json, errors
on stderr with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _query_helpers import ENCODER, topic_pool
from onebench.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def pool_path(tmp_path: Path) -> str:
    return str(topic_pool(tmp_path / "pool").path)


def test_embed_query_save_rank(pool_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "embed",
        "--pool",
        pool_path,
        "--encoder",
        ENCODER,
        "--field",
        "text",
        "--field",
        "references",
        "--no-progress",
        "--json",
    )
    assert code == 0
    assert [(e["field"], e["embedded"]) for e in json.loads(out)["embedded"]] == [
        ("text", 9),
        ("references", 9),
    ]
    code, out, _ = _run(capsys, "embed", "--pool", pool_path, "--encoder", ENCODER, "--no-progress")
    assert "embedded 0 samples" in out and "9 already had one" in out

    code, out, _ = _run(
        capsys,
        "query",
        "court statute",
        "--pool",
        pool_path,
        "--encoder",
        ENCODER,
        "--on",
        "text",
        "--top-k",
        "2",
        "--method",
        "semantic",  # law/0 and law/1 tie on every hybrid signal; the dense order is fixed
        "--save",
        "law",
        "--rank",
    )
    assert code == 0
    assert "2 samples for 'court statute'" in out
    assert "law/2" in out and "contract breach" not in out.split("plackett-luce")[0]
    assert "saved as benchmark 'law'" in out
    assert out.index("lawyer") < out.index("chemist")  # the leaderboard, best first

    code, out, _ = _run(capsys, "query", "--list", "--pool", pool_path)
    assert "law" in out and "court statute" in out

    code, out, _ = _run(capsys, "query", "--load", "law", "--rank", "--json", "--pool", pool_path)
    payload = json.loads(out)
    assert payload["benchmark"]["name"] == "law"
    assert payload["benchmark"]["query"]["text"] == "court statute"
    assert [m["model"] for m in payload["leaderboard"]["models"]] == ["lawyer", "chemist"]
    assert payload["leaderboard"]["models"][0]["n_samples"] == 2


def test_where_threshold_lexical(pool_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "query",
        "--where",
        "category=math",
        "--where",
        "difficulty<2",
        "--pool",
        pool_path,
        "--json",
    )
    assert code == 0
    assert json.loads(out)["benchmark"]["sample_ids"] == ["math/0", "math/1"]
    _run(capsys, "embed", "--pool", pool_path, "--encoder", ENCODER, "--no-progress")
    code, out, _ = _run(
        capsys, "query", "court", "--threshold", "--pool", pool_path, "--encoder", ENCODER, "--json"
    )
    benchmark = json.loads(out)["benchmark"]
    assert benchmark["query"]["threshold"] == 0.2 and len(benchmark["sample_ids"]) == 2
    code, out, _ = _run(capsys, "query", "titration", "--lexical", "--pool", pool_path)
    assert "chemistry/1" in out and "method=lexical" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", ""], "the query text is empty"),
        (["query", "court", "--top-k", "0"], "top_k: must be a positive integer"),
        (["query", "court", "--where", "colour=red"], "unknown filter key 'colour'"),
        (["query", "court"], "no embeddings for encoder bow:test"),
        (["query", "court", "--threshold", "high"], "--threshold: expected a number"),
        (["query"], "give a text"),
        (["query", "court", "--load", "x"], "--load NAME takes no query"),
        (["query", "--load", "nothing"], "no saved benchmark 'nothing'"),
    ],
)
def test_errors(
    pool_path: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *args, "--pool", pool_path, "--encoder", ENCODER)
    assert code == 2 and out == ""
    assert message in err and err.startswith("onebench query: error:")
