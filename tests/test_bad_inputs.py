"""Bad input of every kind is an onebench error that names the field, row or argument
(issue 28): in Python an ``InvalidInputError`` (or ``CorruptPoolError`` for a damaged
pool file), in the CLI exit 2 with one line on stderr, over MCP a tool error with its
reason; and nothing is written to the pool."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onebench
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_input_fixtures import pool_state, small_pool
from onebench.cli import main
from onebench.importers import import_sources


@pytest.fixture
def pool_dir(tmp_path: Path) -> Path:
    path = tmp_path / "pool"
    small_pool(path)
    return path


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Runs a command that must fail: exit 2, one line on stderr (no traceback)."""
    code, _, err = _cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- long-format files ----------------------------------------------------------------------


def _csv(text: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "results.csv"
        path.write_bytes(text)
        return path

    return write


def _jsonl(text: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "results.jsonl"
        path.write_bytes(text)
        return path

    return write


def _parquet(columns: dict[str, Any]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "results.parquet"
        pq.write_table(pa.table(columns), path)
        return path

    return write


_HEADER = b"sample_id,model,kind,score\n"
BAD_FILES = {
    # name: (writer, words the message must hold)
    "csv string score": (
        _csv(_HEADER + b"t/0,good,binary,1\nt/1,good,binary,abc\n"),
        ["score", "row 1", "'abc'"],
    ),
    "csv not utf-8": (_csv(_HEADER + b"t/0,go\xffod,binary,1\n"), ["UTF-8", "line 2"]),
    "parquet int sample_id": (
        _parquet({"sample_id": [1, 2], "model": ["good", "bad"], "kind": ["binary"] * 2,
                  "score": [1.0, 0.0]}),
        ["sample_id", "int64"],
    ),
    "parquet list score": (
        _parquet({"sample_id": ["t/0", "t/1"], "model": ["good", "bad"],
                  "kind": ["binary"] * 2, "score": [[1.0], [0.0]]}),
        ["score", "list"],
    ),
    "jsonl not utf-8": (
        _jsonl(b'{"sample_id": "t/0", "model": "good", "kind": "binary", "score": 1}\n'
               b'{"sample_id": "t/1", "model": "go\xffod", "kind": "binary", "score": 1}\n'),
        ["UTF-8", "line 2"],
    ),
    "missing score column": (_csv(b"sample_id,model,kind\nt/0,good,binary\n"), ["score"]),
    "csv score out of range": (_csv(_HEADER + b"t/0,good,binary,inf\n"), ["score", "row 0"]),
    "no kind column": (_csv(b"sample_id,model,score\nt/0,good,1\n"), ["'kind'"]),
    "jsonl int model": (
        _jsonl(b'{"sample_id": "t/0", "model": 7, "kind": "binary", "score": 1}\n'),
        ["model", "int64"],
    ),
    "jsonl ranking of numbers": (
        _jsonl(b'{"sample_id": "t/0", "kind": "ranking", "ranking": [1, 2]}\n'),
        ["ranking", "lists of model ids"],
    ),
    "jsonl null in a ranking": (
        _jsonl(b'{"sample_id": "r/0", "kind": "ranking", "ranking": ["good", null, "bad"]}\n'),
        ["ranking", "None"],
    ),
    "jsonl score text on line 3": (
        _jsonl(b'{"sample_id": "t/0", "model": "good", "kind": "binary", "score": "1"}\n\n'
               b'{"sample_id": "t/1", "model": "good", "kind": "binary", "score": "x"}\n'),
        ["score", "line 3", "'x'"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_long_format_file_is_an_error_naming_file_and_field(
    case: str, pool_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write, words = BAD_FILES[case]
    path = write(tmp_path)
    before = pool_state(pool_dir)
    with pytest.raises(onebench.InvalidInputError) as caught:
        import_sources(onebench.Pool.open(pool_dir), [path])
    message = str(caught.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    line = _cli_error(capsys, "import", str(path), "--pool", str(pool_dir))
    assert line.startswith("onebench import: error: ") and str(path) in line
    assert pool_state(pool_dir) == before


def test_a_failed_file_commits_nothing_of_the_good_ones(pool_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"sample_id": "n/1", "model": "new", "kind": "binary", "score": 1}))
    bad = BAD_FILES["parquet list score"][0](tmp_path)
    before = pool_state(pool_dir)
    with pytest.raises(onebench.InvalidInputError):
        import_sources(onebench.Pool.open(pool_dir), [good, bad])
    assert pool_state(pool_dir) == before


def test_numeric_ids_in_a_csv_are_ids(pool_dir: Path, tmp_path: Path) -> None:
    # A CSV has no types: an id column of digits is still ids, not numbers.
    path = tmp_path / "numbers.csv"
    path.write_text("sample_id,model,kind,score\n1,7,binary,1\n2,7,binary,0\n")
    report = import_sources(onebench.Pool.open(pool_dir), [path])
    assert report.measurements_added == 2
    assert {"1", "2"} <= set(onebench.Pool.open(pool_dir).sample_ids())


def test_a_csv_with_a_byte_order_mark_imports(pool_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _HEADER + b"t/0,new,binary,1\n")
    assert import_sources(onebench.Pool.open(pool_dir), [path]).measurements_added == 1


def test_a_huge_csv_field_imports_as_from_jsonl(pool_dir: Path, tmp_path: Path) -> None:
    # Arrow's CSV reader splits files in blocks; a 10 MB field straddles two of them.
    text = "x" * 10_000_000
    samples = tmp_path / "samples.csv"
    samples.write_text(f"sample_id,benchmark,text\nbig/1,big,{text}\n")
    measurements = tmp_path / "measurements.csv"
    measurements.write_text("sample_id,model,kind,score\nbig/1,good,binary,1\n")
    report = import_sources(onebench.Pool.open(pool_dir), [samples, measurements])
    assert report.measurements_added == 1


# -- format detection -----------------------------------------------------------------------


def test_an_unrecognised_table_says_which_columns_were_found_and_needed(
    pool_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.csv"
    path.write_text("id,llm,task,correct\n1,a,t,1\n")
    line = _cli_error(capsys, "import", str(path), "--pool", str(pool_dir))
    assert "id, llm, task, correct" in line, line
    assert "sample_id" in line and "model" in line and "--format" in line, line


def test_a_truncated_parquet_file_says_it_cannot_be_read(
    pool_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _parquet({"sample_id": ["t/0"], "model": ["good"], "score": [1.0]})(tmp_path)
    path.write_bytes(path.read_bytes()[:-20])
    line = _cli_error(capsys, "import", str(path), "--pool", str(pool_dir))
    assert str(path) in line and "Parquet" in line, line


# -- Python arguments -----------------------------------------------------------------------


def test_non_json_extra_is_an_error_naming_extra(pool_dir: Path) -> None:
    pool = onebench.Pool.open(pool_dir)
    before = pool_state(pool_dir)
    row = {"sample_id": ["t/0"], "model": ["good"], "score": [1.0]}
    for extra in ({"when": object()}, {"x": float("nan")}, "not a mapping", {1: "x"}):
        with pytest.raises(onebench.InvalidInputError) as caught:
            pool.add_measurements(row, kind="binary", source="again", extra=extra)  # type: ignore[arg-type]
        assert caught.value.field == "extra", caught.value
    assert pool_state(pool_dir) == before


BAD_RANK_ARGUMENTS: list[dict[str, Any]] = [
    {"ci": None},
    {"ci": "high"},
    {"ci": 1.5},
    {"bootstrap": None},
    {"bootstrap": 1},
    {"bootstrap": 2.5},
    {"bootstrap": True},
    {"bootstrap": 2**70},
    {"method": 123},
    {"method": "nope"},
    {"seed": None},
    {"seed": -1},
    {"seed": 2**70},
    {"seed": 1.5},
    {"max_iterations": -1},
    {"max_iterations": 0},
    {"max_iterations": None},
    {"min_samples": 2**70},
    {"alpha": "x"},
    {"alpha": -1.0},
    {"tolerance": None},
    {"interval": 3},
    {"interval": "bootstrap"},
    {"form": 3},
]


@pytest.mark.parametrize("arguments", BAD_RANK_ARGUMENTS, ids=repr)
def test_a_bad_rank_argument_is_an_error_naming_it(
    arguments: dict[str, Any], pool_dir: Path
) -> None:
    pool = onebench.Pool.open(pool_dir)
    with pytest.raises(onebench.InvalidInputError) as caught:
        pool.rank(**arguments)
    (name,) = arguments
    expected = "bootstrap" if name == "interval" and arguments[name] == "bootstrap" else name
    assert caught.value.field == expected, caught.value
    assert str(caught.value).startswith(f"{expected}:"), caught.value


def test_good_rank_arguments_of_other_types_still_rank(pool_dir: Path) -> None:
    import numpy as np

    pool = onebench.Pool.open(pool_dir)
    board = pool.rank(seed=np.int64(3), bootstrap=np.int32(5), ci=np.float32(0.9), alpha=1)
    assert board.rows[0].model == "good"
    assert pool.rank(seed=2**64 - 1, bootstrap=2).rows


# -- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["rank", "--seed", "-1"], "seed"),
        (["rank", "--seed", str(10**23)], "seed"),
        (["rank", "--bootstrap", "1"], "bootstrap"),
        (["samples", "--limit", "-1"], "limit"),
        (["rank", "--benchmark", "no-such"], "no-such"),
        (["samples", "--benchmark", "no-such"], "no-such"),
        (["demo", "--models", "-1"], "n_models"),
    ],
)
def test_a_bad_cli_argument_exits_2_with_one_line(
    args: list[str], name: str, pool_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = pool_state(pool_dir)
    line = _cli_error(capsys, *args, "--pool", str(pool_dir))
    assert line.startswith(f"onebench {args[0]}: error: ") and name in line, line
    assert pool_state(pool_dir) == before


def test_export_onto_a_file_exits_2_and_leaves_the_file(
    pool_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    line = _cli_error(capsys, "export", "--out", str(target), "--pool", str(pool_dir))
    assert "--out" in line and str(target) in line, line
    assert target.read_text() == "keep me"
    with pytest.raises(onebench.InvalidInputError):
        onebench.Pool.open(pool_dir).export(target)


def test_a_damaged_saved_benchmark_is_a_corrupt_pool_error(
    pool_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from onebench.query import Benchmark

    pool = onebench.Pool.open(pool_dir)
    pool.save_benchmark(Benchmark.from_ids(["t/0", "t/1"], name="pair"))
    path = pool_dir / "benchmarks" / "pair.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] = 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(onebench.CorruptPoolError) as caught:
        pool.benchmark("pair")
    assert caught.value.path == str(path)
    line = _cli_error(capsys, "query", "--list", "--pool", str(pool_dir))
    assert str(path) in line and "UTF-8" in line, line


# -- MCP ------------------------------------------------------------------------------------


def test_mcp_rank_with_a_huge_min_samples_is_a_tool_error_naming_it(pool_dir: Path) -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp import Client
    from onebench.mcp import build_server

    async def scenario() -> Any:
        async with Client(build_server(onebench.Pool.open(pool_dir))) as client:
            return await client.call_tool("rank_models", {"min_samples": 2**70})

    result = anyio.run(scenario)
    assert result.is_error
    text = result.content[0].text
    # The SDK prefixes "Error executing tool rank_models: "; the reason must follow.
    assert "min_samples" in text and "less than or equal to" in text, text


def test_mcp_add_measurements_rejects_a_bad_score_without_writing(pool_dir: Path) -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp import Client
    from onebench.mcp import build_server

    before = pool_state(pool_dir)
    row = {"sample_id": "t/0", "kind": "binary", "model": "good", "score": 0.5}

    async def scenario() -> Any:
        pool = onebench.Pool.open(pool_dir)
        async with Client(build_server(pool, allow_writes=True)) as client:
            return await client.call_tool("add_measurements", {"rows": [row], "source": "mcp"})

    result = anyio.run(scenario)
    assert result.is_error and "score" in result.content[0].text, result.content[0].text
    assert pool_state(pool_dir) == before
