"""Start-up: `import onebench` and the CLI's parser load nothing heavy (issue 21).

Each check runs in a fresh interpreter, since this one has long imported everything. The
parser's copies of library constants (kept so that it need not import the library) are
checked against the library here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onebench
import pytest

# What `import onebench` and `onebench --help` must not load: numpy and pyarrow cost a few
# hundred milliseconds between them, pandas, mcp and torch more.
HEAVY = ("numpy", "pyarrow", "pandas", "mcp", "torch")


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level packages in sys.modules after running ``code``."""
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cli(argv: list[str]) -> str:
    # main() exits for --help and argument errors (SystemExit), as the console script does.
    return (
        "from onebench.cli import main\n"
        "import contextlib, io\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass"
    )


def test_import_onebench_loads_nothing_heavy() -> None:
    assert _loaded_after("import onebench") == []


def test_the_exceptions_load_with_the_package() -> None:
    assert _loaded_after("import onebench; onebench.OnebenchError; onebench.UnknownIdError") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["rank", "--bogus"],
        ["rank", "--method", "nonsense"],
        ["rank", "--help"],
        ["query", "--help"],
        ["import", "--help"],
        ["eval", "--help"],
        [],
    ],
    ids=lambda argv: " ".join(argv) or "no-arguments",
)
def test_help_and_argument_errors_load_nothing_heavy(argv: list[str]) -> None:
    assert _loaded_after(_cli(argv)) == []


def _small_pool(path: Path) -> Path:
    pool = onebench.Pool.create(path)
    pool.add_samples(
        {"sample_id": ["q1", "q2", "q3"], "benchmark": ["up", "up", "down"], "text": ["a"] * 3}
    )
    pool.add_models(["m1", "m2"])
    pool.add_measurements(
        {
            "sample_id": ["q1", "q1", "q2", "q2", "q3", "q3"],
            "model": ["m1", "m2"] * 3,
            "score": [1, 0, 1, 0, 0, 1],
        },
        kind="binary",
        source="test",
    )
    return path


@pytest.mark.parametrize("selection", [[], ["--benchmark", "up"]], ids=["whole", "benchmark"])
def test_rank_json_loads_neither_pyarrow_nor_pandas(tmp_path: Path, selection: list[str]) -> None:
    pool = _small_pool(tmp_path / "pool")
    argv = ["rank", "--json", "--method", "mean", "--pool", str(pool), *selection]
    code = (
        "from onebench.cli import main\n"
        "import contextlib, io\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    assert main({argv!r}) == 0\n"
        "assert json.loads(out.getvalue())['models']"
    )
    # numpy is the fit's; the tables' pyarrow and pandas are not needed to rank.
    assert _loaded_after(code) == ["numpy"]


def test_a_public_name_loads_its_module() -> None:
    # The probe itself must fail when laziness breaks the names: Pool needs numpy.
    assert "numpy" in _loaded_after("import onebench; onebench.Pool")


def test_every_public_name_resolves() -> None:
    for name in onebench.__all__:
        assert getattr(onebench, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from onebench import *", namespace)
    assert set(onebench.__all__) <= set(namespace)
    assert onebench.Pool.__module__ == "onebench.pool"
    assert set(onebench.__all__) <= set(dir(onebench))


def test_submodules_are_attributes_after_a_bare_import() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import onebench; print(onebench.ranking.DEFAULT_METHOD)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == onebench.ranking.DEFAULT_METHOD


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        onebench.no_such_name  # noqa: B018
    assert not hasattr(onebench, "no_such_name")


def test_the_parser_constants_match_the_library() -> None:
    from onebench import ranking
    from onebench._identity_cli import FORMATS
    from onebench._query_cli import FIELDS
    from onebench._rank_cli import DEFAULT_METHOD, rank_methods
    from onebench.importers import importer_names
    from onebench.query import FIELDS as LIBRARY_FIELDS

    assert DEFAULT_METHOD == ranking.DEFAULT_METHOD
    assert tuple(rank_methods()) == ranking.METHODS
    assert FIELDS == LIBRARY_FIELDS
    assert set(FORMATS) == set(importer_names())
