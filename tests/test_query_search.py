"""Search: exact top-k and threshold against brute force, filters with semantic search,
the ANN index against exact search, lexical BM25 against a hand computation."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import onebench
import pytest
from _query_helpers import ENCODER, topic_pool
from onebench.query import EmbeddingSet
from onebench.query._search import field_matrix, search_exact
from onebench.query._store import FIELDS
from onebench.query._view import sample_view


def _random_pool(
    path: Path, rows: int, parts: int, seed: int = 0
) -> tuple[onebench.Pool, np.ndarray]:
    """A pool whose embeddings are random unit vectors written in ``parts`` parts."""
    rng = np.random.default_rng(seed)
    pool = onebench.Pool.create(path)
    ids = [f"s{i:05d}" for i in range(rows)]
    pool.add_samples(
        {
            "sample_id": ids,
            "text": [f"t{i}" for i in range(rows)],
            "bucket": [i % 7 for i in range(rows)],
        }
    )
    vectors = rng.standard_normal((rows, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float16)
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    bounds = np.linspace(0, rows, parts + 1).astype(int)
    with embedding_set.writer() as writer:
        for start, stop in itertools.pairwise(bounds):
            writer.append(ids[start:stop], vectors[start:stop], {})
    return pool, vectors.astype(np.float32)


def _matrix(pool: onebench.Pool) -> object:
    return field_matrix(EmbeddingSet(pool.path, ENCODER, "text"), sample_view(pool))


@pytest.mark.parametrize("parts", [1, 3])
def test_exact_top_k_and_threshold_match_brute_force(tmp_path: Path, parts: int) -> None:
    pool, vectors = _random_pool(tmp_path / "pool", 5000, parts)
    rng = np.random.default_rng(1)
    query = rng.standard_normal(32).astype(np.float32)
    query /= np.linalg.norm(query)
    truth = vectors @ query
    matrix = _matrix(pool)
    hits = search_exact(matrix, query, top_k=25, threshold=None, allowed=None)
    assert list(hits.samples) == list(np.argsort(-truth, kind="stable")[:25])
    np.testing.assert_allclose(hits.scores, truth[hits.samples], atol=2e-3)
    hits = search_exact(matrix, query, top_k=None, threshold=0.3, allowed=None)
    assert set(hits.samples) == set(np.flatnonzero(truth >= 0.3))
    assert np.all(np.diff(hits.scores) <= 0)
    # The accelerator path (parts kept on the device as float32), run on the CPU here.
    pytest.importorskip("torch")
    on_device = search_exact(matrix, query, top_k=25, threshold=None, allowed=None, device="cpu:0")
    assert list(on_device.samples) == list(np.argsort(-truth, kind="stable")[:25])


@pytest.mark.parametrize("bucket_values", [[3], [0, 1, 2, 3, 4, 5]])
def test_filters_restrict_semantic_search(tmp_path: Path, bucket_values: list[int]) -> None:
    # One bucket in 7 is 14% of rows (a full-block scan); a hand-made 2% mask takes the
    # gather path for narrow filters.
    pool, vectors = _random_pool(tmp_path / "pool", 3000, 2)
    query = vectors[10]
    truth = vectors @ query
    allowed = np.isin(np.arange(3000) % 7, bucket_values)
    for mask in (allowed, np.arange(3000) % 50 == 0):
        hits = search_exact(_matrix(pool), query, top_k=40, threshold=None, allowed=mask)
        candidates = np.flatnonzero(mask)
        expected = candidates[np.argsort(-truth[candidates], kind="stable")[:40]]
        assert list(hits.samples) == list(expected)


def test_ann_index_recall_and_new_rows(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    pool, vectors = _random_pool(tmp_path / "pool", 4000, 2)
    (report,) = pool.build_index(ENCODER)
    assert report.rows == 4000
    rng = np.random.default_rng(2)
    recalls = []
    for _ in range(20):
        query = vectors[rng.integers(4000)] + 0.3 * rng.standard_normal(32).astype(np.float32)
        query /= np.linalg.norm(query)
        exact = set(np.argsort(-(vectors @ query))[:10])
        from onebench.query._ann import search_ann

        found = search_ann(_matrix(pool), query, top_k=10, threshold=None)
        recalls.append(len(exact & set(found.samples)) / 10)
    assert np.mean(recalls) >= 0.9
    # Rows embedded after the build are searched exactly and merged in.
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    pool.add_samples({"sample_id": ["late"], "text": ["late"]})
    late = np.zeros(32, dtype=np.float32)
    late[0] = 1.0
    with embedding_set.writer() as writer:
        writer.append(["late"], late[None, :].astype(np.float16), {})
    from onebench.query._ann import search_ann

    found = search_ann(_matrix(pool), late, top_k=3, threshold=None)
    assert sample_view(pool).ids[found.samples[0]] == "late"
    assert math.isclose(found.scores[0], 1.0, abs_tol=1e-3)


def test_semantic_query_with_filters_and_fields(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, fields=["text", "references"], progress=False)
    benchmark = pool.query("court ruling", encoder=ENCODER, on="text", top_k=3)
    # "court ruling" shares two words with law/0, one with law/1, none with the rest.
    assert benchmark.sample_ids[:2] == ("law/0", "law/1")
    assert benchmark.similarities[2] == pytest.approx(0.0, abs=1e-3)
    filtered = pool.query(
        "court ruling", encoder=ENCODER, on="text", where={"category": "chemistry"}, top_k=5
    )
    assert set(filtered.sample_ids) <= {"chemistry/0", "chemistry/1", "chemistry/2"}
    harder = pool.query("court", encoder=ENCODER, on="text", where=["difficulty>=1"], threshold=0.1)
    assert harder.sample_ids == ("law/1",)
    # References say "answer about law": found through the reference field only.
    by_reference = pool.query("answer about law", encoder=ENCODER, on="references", top_k=3)
    assert set(by_reference.sample_ids) == {"law/0", "law/1", "law/2"}
    both = pool.query("answer about law", encoder=ENCODER, top_k=3)
    assert both.query["on"] == list(FIELDS[:2])
    assert set(both.sample_ids) == {"law/0", "law/1", "law/2"}


def test_threshold_default_and_combined_with_top_k(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    everything = pool.query("court", encoder=ENCODER, threshold=-1.0)
    assert len(everything) == 9
    default = pool.query("court", encoder=ENCODER, threshold="default")
    assert default.query["threshold"] == 0.2
    assert all(s >= 0.2 for s in default.similarities) and len(default) == 2
    assert len(pool.query("court", encoder=ENCODER, threshold=-1.0, top_k=4)) == 4


def test_filter_only_query_needs_no_embeddings(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    benchmark = pool.query(where={"category": ["law", "math"], "difficulty": ("lt", 2)})
    assert set(benchmark.sample_ids) == {"law/0", "law/1", "math/0", "math/1"}
    assert all(math.isnan(s) for s in benchmark.similarities)
    assert benchmark.query["method"] == "filter"


def test_lexical_bm25_matches_a_hand_computation(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    texts = ["apple banana", "apple apple cherry", "cherry date elderberry fig"]
    pool.add_samples({"sample_id": ["a", "b", "c"], "text": texts})
    benchmark = pool.query("Apple", method="lexical")
    lengths = np.array([2, 3, 4])
    average = lengths.mean()
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))

    def bm25(tf: int, length: int) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))

    assert benchmark.sample_ids == ("b", "a")
    np.testing.assert_allclose(benchmark.similarities, [bm25(2, 3), bm25(1, 2)], rtol=1e-5)
    assert pool.query("zebra", method="lexical").sample_ids == ()
    assert pool.query("fig apple", method="lexical", where=["sample_id=c"]).sample_ids == ("c",)
