"""Generated bad input (issue 28): malformed long-format files in every format (CSV,
JSON lines, Parquet) and bad ranking arguments. Whatever is generated, the outcome is
success or an onebench error, and an error leaves the pool as it was: never another
exception.

Deterministic (``derandomize``, no example database); ``ONEBENCH_PROPERTY_EXAMPLES``
sets the examples per test (default 150: a few seconds each; CI can ask for thousands).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import onebench
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_input_fixtures import MODELS, pool_state, small_pool

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onebench.cli import main  # noqa: E402
from onebench.importers import import_sources  # noqa: E402

EXAMPLES = int(os.environ.get("ONEBENCH_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = [
    "sample_id",
    "kind",
    "model",
    "score",
    "model_a",
    "model_b",
    "winner",
    "probability",
    "ranking",
    "benchmark",
    "judge",
    "text",
    "extra",
]


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("property") / "pool"
    small_pool(path)
    return path


# -- values: mostly plausible, often wrong ---------------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_IDS = st.sampled_from(["t/0", "t/1", "t/2", "new/0", "", " ", "t/0\n", "\x1b[2J", "é", "1"])
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
)
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "sample_id": st.one_of(_IDS, _SCALARS),
    "kind": st.one_of(st.sampled_from(["binary", "numeric", "pairwise", "ranking", "x"]), _SCALARS),
    "model": st.one_of(st.sampled_from([*MODELS, "other", "good "]), _SCALARS),
    "score": st.one_of(st.sampled_from([0, 1, 0.5, -1, 1e300, 1e-50]), _SCALARS),
    "model_a": st.one_of(st.sampled_from(MODELS), _SCALARS),
    "model_b": st.one_of(st.sampled_from(MODELS), _SCALARS),
    "winner": st.one_of(st.sampled_from(["a", "b", "tie", "model_a", "c"]), _SCALARS),
    "probability": st.one_of(st.floats(min_value=-1, max_value=2), _SCALARS),
    "ranking": st.one_of(
        st.lists(st.sampled_from(MODELS), max_size=4),
        st.lists(st.lists(st.sampled_from([*MODELS, "x"]), max_size=3), max_size=3),
        st.lists(_SCALARS, max_size=3),
        _SCALARS,
    ),
}


def _value(column: str) -> st.SearchStrategy[Any]:
    return _VALUES.get(column, _SCALARS)


@st.composite
def _valid_row(draw: st.DrawFn) -> dict[str, Any]:
    sample = draw(st.sampled_from(["t/0", "t/1", "t/2", "t/3", "new/0", "new/1"]))
    kind = draw(st.sampled_from(["binary", "binary", "numeric", "pairwise", "ranking"]))
    if sample.startswith("t/") and kind in ("numeric", "pairwise", "ranking"):
        sample = sample.replace("t/", f"{kind}/")  # the pool's samples are binary
    row: dict[str, Any] = {"sample_id": sample, "kind": kind}
    if kind in ("binary", "numeric"):
        row["model"] = draw(st.sampled_from([*MODELS, "new-model"]))
        row["score"] = draw(st.sampled_from([0, 1]) if kind == "binary" else st.floats(-5, 5))
    elif kind == "pairwise":
        row["model_a"], row["model_b"] = draw(st.permutations(MODELS))[:2]
        row["winner"] = draw(st.sampled_from(["a", "b", "tie"]))
    else:
        row["ranking"] = draw(st.permutations(MODELS))
    return row


@st.composite
def _rows(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    """A valid long-format table with a few things wrong: a cell replaced by any value,
    a column dropped, renamed or added."""
    rows = draw(st.lists(_valid_row(), max_size=6))
    columns = list(dict.fromkeys(column for row in rows for column in row)) or ["sample_id"]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        change = draw(st.sampled_from(["cell", "cell", "drop", "rename", "add"]))
        if change == "cell" and rows:
            row = draw(st.sampled_from(rows))
            column = draw(st.sampled_from(columns))
            row[column] = draw(_value(column))
        elif change == "drop" and len(columns) > 1:
            columns.remove(draw(st.sampled_from(columns)))
        elif change == "rename":
            old = draw(st.sampled_from(columns))
            new = draw(st.sampled_from([c for c in COLUMNS if c not in columns] or ["x"]))
            columns[columns.index(old)] = new
            for row in rows:
                row[new] = row.pop(old, None)
        elif change == "add":
            column = draw(st.sampled_from([*COLUMNS, "notes"]))
            if column not in columns:
                columns.append(column)
                for row in rows:
                    row[column] = draw(_value(column))
    return columns, [{column: row.get(column) for column in columns} for row in rows]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value) if isinstance(value, list) else str(value)
    if any(char in text for char in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    lines = [",".join(columns)] + [",".join(_cell(row[c]) for c in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def _jsonl(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    def encode(value: Any) -> Any:
        # JSON has no NaN or infinities; Python writes them anyway (NaN, Infinity).
        return str(value) if isinstance(value, float) and not math.isfinite(value) else value

    text = "\n".join(json.dumps({c: encode(row[c]) for c in columns}) for row in rows)
    return (text + "\n").encode("utf-8", "surrogatepass")


def _parquet(columns: list[str], rows: list[dict[str, Any]]) -> bytes | None:
    try:
        table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in columns})
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None  # mixed types in a column cannot be written as Parquet
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


@st.composite
def _damage(draw: st.DrawFn, data: bytes) -> bytes:
    """Maybe cut the file, or put a byte that is no UTF-8 (or any byte) somewhere."""
    choice = draw(st.sampled_from(["none", "none", "truncate", "byte", "bom"]))
    if choice == "truncate" and data:
        return data[: draw(st.integers(min_value=0, max_value=len(data) - 1))]
    if choice == "byte" and data:
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        byte = draw(st.sampled_from([0xFF, 0xC3, 0x80, 0x00, 0x22, 0x2C, 0x0A]))
        return data[:at] + bytes([byte]) + data[at + 1 :]
    if choice == "bom":
        return b"\xef\xbb\xbf" + data
    return data


def _check_import(pool_dir: Path, path: Path, format: str | None) -> None:
    before = pool_state(pool_dir)
    pool = onebench.Pool.open(pool_dir)
    try:
        report = import_sources(pool, [path], format=format)
    except onebench.OnebenchError as error:
        event(f"error on {error.field if error.field != str(path) else 'the file'}")
        assert pool_state(pool_dir) == before
        onebench.Pool.open(pool_dir)  # still opens
    else:
        event(f"imported {'some' if report.measurements_added else 'no'} measurements")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
@SETTINGS
@given(table=_rows(), data=st.data(), forced=st.booleans())
def test_a_generated_file_imports_or_is_an_onebench_error(
    suffix: str,
    table: tuple[list[str], list[dict[str, Any]]],
    data: st.DataObject,
    forced: bool,
    pool_dir: Path,
    tmp_path: Path,
) -> None:
    columns, rows = table
    writer = {".csv": _csv, ".jsonl": _jsonl, ".parquet": _parquet}[suffix]
    content = writer(columns, rows)
    if content is None:
        return
    path = tmp_path / f"measurements{suffix}"
    path.write_bytes(data.draw(_damage(content)))
    # Detected, or forced to the long format (which skips the detection's own checks).
    _check_import(pool_dir, path, "long" if forced else None)


# -- ranking arguments ----------------------------------------------------------------------

_NOT_NUMBERS = st.one_of(st.none(), st.text(max_size=4), st.lists(st.integers(), max_size=2))
_RANK_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "method": st.one_of(st.sampled_from([*onebench.ranking.METHODS, "x", ""]), _SCALARS),
    "ci": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), _NOT_NUMBERS),
    # Valid counts stay small (a valid bootstrap of 10**9 would simply run); invalid ones
    # go beyond what the core's integers hold.
    "bootstrap": st.one_of(
        st.integers(min_value=-3, max_value=6),
        st.integers(min_value=2**64, max_value=2**80),
        st.floats(),
        st.booleans(),
        _NOT_NUMBERS,
    ),
    "seed": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(), _NOT_NUMBERS),
    "alpha": st.one_of(st.floats(allow_nan=True, allow_infinity=True), _NOT_NUMBERS),
    "tolerance": st.one_of(st.floats(allow_nan=True, allow_infinity=True), _NOT_NUMBERS),
    "max_iterations": st.one_of(
        st.integers(min_value=-3, max_value=50),
        st.integers(min_value=2**64, max_value=2**80),
        st.floats(),
        _NOT_NUMBERS,
    ),
    "min_samples": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), _NOT_NUMBERS),
    "interval": st.one_of(st.sampled_from(["none", "fisher", "bootstrap", "x"]), _SCALARS),
    "form": st.one_of(st.sampled_from(["auto", "core", "full", "core+spreads", "x"]), _SCALARS),
}


@SETTINGS
@given(arguments=st.fixed_dictionaries({}, optional=_RANK_ARGUMENTS))
def test_generated_rank_arguments_rank_or_are_an_error_naming_one(
    arguments: dict[str, Any], pool_dir: Path
) -> None:
    pool = onebench.Pool.open(pool_dir)
    before = pool_state(pool_dir)
    try:
        pool.rank(**arguments)
        event("ranked")
    except onebench.InvalidInputError as error:
        event(f"error on {error.field}")
        # interval="bootstrap" without replicates names bootstrap, given or not.
        assert error.field in arguments or error.field == "bootstrap", (arguments, error)
        assert pool_state(pool_dir) == before


_OPTION_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1e23", "nan", "inf", "-1", "0", "0.5", "", "x", "2**70"]),
)
_CLI_OPTIONS = {
    "--seed": _OPTION_TEXT,
    "--ci": _OPTION_TEXT,
    "--alpha": _OPTION_TEXT,
    "--min-samples": _OPTION_TEXT,
    "--bootstrap": st.one_of(st.integers(min_value=-3, max_value=6).map(str), _OPTION_TEXT),
    "--method": st.sampled_from([*onebench.ranking.METHODS, "x"]),
    "--form": st.sampled_from(["auto", "core", "x", ""]),
    "--benchmark": st.sampled_from(["t", "no-such", ""]),
}


@SETTINGS
@given(options=st.fixed_dictionaries({}, optional=_CLI_OPTIONS))
def test_generated_rank_options_exit_0_or_2(
    options: dict[str, str], pool_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["rank", "--pool", str(pool_dir)]
    for name, value in options.items():
        if name == "--bootstrap" and value.lstrip("-").isdigit() and int(value) > 6:
            continue  # a valid, large bootstrap would only take time
        argv += [f"{name}={value}"]
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse: an option that does not parse
        code = exit.code
    err = capsys.readouterr().err
    event(f"exit {code}")
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err


# -- Python tables and provenance -----------------------------------------------------------

_JSONISH = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner),
    max_leaves=6,
)


@SETTINGS
@given(
    table=_rows(),
    extra=st.one_of(st.none(), st.dictionaries(st.one_of(_TEXT, st.integers()), _JSONISH)),
    kind=st.one_of(st.none(), st.sampled_from(["binary", "numeric", "pairwise", "x"])),
)
def test_generated_rows_and_extra_commit_or_are_an_onebench_error(
    table: tuple[list[str], list[dict[str, Any]]],
    extra: dict[Any, Any] | None,
    kind: str | None,
    pool_dir: Path,
) -> None:
    _, rows = table
    pool = onebench.Pool.open(pool_dir)
    before = pool_state(pool_dir)
    try:
        pool.add_measurements(rows, kind=kind, source="generated", extra=extra)
        event("committed")
    except onebench.OnebenchError as error:
        event(f"error on {error.field}")
        assert pool_state(pool_dir) == before
