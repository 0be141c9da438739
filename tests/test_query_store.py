"""Embeddings in the pool: stored once, only for samples without one, whole or absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onebench
import pytest
from _query_helpers import _SHARED, ENCODER, topic_pool
from onebench.exceptions import CorruptPoolError, InvalidInputError, PoolLockedError
from onebench.query import EmbeddingSet
from onebench.query._store import encoder_key


def test_embeds_only_samples_without_an_embedding(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    first = pool.embed(ENCODER, progress=False)
    assert [(r.field, r.embedded, r.already) for r in first] == [("text", 9, 0)]
    calls = len(_SHARED.calls)
    again = pool.embed(ENCODER, progress=False)
    assert (again[0].embedded, again[0].already) == (0, 9)
    assert len(_SHARED.calls) == calls  # nothing re-encoded
    pool.add_samples({"sample_id": ["new"], "text": ["court appeal"]})
    third = pool.embed(ENCODER, progress=False)
    assert (third[0].embedded, third[0].already) == (1, 9)
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    assert [len(part.sample_ids) for part in embedding_set.parts()] == [9, 1]
    assert embedding_set.header()["count"] == 10


def test_vectors_are_float16_memory_mapped_and_match_the_encoder(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    (part,) = EmbeddingSet(pool.path, ENCODER, "text").parts()
    assert isinstance(part.vectors, np.memmap)
    assert part.vectors.dtype == np.float16
    table = pool.samples()
    texts = dict(
        zip(table.column("sample_id").to_pylist(), table.column("text").to_pylist(), strict=True)
    )
    expected = _SHARED.encode_texts([texts[i] for i in part.sample_ids], batch_size=8)
    np.testing.assert_allclose(part.vectors.astype(np.float32), expected, atol=1e-3)


def test_references_and_subsets_embed_separately(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.add_samples({"sample_id": ["bare"], "text": ["no reference here"]})
    (report,) = pool.embed(ENCODER, fields="references", progress=False, samples=["law/0", "bare"])
    assert (report.embedded, report.empty) == (1, 1)
    assert EmbeddingSet(pool.path, ENCODER, "references").embedded_ids() == {"law/0"}
    assert not EmbeddingSet(pool.path, ENCODER, "text").exists()


def test_a_crash_leaves_no_half_written_part(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    header_before = embedding_set.header()
    # What a crash between writing a part and committing the header leaves behind.
    (embedding_set.directory / "part-000007.f16").write_bytes(b"\0" * 10)
    (embedding_set.directory / "part-000007.ids").write_text('"x"\n')
    (embedding_set.directory / ".tmp-header.json-123").write_text("{")
    assert embedding_set.header() == header_before
    assert len(embedding_set.parts()) == 1
    pool.add_samples({"sample_id": ["new"], "text": ["court"]})
    pool.embed(ENCODER, progress=False)  # the next writer removes the debris
    names = sorted(path.name for path in embedding_set.directory.iterdir())
    assert names == [
        "LOCK",
        "header.json",
        "part-000000.f16",
        "part-000000.ids",
        "part-000001.f16",
        "part-000001.ids",
    ]


def test_corrupt_or_newer_files_are_named(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    part = embedding_set.directory / "part-000000.f16"
    data = part.read_bytes()
    part.write_bytes(data[:-2])
    with pytest.raises(CorruptPoolError, match=r"part-000000\.f16"):
        embedding_set.parts()
    part.write_bytes(data)
    header = json.loads((embedding_set.directory / "header.json").read_text())
    (embedding_set.directory / "header.json").write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(CorruptPoolError, match="newer"):
        pool.query("court", encoder=ENCODER)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    import fcntl

    pool = topic_pool(tmp_path / "pool")
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    embedding_set.directory.mkdir(parents=True)
    with open(embedding_set.directory / "LOCK", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(PoolLockedError, match="embedding"):
            pool.embed(ENCODER, progress=False)


def test_the_rust_store_ignores_python_files(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    pool.save_benchmark(pool.query("court", encoder=ENCODER), "court")
    reopened = onebench.Pool.open(pool.path)
    assert reopened.stats().samples == 9
    reopened.compact()
    assert reopened.benchmarks() == ["court"]
    assert EmbeddingSet(pool.path, ENCODER, "text").header()["count"] == 9


def test_encoder_folder_names_are_safe() -> None:
    assert encoder_key("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    a, b = encoder_key("/models/a/clip"), encoder_key("/models/b/clip")
    assert a != b and "/" not in a and "/" not in b
    assert "/" not in encoder_key("clip:openai/clip-vit-base-patch32")


def test_bad_embed_arguments(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    with pytest.raises(InvalidInputError, match="field"):
        pool.embed(ENCODER, fields=["prompt"], progress=False)
    with pytest.raises(InvalidInputError, match="cannot embed images"):
        pool.embed(ENCODER, fields=["image"], progress=False)
    with pytest.raises(InvalidInputError, match="batch_size"):
        pool.embed(ENCODER, batch_size=0, progress=False)
    with pytest.raises(onebench.UnknownIdError, match="nope"):
        pool.embed(ENCODER, samples=["nope"], progress=False)


def test_many_small_parts_are_merged_in_row_order(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    pool.build_index(ENCODER)
    embedding_set = EmbeddingSet(pool.path, ENCODER, "text")
    before = [i for part in embedding_set.parts() for i in part.sample_ids]
    counts = []
    for number in range(5):
        pool.add_samples({"sample_id": [f"late/{number}"], "text": [f"appeal court {number}"]})
        pool.embed(ENCODER, progress=False)
        counts.append(len(embedding_set.parts()))
    assert counts == [2, 3, 4, 1, 2]  # the fifth part triggers a merge into one
    rows = [i for part in embedding_set.parts() for i in part.sample_ids]
    assert rows == [*before, "late/0", "late/1", "late/2", "late/3", "late/4"]
    assert sorted(p.name for p in embedding_set.directory.glob("part-*")) == [
        "part-000005.f16",
        "part-000005.ids",
        "part-000006.f16",
        "part-000006.ids",
    ]
    # The index built before the merge still names the right rows (same order).
    exact = pool.query("contract breach court ruling", encoder=ENCODER, index="exact", top_k=3)
    approximate = pool.query("contract breach court ruling", encoder=ENCODER, index="ann", top_k=3)
    assert approximate.query["index"] == "ann"
    assert approximate.sample_ids[0] == exact.sample_ids[0] == "law/0"
