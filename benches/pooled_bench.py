"""Ranking a pooled pool: every method side by side, cold and repeated (issue 21, item 5).

The pool is what a user builds with ``onebench init`` and one ``onebench import`` per
source folder of ``ONEBENCH_DATA``: the three sources of the issue (mmlu_pro,
arena_bench_v1, alpaca_eval: 150 models, 13,137 samples, 499,890 measurements, sharing
few models) and all four (with chembench_irt). Each method ranks the pool in a fresh
process, twice: ``cold`` with no stored fit (``ONEBENCH_FITS=off``), then ``stored`` from a
new process once the first call has kept its fit in the pool (the default). Reported:
wall time of the rank call, the passes the fit took, whether it converged, the joint
model's form, and the ratio to Plackett–Luce's cold time on the same pool.

Run: ``ONEBENCH_DATA=../shared/data python benches/pooled_bench.py [--methods ...]
[--sources ...]``. The 1000 × 1M cases are timed by ``cargo test --release -p
onebench-core --test rank_joint_timings -- --ignored --nocapture``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

POOLS = {
    "three sources": ("mmlu_pro", "arena_bench_v1", "alpaca_eval"),
    "all four": ("mmlu_pro", "arena_bench_v1", "alpaca_eval", "chembench_irt"),
}
METHODS = ("joint", "plackett-luce", "onebench", "bradley-terry", "mean")

# One rank call in a fresh process; prints its timing as JSON.
_RANK = """
import json, sys, time
import onebench
pool = onebench.Pool.open(sys.argv[1])
start = time.perf_counter()
board = pool.rank(method=sys.argv[2])
seconds = time.perf_counter() - start
form = board.model_form.name if board.model_form is not None else None
print(json.dumps({"seconds": seconds, "passes": board.iterations,
                  "converged": board.converged, "form": form,
                  "reused": getattr(board, "reused", None)}))
"""


def build(folder: Path, sources: Sequence[str], root: Path) -> Path:
    pool = folder / "pool"
    subprocess.run(["onebench", "init", "--pool", str(pool)], check=True, capture_output=True)
    for source in sources:
        subprocess.run(
            ["onebench", "import", str(root / source), "--pool", str(pool)],
            check=True,
            capture_output=True,
        )
    return pool


def rank_once(pool: Path, method: str, stored: bool) -> dict:
    environment = dict(os.environ)
    if stored:
        environment.pop("ONEBENCH_FITS", None)
    else:
        environment["ONEBENCH_FITS"] = "off"
    output = subprocess.run(
        [sys.executable, "-c", _RANK, str(pool), method],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(pool: Path, methods: Sequence[str]) -> list[dict]:
    rows = []
    for method in methods:
        cold = rank_once(pool, method, stored=False)
        rank_once(pool, method, stored=True)  # keeps the fit in the pool
        stored = rank_once(pool, method, stored=True)
        rows.append({"method": method, "cold": cold, "stored": stored})
    return rows


def render(name: str, rows: list[dict]) -> str:
    baseline = next((r["cold"]["seconds"] for r in rows if r["method"] == "plackett-luce"), None)
    lines = [
        f"### {name}",
        "",
        "| method | cold (s) | passes | converged | form | × plackett-luce "
        "| stored, new process (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cold, stored = row["cold"], row["stored"]
        ratio = f"{cold['seconds'] / baseline:.2f}" if baseline else "-"
        lines.append(
            f"| {row['method']} | {cold['seconds']:.2f} | {cold['passes']} | "
            f"{cold['converged']} | {cold['form'] or '-'} | {ratio} | {stored['seconds']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--pools", nargs="+", default=list(POOLS), choices=list(POOLS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = Path(os.environ.get("ONEBENCH_DATA", "../shared/data"))
    if not root.is_dir():
        print(f"pooled_bench: ONEBENCH_DATA={root} is not a folder", file=sys.stderr)
        return 2
    results = {}
    for name in args.pools:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            pool = build(Path(folder), POOLS[name], root)
            print(f"{name}: built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            results[name] = measure(pool, args.methods)
        print(json.dumps(results[name]) if args.json else render(name, results[name]))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
