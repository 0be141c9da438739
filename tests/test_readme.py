"""The README's Python tour runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_api_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _python_blocks()
    assert blocks, "README has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    board = namespace["board"]
    assert board.method == "joint"
    # model-b is right on nothing the others miss: last under any method. (model-a and
    # model-c trade places by method: a leads on the numeric sample, c on the ranking.)
    assert board.models[-1] == "model-b"
    assert (tmp_path / "my-pool").is_dir()
    assert any(name.endswith(".parquet") for name in os.listdir(tmp_path / "out"))
