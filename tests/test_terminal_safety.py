"""Imported control characters never reach a terminal raw: ids and names holding them are
refused on import (an error naming the field, the name shown escaped), and texts, which may
hold anything, are shown escaped by every CLI table."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from onebench._table import format_table, terminal_safe
from onebench.cli import main

HOSTILE = [
    "\x1b[2J\x1b[31mowned",  # clear the screen, turn red
    "nul\x00model",
    "evil\u202etxt.exe",  # right-to-left override: shows as "evilexe.txt"
    "over\rwrite",  # carriage return: the rest overwrites the line
    "c1\x9b31m",  # the one-byte CSI of C1
    "zero\u200bwidth",
    "isolate\u2067here",
]
#: Characters that must never reach the terminal as they are.
RAW = ["\x1b", "\x00", "\u202e", "\r", "\x9b", "\u200b", "\u2067"]


def _onebench(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in this process, its stdout and stderr captured as a terminal would get them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    """The console command, as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "onebench.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def _assert_no_raw(*streams: str) -> None:
    for stream in streams:
        found = [repr(char) for char in RAW if char in stream]
        assert not found, f"raw {found} in {stream!r}"


def _measurements(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("name", HOSTILE, ids=[repr(name) for name in HOSTILE])
@pytest.mark.parametrize("where", ["model", "sample_id"])
def test_hostile_names_are_refused_on_import_and_shown_escaped(
    name: str, where: str, tmp_path: Path
) -> None:
    pool = str(tmp_path / "pool")
    assert _onebench("init", "--pool", pool).returncode == 0
    row = {"sample_id": "s/1", "model": "fine", "kind": "binary", "score": 1, where: name}
    result = _onebench("import", str(_measurements(tmp_path / "m.jsonl", [row])), "--pool", pool)
    assert result.returncode == 2, result.stderr
    assert "must be printable" in result.stderr and len(result.stderr.splitlines()) == 1
    _assert_no_raw(result.stdout, result.stderr)
    stats = json.loads(_onebench("stats", "--pool", pool, "--json").stdout)
    assert (stats["samples"], stats["models"]) == (0, 0)  # nothing half-written


def test_texts_with_control_characters_are_shown_escaped(tmp_path: Path) -> None:
    pool = str(tmp_path / "pool")
    samples = [
        {"sample_id": f"s/{index}", "benchmark": "tricky", "text": f"question {index}: {text}"}
        for index, text in enumerate(HOSTILE)
    ]
    rows = [
        {"sample_id": f"s/{index}", "model": model, "kind": "binary", "score": (index + bias) % 2}
        for index in range(len(HOSTILE))
        for model, bias in (("fine", 0), ("other", 1))
    ]
    assert _onebench("init", "--pool", pool).returncode == 0
    imported = _onebench(
        "import",
        str(_measurements(tmp_path / "samples.jsonl", samples)),
        str(_measurements(tmp_path / "m.jsonl", rows)),
        "--pool",
        pool,
    )
    assert imported.returncode == 0, imported.stderr
    shown = []
    for command in (
        ["query", "question", "--pool", pool, "--lexical"],
        ["samples", "--pool", pool],
        ["rank", "--pool", pool],
        ["stats", "--pool", pool],
    ):
        result = _console(*command)
        assert result.returncode == 0, (command, result.stderr)
        _assert_no_raw(result.stdout, result.stderr)
        shown.append(result.stdout)
    assert "\\x1b[2J\\x1b[31mowned" in shown[0] and "evil\\u202etxt.exe" in shown[0]


def test_terminal_safe_escapes_only_what_acts_on_a_terminal() -> None:
    for name in HOSTILE:
        _assert_no_raw(terminal_safe(name, one_line=True))
    assert terminal_safe("\x1b[31mred\u202e") == "\\x1b[31mred\\u202e"
    assert terminal_safe("two\nlines\tand tab") == "two\nlines\tand tab"
    assert terminal_safe("two\nlines", one_line=True) == "two\\x0alines"
    printable = "modèle-日本-🦙 «ok»"
    assert terminal_safe(printable) == printable
    table = format_table(["model", "score"], [["\x1b[2Jevil", "1"], [printable, "2"]], "lr")
    _assert_no_raw(table)
    lines = table.splitlines()
    assert lines[2].startswith("\\x1b[2Jevil") and lines[3].startswith(printable)
    # Columns stay aligned on the escaped text.
    assert len({line.rstrip().rfind(" ") for line in lines[2:]}) == 1
