"""A writer killed with SIGKILL mid-commit never leaves a torn batch behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onebench

BATCH = 5_000
N_SAMPLES = 500
WRITER = f"""
import sys, numpy as np, onebench
pool = onebench.Pool.open(sys.argv[1])
models = [f"m{{i}}" for i in range(10)]
samples = np.array([f"s{{i}}" for i in range({N_SAMPLES})])
print("ready", flush=True)
while True:
    pool.refresh()
    batch = pool.stats().measurements // {BATCH}
    rows = np.arange({BATCH})
    pool.add_measurements(
        {{"sample_id": samples[rows % {N_SAMPLES}], "model": np.array(models)[rows // {N_SAMPLES}],
          "score": np.full({BATCH}, float(batch))}},
        kind="numeric", source=f"batch-{{batch}}",
    )
    print(batch, flush=True)
"""


def _check(path: Path) -> int:
    table = onebench.Pool.open(path).measurements().to_pandas()
    if table.empty:
        return 0
    counts = table.groupby(table["source"].astype(str)).size()
    batches = sorted(int(name.split("-")[1]) for name in counts.index)
    assert batches == list(range(len(batches))), batches
    assert (counts == BATCH).all(), counts[counts != BATCH]
    for name, group in table.groupby(table["source"].astype(str)):
        assert (group["score"] == float(name.split("-")[1])).all()
    return len(batches)


def test_sigkill_during_commits_leaves_only_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "pool"
    pool = onebench.Pool.create(path)
    pool.add_samples({"sample_id": [f"s{i}" for i in range(N_SAMPLES)]})
    pool.add_models([f"m{i}" for i in range(10)])
    rng = np.random.default_rng(0)
    committed, deadline = 0, time.monotonic() + 60
    rounds = 0
    while rounds < 25 and time.monotonic() < deadline:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Start the clock once the writer has imported and opened the pool (seconds on a
        # loaded machine), then kill it at a random point of its commits.
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(float(rng.uniform(0.2, 1.5)))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL, writer.stderr.read() if writer.stderr else ""
        now = _check(path)
        assert now >= committed
        committed = now
        rounds += 1
    assert rounds >= 10
    assert committed > 0
