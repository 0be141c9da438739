from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onebench
import pandas as pd
import pyarrow as pa
import pytest
from onebench import InvalidInputError, UnknownIdError


def _toy(pool: onebench.Pool) -> None:
    pool.add_samples(
        [
            {"sample_id": "q1", "benchmark": "toy", "text": "2+2?", "reference": "4", "topic": "m"},
            {"sample_id": "q2", "benchmark": "toy", "text": "Capital of France?"},
            {"sample_id": "q3", "benchmark": "toy", "text": "Write a poem"},
            {"sample_id": "q4", "benchmark": "toy", "text": "Rank these"},
        ]
    )
    pool.add_models(pd.DataFrame({"model": ["a", "b", "c"], "aliases": [["A", "a-v1"], [], []]}))


def test_round_trip_of_every_kind(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    pool.add_measurements(
        {"sample_id": ["q1", "q1", "q1"], "model": ["A", "b", "c"], "score": [1, 0, 1]},
        kind="binary",
        source="harness",
        grader="exact_match",
    )
    pool.add_measurements(
        pa.table({"sample_id": ["q2", "q2"], "model": ["a", "b"], "score": [0.3, 0.9]}),
        kind="numeric",
        higher_is_better=False,
    )
    pool.add_measurements(
        [{"sample_id": "q3", "model_a": "a", "model_b": "c", "winner": "tie", "probability": 0.4}],
        kind="pairwise",
        judge="gpt-judge",
    )
    pool.add_measurements({"sample_id": ["q4"], "ranking": [[["c"], ["a", "b"]]]}, kind="ranking")
    reopened = onebench.Pool.open(tmp_path / "p")
    stats = reopened.stats()
    assert (stats.samples, stats.models) == (4, 3)
    assert (stats.cardinal, stats.pairwise, stats.rankings) == (5, 1, 1)
    table = reopened.measurements().to_pandas()
    binary = table[table["kind"] == "binary"].sort_values("model")
    assert binary["model"].astype(str).tolist() == ["a", "b", "c"]
    assert binary["score"].tolist() == [1.0, 0.0, 1.0]
    assert set(binary["grader"].astype(str)) == {"exact_match"}
    pairwise = table[table["kind"] == "pairwise"].iloc[0]
    assert (pairwise["model_a"], pairwise["model_b"], pairwise["winner"]) == ("a", "c", "tie")
    assert pairwise["probability"] == pytest.approx(0.4)
    assert pairwise["judge"] == "gpt-judge"
    ranking = table[table["kind"] == "ranking"].iloc[0]["ranking"]
    assert [list(group) for group in ranking] == [["c"], ["a", "b"]]
    samples = reopened.samples().to_pandas().set_index("sample_id")
    assert list(samples.loc["q1", "references"]) == ["4"]
    assert samples.loc["q2", "metric"] == "numeric_lower"
    assert json.loads(samples.loc["q1", "metadata"]) == {"topic": "m"}


def test_identical_samples_are_skipped_and_changed_ones_rejected(pool: onebench.Pool) -> None:
    _toy(pool)
    report = pool.add_samples(
        [{"sample_id": "q1", "benchmark": "toy", "text": "2+2?", "reference": "4", "topic": "m"}]
    )
    assert (report.added, report.skipped) == (0, 1)
    with pytest.raises(InvalidInputError, match="row 0"):
        pool.add_samples([{"sample_id": "q1", "benchmark": "toy", "text": "something else"}])


def _bad_inputs() -> list[tuple[str, dict, str, str]]:
    base = {"sample_id": ["q1", "q1"], "model": ["a", "b"]}
    return [
        ("nan", {**base, "score": [1.0, float("nan")]}, "binary", "row 1"),
        ("inf", {**base, "score": [1.0, float("inf")]}, "numeric", "row 1"),
        ("binary-2", {**base, "score": [1.0, 2.0]}, "binary", "row 1"),
        (
            "unknown-model",
            {"sample_id": ["q1", "q1"], "model": ["a", "zz"], "score": [1, 0]},
            "binary",
            "zz",
        ),
        (
            "unknown-sample",
            {"sample_id": ["q1", "nope"], "model": ["a", "b"], "score": [1, 0]},
            "binary",
            "nope",
        ),
        (
            "duplicate",
            {"sample_id": ["q1", "q1"], "model": ["a", "A"], "score": [1, 0]},
            "binary",
            "row 1",
        ),
        ("missing-score", {**base, "score": [1.0, None]}, "binary", "row 1"),
        (
            "self-pair",
            {"sample_id": ["q3"], "model_a": ["a"], "model_b": ["A"], "winner": ["a"]},
            "pairwise",
            "row 0",
        ),
        (
            "bad-winner",
            {"sample_id": ["q3"], "model_a": ["a"], "model_b": ["b"], "winner": ["left"]},
            "pairwise",
            "row 0",
        ),
        ("short-ranking", {"sample_id": ["q4"], "ranking": [["a"]]}, "ranking", "row 0"),
        (
            "repeat-in-ranking",
            {"sample_id": ["q4"], "ranking": [["a", "b", "a"]]},
            "ranking",
            "row 0",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "rows", "kind", "where"), _bad_inputs(), ids=[case[0] for case in _bad_inputs()]
)
def test_bad_measurements_name_the_row_and_write_nothing(
    pool: onebench.Pool, name: str, rows: dict, kind: str, where: str
) -> None:
    _toy(pool)
    before = (pool.version, sorted(p.name for p in pool.path.iterdir()))
    with pytest.raises(InvalidInputError, match=where):
        pool.add_measurements(rows, kind=kind)
    after = (pool.version, sorted(p.name for p in pool.path.iterdir()))
    assert before == after
    reopened = onebench.Pool.open(pool.path)
    assert reopened.stats().measurements == 0


def test_kind_contradicting_the_sample_metric_is_rejected(pool: onebench.Pool) -> None:
    _toy(pool)
    pool.add_measurements({"sample_id": ["q1"], "model": ["a"], "score": [1]}, kind="binary")
    version = pool.version
    with pytest.raises(InvalidInputError, match="row 0"):
        pool.add_measurements({"sample_id": ["q1"], "model": ["b"], "score": [0.5]}, kind="numeric")
    with pytest.raises(InvalidInputError, match="row 0"):
        pool.add_measurements(
            {"sample_id": ["q1"], "model_a": ["b"], "model_b": ["c"], "winner": ["a"]},
            kind="pairwise",
        )
    assert pool.version == version


def test_unknown_id_error_carries_the_id(pool: onebench.Pool) -> None:
    _toy(pool)
    with pytest.raises(UnknownIdError) as caught:
        pool.add_measurements(
            {"sample_id": ["q1"], "model": ["ghost"], "score": [1]}, kind="binary"
        )
    assert caught.value.id == "ghost"
    assert caught.value.row == 0


def test_mixed_kinds_in_one_table_commit_together(pool: onebench.Pool) -> None:
    _toy(pool)
    table = pd.DataFrame(
        {
            "sample_id": ["q1", "q1", "q3"],
            "kind": ["binary", "binary", "pairwise"],
            "model": ["a", "b", None],
            "score": [1.0, 0.0, None],
            "model_a": [None, None, "b"],
            "model_b": [None, None, "c"],
            "winner": [None, None, "b"],
        }
    )
    report = pool.add_measurements(table)
    assert report.added == 3
    assert pool.stats().pairwise == 1


def test_measurements_accept_numpy_and_categorical_columns(pool: onebench.Pool) -> None:
    _toy(pool)
    frame = pd.DataFrame(
        {
            "sample_id": pd.Categorical(["q1", "q1", "q2"], categories=["q1", "q2", "q9"]),
            "model": pd.Categorical(["a", "c", "b"]),
            "score": np.array([1, 0, 1], dtype=np.int8),
        }
    )
    assert pool.add_measurements(frame, kind="binary").added == 3


def test_aliases_resolve_and_cannot_collide(pool: onebench.Pool) -> None:
    _toy(pool)
    assert pool._inner.model_index("a-v1") == pool._inner.model_index("a")
    with pytest.raises(InvalidInputError):
        pool.add_models(pd.DataFrame({"model": ["d"], "aliases": [["A"]]}))


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(onebench.PoolNotFoundError):
        onebench.Pool.open(tmp_path / "missing")
    onebench.Pool.create(tmp_path / "p")
    with pytest.raises(onebench.OnebenchError):
        onebench.Pool.create(tmp_path / "p")


def test_flipped_byte_is_reported_with_the_file_name(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    pool.add_measurements(
        {"sample_id": ["q1"] * 3, "model": ["a", "b", "c"], "score": [1, 0, 1]}, kind="binary"
    )
    segments = sorted(
        (path for path in (tmp_path / "p").rglob("*") if path.is_file()),
        key=lambda path: path.stat().st_mtime_ns,
    )
    target = next(p for p in reversed(segments) if p.name not in ("MANIFEST", "LOCK"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(onebench.CorruptPoolError, match=target.name):
        onebench.Pool.open(tmp_path / "p")


def test_two_handles_see_each_others_commits_after_refresh(tmp_path: Path) -> None:
    first = onebench.Pool.create(tmp_path / "p")
    _toy(first)
    second = onebench.Pool.open(tmp_path / "p")
    first.add_measurements({"sample_id": ["q1"], "model": ["a"], "score": [1]}, kind="binary")
    assert second.stats().cardinal == 0
    assert second.refresh()
    assert second.stats().cardinal == 1
    second.add_measurements({"sample_id": ["q1"], "model": ["b"], "score": [0]}, kind="binary")
    first.refresh()
    assert first.stats().cardinal == 2


def test_compaction_keeps_data_and_provenance(pool: onebench.Pool) -> None:
    _toy(pool)
    for model, source in (("a", "one"), ("b", "two"), ("c", "three")):
        pool.add_measurements(
            {"sample_id": ["q1"], "model": [model], "score": [1]}, kind="binary", source=source
        )
    before = pool.measurements().to_pandas()
    ranking_before = pool.rank(method="mean", interval="none").to_dict()
    assert pool.compact() > 0
    after = onebench.Pool.open(pool.path).measurements().to_pandas()
    pd.testing.assert_frame_equal(before, after)
    assert pool.rank(method="mean", interval="none").to_dict() == ranking_before


def test_export_writes_parquet_that_imports_back(tmp_path: Path) -> None:
    from onebench.importers import import_long_format

    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    pool.add_measurements(
        {"sample_id": ["q1"] * 3, "model": ["a", "b", "c"], "score": [1, 0, 1]}, kind="binary"
    )
    pool.add_measurements(
        {
            "sample_id": ["q3", "q3"],
            "model_a": ["a", "b"],
            "model_b": ["b", "c"],
            "winner": ["a", "tie"],
        },
        kind="pairwise",
    )
    paths = pool.export(tmp_path / "out")
    copy = onebench.Pool.create(tmp_path / "copy")
    import_long_format(copy, [paths["samples"], paths["measurements"]])
    assert copy.stats().measurements == pool.stats().measurements
    assert copy.rank(interval="none").models == pool.rank(interval="none").models


def test_any_part_exports(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    pool.add_measurements(
        {"sample_id": ["q1"] * 3, "model": ["a", "b", "c"], "score": [1, 0, 1]}, kind="binary"
    )
    pool.add_measurements(
        {"sample_id": ["q2"] * 3, "model": ["a", "b", "c"], "score": [0.5, 0.7, 0.1]},
        kind="numeric",
    )
    pool.add_measurements(
        {
            "sample_id": ["q3", "q3"],
            "model_a": ["a", "b"],
            "model_b": ["b", "c"],
            "winner": ["a", "b"],
        },
        kind="pairwise",
    )
    pool.add_measurements({"sample_id": ["q4"], "ranking": [[["a", "b"], ["c"]]]}, kind="ranking")
    assert pool.measurements().num_rows == 9
    only_c = pool.measurements(models=["c"])
    # c's binary and numeric rows, the comparison it took part in, the ranking that names it.
    assert only_c.num_rows == 4
    assert set(only_c.column("kind").to_pylist()) == {"binary", "numeric", "pairwise", "ranking"}
    by_alias = pool.measurements(models="A", kinds=["binary", "pairwise"])
    assert sorted(by_alias.column("kind").to_pylist()) == ["binary", "pairwise"]
    numeric = pool.measurements(["q1", "q2"], kinds="numeric")
    assert numeric.column("sample_id").to_pylist() == ["q2"] * 3
    paths = pool.export(tmp_path / "out", ["q3"], models=["a"])
    assert pq.read_table(paths["samples"]).column("sample_id").to_pylist() == ["q3"]
    assert pq.read_table(paths["models"]).column("model").to_pylist() == ["a"]
    assert pq.read_table(paths["measurements"]).num_rows == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "measurements.parquet",
        "models.parquet",
        "samples.parquet",
    ]
    with pytest.raises(UnknownIdError, match="nobody"):
        pool.measurements(models=["nobody"])
    with pytest.raises(InvalidInputError, match="kinds"):
        pool.measurements(kinds=["votes"])


def test_unknown_or_missing_kind_names_the_row(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    rows = {"sample_id": ["q1", "q1", "q2"], "model": ["a", "b", "a"], "score": [1, 0, 1]}
    with pytest.raises(InvalidInputError, match=r"kind, row 2: unknown kind 'vote'") as error:
        pool.add_measurements({**rows, "kind": ["binary", "binary", "vote"]})
    assert (error.value.field, error.value.row) == ("kind", 2)
    categorical = pd.DataFrame({**rows, "kind": pd.Categorical(["binary", None, "binary"])})
    with pytest.raises(InvalidInputError, match=r"kind, row 1"):
        pool.add_measurements(categorical)
    assert pool.stats().measurements == 0


def test_errors_name_the_callers_row_in_a_table_of_mixed_kinds(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "p")
    _toy(pool)
    rows = {
        "sample_id": ["q3", "q1", "q1", "q2"],
        "kind": ["pairwise", "binary", "binary", "binary"],
        "model": [None, "a", "b", "a"],
        "score": [0.0, 1.0, 0.0, 1.0],
        "model_a": ["a", None, None, None],
        "model_b": ["b", None, None, None],
        "winner": ["a", None, None, None],
    }
    cases = [
        ({"sample_id": ["q3", "q1", "q1", "nope"]}, UnknownIdError, "sample_id", 3),
        ({"score": [0.0, 1.0, 0.0, float("nan")]}, InvalidInputError, "score", 3),
        ({"model_b": ["nobody", None, None, None]}, UnknownIdError, "model_b", 0),
        ({"model": [None, "a", "ghost", "a"]}, UnknownIdError, "model", 2),
    ]
    for change, error_type, field, row in cases:
        with pytest.raises(error_type) as error:
            pool.add_measurements({**rows, **change})
        assert (error.value.field, error.value.row) == (field, row), str(error.value)
        assert f"{field}, row {row}" in str(error.value)
    assert pool.stats().measurements == 0
