"""onebench works without the mcp extra; only `onebench serve` asks for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onebench

_WITHOUT_MCP = """
import sys
sys.modules["mcp"] = None  # import mcp now fails, as when the extra is not installed
import onebench, onebench.cli
assert "mcp" in sys.modules and sys.modules["mcp"] is None
pool = onebench.Pool.open(sys.argv[1])
print(pool.rank().models[0])
sys.exit(onebench.cli.main(["serve", "--pool", sys.argv[1]]))
"""


def test_onebench_imports_and_ranks_without_mcp(tmp_path: Path) -> None:
    pool = onebench.Pool.create(tmp_path / "pool")
    pool.add_samples([{"sample_id": "q1"}])
    rows = [
        {"sample_id": "q1", "model": "a", "score": 1},
        {"sample_id": "q1", "model": "b", "score": 0},
    ]
    pool.add_measurements(rows, kind="binary", models=["a", "b"])
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_MCP, str(tmp_path / "pool")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout.strip() == "a"
    assert "needs the mcp extra: pip install 'onebench[mcp]'" in result.stderr
