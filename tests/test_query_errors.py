"""Bad input to ``pool.query`` gets a clear error naming the argument, before any model
loads or anything is searched."""

from __future__ import annotations

from pathlib import Path

import onebench
import pytest
from _query_helpers import ENCODER, topic_pool
from onebench.exceptions import InvalidInputError


@pytest.fixture
def embedded(tmp_path: Path) -> onebench.Pool:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    return pool


@pytest.mark.parametrize(
    ("text", "options", "field", "message"),
    [
        ("", {}, "query", "the query text is empty"),
        ("   \n", {}, "query", "the query text is empty"),
        (None, {}, "query", "give a text, an image or a where filter"),
        (42, {}, "query", "expected a string"),
        ("x" * 10_001, {}, "query", "at most 10000"),
        ("court", {"top_k": 0}, "top_k", "positive integer"),
        ("court", {"top_k": -3}, "top_k", "positive integer"),
        ("court", {"top_k": 2.5}, "top_k", "positive integer"),
        ("court", {"top_k": True}, "top_k", "positive integer"),
        ("court", {"threshold": 1.5}, "threshold", r"\[-1, 1\]"),
        ("court", {"threshold": float("nan")}, "threshold", r"\[-1, 1\]"),
        ("court", {"threshold": "high"}, "threshold", "a number or 'default'"),
        ("court", {"where": {"colour": "red"}}, "where", "unknown filter key 'colour'"),
        ("court", {"where": ["difficulty like 3"]}, "where", "cannot read"),
        ("court", {"method": "fuzzy"}, "method", "semantic, lexical"),
        ("court", {"index": "faiss"}, "index", "auto, exact, ann"),
        ("court", {"on": "title"}, "field", "unknown field 'title'"),
        ("court", {"on": []}, "on", "at least one field"),
        ("court", {"on": "references"}, "encoder", "no references embeddings"),
        ("court", {"index": "ann"}, "index", "no ANN index"),
        ("court", {"index": "ann", "where": {"category": "law"}}, "index", "without where"),
        ("court", {"method": "lexical", "threshold": "default"}, "threshold", "BM25"),
        ("court", {"method": "lexical", "on": "image"}, "on", "text and references"),
    ],
)
def test_bad_queries(
    embedded: onebench.Pool, text: object, options: dict, field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        embedded.query(text, encoder=ENCODER, **options)
    assert raised.value.field == field


def test_a_pool_without_embeddings(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    with pytest.raises(InvalidInputError, match="no embeddings for encoder bow:test") as raised:
        pool.query("court", encoder=ENCODER)
    assert "onebench embed" in str(raised.value) and "lexical" in str(raised.value)
    # The named fallback works without embeddings.
    assert pool.query("court", method="lexical").sample_ids[0] in {"law/0", "law/1"}


def test_unembedded_samples_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    pool.add_samples({"sample_id": ["late"], "text": ["court appeal"]})
    with caplog.at_level("WARNING", logger="onebench"):
        found = pool.query("court appeal", encoder=ENCODER)
    assert "late" not in found.sample_ids
    assert "1 of 10 samples with a text have no embedding" in caplog.text
