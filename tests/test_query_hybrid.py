"""Hybrid retrieval, inferred labels, the capability map and the automatic cut-off, with the
torch-free bag-of-words encoder (``_query_helpers``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onebench
import pytest
from _query_helpers import ENCODER, TOPICS, BagOfWords, topic_pool
from onebench.cli import main
from onebench.exceptions import InvalidInputError
from onebench.query import EmbeddingSet
from onebench.query._cutoff import otsu_threshold
from onebench.query._hybrid import HybridSettings


def _embedded(path: Path) -> onebench.Pool:
    pool = topic_pool(path)
    pool.embed(ENCODER, progress=False)
    return pool


def _half_labelled(path: Path) -> onebench.Pool:
    """The topic pool's texts twice: once with their category, once (ids ``u/...``) without."""
    pool = onebench.Pool.create(path)
    rows = [(topic, text) for topic, texts in TOPICS.items() for text in texts]
    pool.add_samples(
        {
            "sample_id": [f"l/{i}" for i in range(len(rows))],
            "benchmark": ["labelled"] * len(rows),
            "text": [text for _, text in rows],
            "category": [topic for topic, _ in rows],
        }
    )
    pool.add_samples(
        {
            "sample_id": [f"u/{topic}/{i}" for i, (topic, _) in enumerate(rows)],
            "benchmark": ["unlabelled"] * len(rows),
            "text": [f"{text} today" for _, text in rows],
        }
    )
    pool.embed(ENCODER, progress=False)
    return pool


def test_hybrid_is_the_default_and_is_recorded(tmp_path: Path) -> None:
    pool = _embedded(tmp_path / "pool")
    found = pool.query("court ruling on a contract", top_k=2, encoder=ENCODER)
    assert set(found.sample_ids) == {"law/0", "law/1"}
    assert found.query["method"] == "hybrid"
    assert found.query["retrieval"]["settings"] == HybridSettings().to_dict()
    assert found.query["variant"] == ["float32"]
    saved = pool.save_benchmark(found, "contracts")
    reloaded = pool.benchmark("contracts")
    assert reloaded.query["method"] == "hybrid"
    assert reloaded.rerun(pool).sample_ids == saved.sample_ids


def test_feedback_and_fusion_change_the_ranking_as_documented(tmp_path: Path) -> None:
    pool = _embedded(tmp_path / "pool")
    # "court" is in two law samples: BM25 and the dense vector agree on them; feedback from
    # them brings in the third law sample, which shares no word with the query but shares
    # "court"-adjacent words with the two hits.
    plain = HybridSettings(feedback_weight=0.0, lexical_weight=0.0, topic_weight=0.0)
    dense = pool.query("court", top_k=9, encoder=ENCODER, settings=plain)
    assert set(dense.sample_ids[:2]) == {"law/0", "law/1"}
    fed = pool.query("court", top_k=9, encoder=ENCODER, settings=HybridSettings(lexical_weight=1))
    assert set(fed.sample_ids[:2]) == {"law/0", "law/1"}
    # Feedback adds the two hits' centroid: law/2 ("statute appeal judge") shares no word
    # with them, so it stays where it was; the ranking of the rest is by the fused score.
    assert fed.query["retrieval"]["settings"]["feedback_weight"] == 0.5
    similarities = dict(zip(fed.sample_ids, fed.similarities, strict=True))
    # The similarities reported are to the query as given, not to the expanded one.
    assert similarities["law/0"] == pytest.approx(
        dense.similarities[dense.sample_ids.index("law/0")]
    )


