"""Benchmarks as objects: combined, saved, listed, reloaded, rerun and ranked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import onebench
import pytest
from _query_helpers import ENCODER, topic_pool
from onebench import Benchmark
from onebench.exceptions import CorruptPoolError, InvalidInputError, UnknownIdError


def _b(ids: list[str], sims: list[float], text: str) -> Benchmark:
    return Benchmark(tuple(ids), tuple(sims), {"text": text})


def test_union_intersection_difference() -> None:
    a = _b(["x", "y", "z"], [0.9, 0.5, 0.1], "a")
    b = _b(["z", "w", "y"], [0.8, 0.6, 0.2], "b")
    union = a | b
    assert union.sample_ids == ("x", "z", "w", "y")  # best similarity first
    assert union.similarities == (0.9, 0.8, 0.6, 0.5)
    assert union.query == {"op": "union", "of": [{"text": "a"}, {"text": "b"}]}
    assert (a & b).sample_ids == ("z", "y")
    assert (a & b).similarities == (0.8, 0.5)
    assert (a - b).sample_ids == ("x",)
    hand = Benchmark.from_ids(["q", "x", "q"])
    assert hand.sample_ids == ("q", "x") and all(math.isnan(s) for s in hand.similarities)
    mixed = hand | a
    assert mixed.sample_ids == ("x", "y", "z", "q")  # no similarity: last


def test_benchmark_checks_its_own_shape() -> None:
    with pytest.raises(InvalidInputError, match="similarities"):
        Benchmark(("a", "b"), (0.1,))
    with pytest.raises(InvalidInputError, match="twice"):
        Benchmark(("a", "a"), (0.1, 0.2))


def test_save_list_load_delete(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    law = pool.query("court ruling statute", encoder=ENCODER, top_k=3)
    saved = pool.save_benchmark(law, "law")
    assert saved.name == "law"
    pool.save_benchmark(pool.query("organic acid", encoder=ENCODER, top_k=2), "chem")
    assert pool.benchmarks() == ["chem", "law"]
    reopened = onebench.Pool.open(pool.path)
    loaded = reopened.benchmark("law")
    assert loaded.sample_ids == law.sample_ids
    assert loaded.similarities == pytest.approx(law.similarities, abs=1e-6)
    assert loaded.query == law.query
    document = json.loads((pool.path / "benchmarks" / "law.json").read_text())
    assert (document["format"], document["version"]) == ("onebench.benchmark", 1)
    with pytest.raises(InvalidInputError, match="already exists"):
        pool.save_benchmark(law, "law")
    pool.save_benchmark(law.union(loaded), "law", overwrite=True)
    reopened.delete_benchmark("chem")
    assert pool.benchmarks() == ["law"]
    with pytest.raises(UnknownIdError, match=r"no saved benchmark 'chem'.*saved: law"):
        pool.benchmark("chem")
    assert not list((pool.path / "benchmarks").glob(".tmp-*"))


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b", "x" * 200, "sp ace"])
def test_names_must_be_safe_file_names(tmp_path: Path, name: str) -> None:
    pool = topic_pool(tmp_path / "pool")
    with pytest.raises(InvalidInputError, match="name"):
        pool.save_benchmark(Benchmark.from_ids(["law/0"]), name)
    assert not (tmp_path / "escape.json").exists()


def test_corrupt_and_future_files_are_named(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.save_benchmark(Benchmark.from_ids(["law/0"]), "one")
    path = pool.path / "benchmarks" / "one.json"
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "version": 2}))
    with pytest.raises(CorruptPoolError, match="newer"):
        pool.benchmark("one")
    path.write_text("{")
    with pytest.raises(CorruptPoolError, match=r"one\.json"):
        pool.benchmark("one")


def test_rank_a_benchmark_and_rerun_its_query(tmp_path: Path) -> None:
    pool = topic_pool(tmp_path / "pool")
    pool.embed(ENCODER, progress=False)
    law = pool.query(where={"category": "law"})
    chemistry = pool.query(where={"category": "chemistry"})
    assert pool.rank(law).models == ["lawyer", "chemist"]
    assert chemistry.rank(pool).models == ["chemist", "lawyer"]
    board = pool.rank(law)
    # law/1 has both models wrong: two samples carry the ranking.
    assert (board["lawyer"].n_samples, board["lawyer"].n_measurements) == (3, 3)
    semantic = pool.query("court appeal judge", encoder=ENCODER, threshold=0.2)
    combined = semantic | chemistry
    pool.add_samples({"sample_id": ["law/9"], "text": ["judge court appeal"]})
    pool.embed(ENCODER, progress=False)
    again = combined.rerun(pool)
    assert set(again.sample_ids) == set(combined.sample_ids) | {"law/9"}
