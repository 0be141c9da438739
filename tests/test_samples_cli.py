"""``onebench samples`` on a pool with a sample that only pairwise measurements cover: its
diagnostics are null, and the table shows a dash for them (it raised TypeError before)."""

from __future__ import annotations

import json
from pathlib import Path

import onebench
import pytest
from onebench.cli import main


def _pool(path: Path) -> Path:
    pool = onebench.Pool.create(path)
    pool.add_samples(
        {"sample_id": ["q1", "q2", "q3", "p1"], "benchmark": ["up"] * 3 + ["pw"], "text": ["a"] * 4}
    )
    pool.add_models(["m1", "m2", "m3"])
    pool.add_measurements(
        {
            "sample_id": [sample for sample in ("q1", "q2", "q3") for _ in range(3)],
            "model": ["m1", "m2", "m3"] * 3,
            "score": [1, 0, 1, 1, 1, 0, 0, 1, 1],
        },
        kind="binary",
        source="test",
    )
    pool.add_measurements(
        {"sample_id": ["p1"], "model_a": ["m1"], "model_b": ["m2"], "winner": ["a"]},
        kind="pairwise",
        source="test",
    )
    return path


def test_samples_without_diagnostics_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = str(_pool(tmp_path / "pool"))
    assert main(["samples", "--pool", pool]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["p1"][3:6] == ["-", "-", "-"]
    assert lines["q1"][3] != "-"
    assert main(["samples", "--pool", pool, "--json"]) == 0
    rows = {row["sample_id"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["p1"]["difficulty"] is None
    assert isinstance(rows["q1"]["difficulty"], float)
