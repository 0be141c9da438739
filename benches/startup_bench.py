"""Start-up of the ``onebench`` command (issue 21): whole processes, as a shell runs them.

    python benches/startup_bench.py                       # 7 runs of each command
    python benches/startup_bench.py --runs 11 --importtime 8
    python benches/startup_bench.py --tree /path/to/other/checkout   # and another tree

Times ``python -c "import onebench"``, ``onebench --help``, an argument error
(``onebench rank --bogus``) and ``onebench rank --json`` on the dense 100 models x 10k
samples pool of ``rank_bench.py`` (``dense-100x10k``, built once in a temporary folder or
given with ``--pool``), with the default method, with ``--method mean``, whose fit takes a
few milliseconds, so that its time is what the command costs beyond the fit, and with
``--method plackett-luce``, the method of ``rank_bench.py``'s timings. Each command
runs ``--runs`` times in a fresh process after one warm-up run; the table gives the median
and the fastest wall time and the median CPU time (user + system) of the process. The
in-process figures (``Pool.open`` and ``Pool.rank`` alone, in one process) say how much of
``rank`` is the fit.

Bytecode: an installed package has its ``.pyc`` files; a source checkout run with
``PYTHONDONTWRITEBYTECODE=1`` compiles every module on every start. The bench writes
bytecode under a temporary ``PYTHONPYCACHEPREFIX`` (the warm-up run fills it) unless
``--no-bytecode-cache`` keeps the environment as it is.

``--tree DIR`` (repeatable) also times ``DIR/python`` put first on ``PYTHONPATH``: the same
interpreter and Rust core then run another checkout's Python code (copy the ``_core``
library into ``DIR/python/onebench`` first). The runs of the trees alternate, so that a
machine whose load changes (2 cores shared) slows each tree alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

POOL_SPEC = "dense-100x10k"


def _write_pool(path: Path) -> None:
    # As rank_bench.write_pool, in a child process so that this one stays light.
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from _datasets import build_dataset\n"
        "from onebench import Pool\n"
        f"data = build_dataset({POOL_SPEC!r})\n"
        f"pool = Pool.create({str(path)!r})\n"
        "pool.add_samples(data.samples_frame())\n"
        "pool.add_models(data.model_ids)\n"
        "pool.add_measurements(data.measurements_frame(), source='bench')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _onebench() -> list[str]:
    """The console script next to this interpreter, else the module (same code path)."""
    script = Path(sys.executable).with_name("onebench")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "onebench.cli"]


def _environment(args: argparse.Namespace, cache: Path, tree: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    if tree:
        source = str(Path(tree).resolve() / "python")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def _run_once(command: list[str], env: dict[str, str], expect: int) -> tuple[float, float]:
    """Wall and CPU seconds of one process (CPU: its user + system time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != expect:
        raise SystemExit(
            f"{' '.join(command)}: exit {result.returncode}, expected {expect}\n"
            + result.stderr.decode(errors="replace")
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _time(
    command: list[str], envs: list[dict[str, str]], runs: int, expect: int = 0
) -> list[list[float]]:
    """Per environment: median wall, fastest wall, median CPU; runs alternate between the
    environments."""
    for env in envs:
        _run_once(command, env, expect)  # warm-up: page cache, bytecode
    samples: list[list[tuple[float, float]]] = [[] for _ in envs]
    for _ in range(runs):
        for env, taken in zip(envs, samples, strict=True):
            taken.append(_run_once(command, env, expect))
    figures = []
    for taken in samples:
        walls = [wall for wall, _ in taken]
        figures.append(
            [statistics.median(walls), min(walls), statistics.median(c for _, c in taken)]
        )
    return figures


def _in_process(pool: Path, env: dict[str, str], method: str | None) -> tuple[float, float]:
    """Seconds of Pool.open and of Pool.rank (the fit and the leaderboard) in one process."""
    code = (
        "import time\n"
        "from onebench import Pool\n"
        "start = time.perf_counter()\n"
        f"pool = Pool.open({str(pool)!r})\n"
        "opened = time.perf_counter()\n"
        f"pool.rank(method={method!r})\n"
        "print(opened - start, time.perf_counter() - opened)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    opened, ranked = (float(value) for value in out.stdout.split())
    return opened, ranked


def _importtime(command: list[str], env: dict[str, str], top: int) -> list[tuple[int, str]]:
    """The ``top`` imports with the largest cumulative time (microseconds), outermost
    first among equals."""
    result = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        # Top-level packages only: their cumulative time includes their submodules.
        if depth == 0:
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    parser.add_argument("--pool", help=f"an existing {POOL_SPEC} pool (default: build one)")
    parser.add_argument(
        "--tree", action="append", default=[], help="also time this checkout's python/"
    )
    parser.add_argument(
        "--importtime", type=int, default=0, metavar="N", help="also the N slowest imports"
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment's bytecode settings (PYTHONDONTWRITEBYTECODE)",
    )
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="onebench-startup-"))
    try:
        trees: list[str | None] = [None, *args.tree]
        envs = [
            _environment(args, scratch / f"pycache-{index}", tree)
            for index, tree in enumerate(trees)
        ]
        names = ["this install", *(f"tree {tree}" for tree in args.tree)]
        pool = Path(args.pool) if args.pool else scratch / "pool"
        if not args.pool:
            _write_pool(pool)
        onebench = _onebench()
        rank = [*onebench, "rank", "--json", "--pool", str(pool)]
        commands = [
            ('python -c "import onebench"', [sys.executable, "-c", "import onebench"], 0),
            ("python -c pass (the interpreter alone)", [sys.executable, "-c", "pass"], 0),
            ("onebench --help", [*onebench, "--help"], 0),
            ("onebench rank --bogus (argument error)", [*onebench, "rank", "--bogus"], 2),
            (f"onebench rank --json ({POOL_SPEC}, default method)", rank, 0),
            (f"onebench rank --json --method mean ({POOL_SPEC})", [*rank, "--method", "mean"], 0),
            (
                f"onebench rank --json --method plackett-luce ({POOL_SPEC})",
                [*rank, "--method", "plackett-luce"],
                0,
            ),
        ]
        print(
            f"{args.runs} runs each after one warm-up; bytecode "
            f"{'as the environment has it' if args.no_bytecode_cache else 'cached'}\n"
        )
        print("| command | code | median wall s | fastest wall s | median CPU s |")
        print("|---|---|---|---|---|")
        for label, command, expect in commands:
            for name, (median, fastest, cpu) in zip(
                names, _time(command, envs, args.runs, expect), strict=True
            ):
                print(
                    f"| {label} | {name} | {median:.3f} | {fastest:.3f} | {cpu:.3f} |",
                    flush=True,
                )
        print()
        for name, tree_env in zip(names, envs, strict=True):
            for method in (None, "mean", "plackett-luce"):
                opened, ranked = _in_process(pool, tree_env, method)
                print(
                    f"{name}, in one process, {method or 'default'} method: Pool.open "
                    f"{opened:.3f} s, Pool.rank {ranked:.3f} s"
                )
        for name, tree_env in zip(names, envs, strict=True) if args.importtime else ():
            for label, command in (
                ("import onebench", [sys.executable, "-c", "import onebench"]),
                ("onebench --help", [*onebench, "--help"]),
                ("onebench rank --json --method mean", [*rank, "--method", "mean"]),
            ):
                print(f"\n{name}: slowest top-level imports of `{label}` (-X importtime):")
                for micros, module in _importtime(command, tree_env, args.importtime):
                    print(f"  {micros / 1000:8.1f} ms  {module}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