def test_labels_propagate_without_overwriting_and_filters_use_them(tmp_path: Path) -> None:
    pool = _half_labelled(tmp_path / "pool")
    report = pool.propagate_labels("category", encoder=ENCODER, neighbours=1)
    assert (report.labelled, report.inferred) == (9, 9)
    assert report.values == {"chemistry": 3, "law": 3, "math": 3}
    document = json.loads((pool.path / "labels" / "category.json").read_text())
    assert set(document["labels"]) == {
        f"u/{t}/{i}" for i, t in enumerate(np.repeat(list(TOPICS), 3))
    }
    for sample_id, (value, confidence) in document["labels"].items():
        assert sample_id.split("/")[1] == value and confidence == 1.0
    # A source's own label is never replaced, and its samples get no inferred one.
    own = pool.query(None, where={"category_inferred": "law"})
    assert all(sample_id.startswith("u/law/") for sample_id in own.sample_ids) and len(own) == 3
    law = pool.query(None, where={"category": "law"})
    assert set(law.sample_ids) == {"l/0", "l/1", "l/2", "u/law/0", "u/law/1", "u/law/2"}
    samples = pool.samples().to_pylist()
    assert all(
        json.loads(row["metadata"] or "{}").get("category") is None
        for row in samples
        if row["sample_id"].startswith("u/")
    )


def test_low_confidence_labels_do_not_stand_in(tmp_path: Path) -> None:
    pool = _half_labelled(tmp_path / "pool")
    # "court" is in two law texts of 4 words, "reaction" in one chemistry text of 3: votes
    # weighted by cosine give law 2 / sqrt(8) against chemistry 1 / sqrt(6).
    pool.add_samples({"sample_id": ["mixed"], "benchmark": ["x"], "text": ["court reaction"]})
    pool.embed(ENCODER, progress=False)
    report = pool.propagate_labels("category", encoder=ENCODER, neighbours=9, min_confidence=0.9)
    assert (report.inferred, report.confident) == (10, 9)
    document = json.loads((pool.path / "labels" / "category.json").read_text())
    law_votes, chemistry_votes = 2 / math.sqrt(8), 1 / math.sqrt(6)
    assert document["labels"]["mixed"] == [
        "law",
        pytest.approx(law_votes / (law_votes + chemistry_votes), abs=1e-3),  # float16 vectors,
    ]
    law = pool.query(None, where={"category": "law"})
    chemistry = pool.query(None, where={"category": "chemistry"})
    assert "mixed" not in law and "mixed" not in chemistry
    unsure = pool.query(None, where=["category_confidence<0.9"])
    assert unsure.sample_ids == ("mixed",)


def test_label_aware_ranking_reaches_unlabelled_samples(tmp_path: Path) -> None:
    pool = _half_labelled(tmp_path / "pool")
    pool.propagate_labels("category", encoder=ENCODER, neighbours=1)
    # "law" occurs in no text: only the label connects the query to these samples.
    found = pool.query("law", top_k=6, encoder=ENCODER)
    assert set(found.sample_ids) == {"l/0", "l/1", "l/2", "u/law/0", "u/law/1", "u/law/2"}
    assert found.query["retrieval"]["labels"] == {"category=law": 1.0}
    dense = pool.query("law", top_k=6, encoder=ENCODER, method="semantic")
    assert "note" in dense.query  # no word, no label: nothing matches the dense query


def test_propagation_errors(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    with pytest.raises(InvalidInputError, match="no text embeddings"):
        pool.propagate_labels("category", encoder=ENCODER)
    pool.embed(ENCODER, progress=False)
    with pytest.raises(InvalidInputError, match="no sample of the pool has a 'colour' label"):
        pool.propagate_labels("colour", encoder=ENCODER)
    with pytest.raises(InvalidInputError, match="neighbours"):
        pool.propagate_labels("category", encoder=ENCODER, neighbours=0)


def test_capability_map(tmp_path: Path) -> None:
    pool = _embedded(tmp_path / "pool")
    topics = pool.topics(encoder=ENCODER, topics=3)
    assert topics["samples"] == 9 and len(topics["topics"]) == 3
    assert sum(t["size"] for t in topics["topics"]) == 9
    sizes = [t["size"] for t in topics["topics"]]
    assert sizes == sorted(sizes, reverse=True)
    for topic in topics["topics"]:
        assert topic["words"] and topic["benchmarks"] == {"toy": topic["size"]}
        members = [s for s, t in topics["assignment"].items() if t == topic["topic"]]
        if topic["category"]["share"] >= 0.5:
            assert topic["label"].startswith(topic["category"]["value"] + ":")
        assert len(members) == topic["size"]
    assert pool.topics(encoder=ENCODER) == topics  # saved, not rebuilt
    # A short query is routed to the topic whose words it shares (a weight turns it on).
    found = pool.query("court", top_k=3, encoder=ENCODER, settings=HybridSettings(topic_weight=0.5))
    routed = found.query["retrieval"]["topics"]
    assert routed and routed[0]["weight"] == 1.0


def test_otsu_splits_two_groups() -> None:
    rng = np.random.default_rng(0)
    high, low = rng.normal(0.8, 0.02, 40), rng.normal(0.2, 0.05, 400)
    cut = otsu_threshold(np.concatenate([high, low]))
    assert low.max() < cut <= high.min()
    assert otsu_threshold(np.array([0.5, 0.5])) == 0.5


def test_automatic_cutoff_is_reported(tmp_path: Path) -> None:
    pool = _half_labelled(tmp_path / "pool")
    pool.propagate_labels("category", encoder=ENCODER, neighbours=1)
    found = pool.query("law", encoder=ENCODER)
    cutoff = found.query["cutoff"]
    assert cutoff["method"] == "otsu" and cutoff["kept"] == len(found) == 6
    assert set(found.sample_ids) == {"l/0", "l/1", "l/2", "u/law/0", "u/law/1", "u/law/2"}
    assert "top_k" not in found.query


def test_nothing_matches_well(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pool = _embedded(tmp_path / "pool")
    with caplog.at_level("WARNING", logger="onebench"):
        found = pool.query("Hungarian poetry", encoder=ENCODER)
    assert (
        len(found) == 0
        and "nothing in the pool matches 'Hungarian poetry' well" in found.query["note"]
    )
    assert "nothing in the pool matches" in caplog.text
    given = pool.query("Hungarian poetry", top_k=2, encoder=ENCODER)
    assert len(given) == 2 and "note" in given.query  # asked for 2: given, with the note
    code = main(["query", "Hungarian poetry", "--pool", str(pool.path), "--encoder", ENCODER])
    assert code == 0


def test_cli_topics_and_propagate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = _half_labelled(tmp_path / "pool")
    code = main(
        [
            "embed",
            "--pool",
            str(pool.path),
            "--encoder",
            ENCODER,
            "--no-progress",
            "--propagate",
            "category",
            "--topics",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "category: inferred for 9 samples from 9 labelled" in out
    assert "capability map:" in out
    code = main(["query", "--topics", "--pool", str(pool.path), "--encoder", ENCODER])
    out = capsys.readouterr().out
    assert code == 0 and "topics over 18 samples" in out
    code = main(["query", "law", "--pool", str(pool.path), "--encoder", ENCODER])
    out = capsys.readouterr().out
    assert code == 0 and "cut-off: score >=" in out and "labels matched: category=law" in out
    code = main(["query", "Hungarian poetry", "--pool", str(pool.path), "--encoder", ENCODER])
    out = capsys.readouterr().out
    assert code == 0 and "0 samples" in out and "nothing in the pool matches" in out


class _Int8Words(BagOfWords):
    variant = "onnx-int8"


def test_variants_are_never_mixed(tmp_path: Path) -> None:
    pool = _embedded(tmp_path / "pool")
    header = EmbeddingSet(pool.path, ENCODER, "text").header()
    assert header["encoder_info"]["variant"] == "float32"
    with pytest.raises(InvalidInputError, match="made by its float32 variant"):
        pool.embed(_Int8Words(ENCODER), progress=False)
    with pytest.raises(InvalidInputError, match="made by the float32 variant"):
        pool.query("court", top_k=2, encoder=_Int8Words(ENCODER))
    with pytest.raises(InvalidInputError, match="variant: expected one of"):
        pool.embed(ENCODER, variant="int4", progress=False)


def test_similarities_stay_cosines(tmp_path: Path) -> None:
    pool = _embedded(tmp_path / "pool")
    hybrid = pool.query("court ruling", top_k=9, encoder=ENCODER)
    dense = pool.query("court ruling", top_k=9, encoder=ENCODER, method="semantic")
    expected = dict(zip(dense.sample_ids, dense.similarities, strict=True))
    for sample_id, similarity in zip(hybrid.sample_ids, hybrid.similarities, strict=True):
        assert math.isclose(similarity, expected[sample_id], abs_tol=1e-6)
