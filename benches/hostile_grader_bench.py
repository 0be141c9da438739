"""The code grader against the hostile programs of tests/hostile_programs.py, and what the
sandbox costs an honest grade.

Prints the machine's isolation (``sandbox_isolation()``), then one row per hostile program
(verdict, explanation, seconds, and whether any process of the grade survived, any host
file changed, any host socket was reached or the planted secret showed), then the median
time of an honest grade (right and wrong answers alternating) three ways, in one run: the
grader (two boxes: program and tests apart), one box running program + tests in one process,
and the former design (one process, program + tests, only a network namespace).

    python benches/hostile_grader_bench.py [--honest 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile_programs import CASES, RIGHT, TASK, TESTS, WRONG, planted_host, run_case
from onebench.graders import GradingSample, load_grader, run_python, sandbox_isolation


def _hostile() -> None:
    print("| program | verdict | explanation | seconds | held |")
    print("|---|---|---|---|---|")
    for case in CASES:
        with planted_host() as host:
            outcome = run_case(case, host)
        verdict = "pass" if outcome.score == 1.0 else "fail"
        expected = "pass (right answer)" if case.right else "fail"
        held = "yes" if outcome.held and verdict == expected.split()[0] else "NO"
        explanation = outcome.explanation.replace("|", "/")[:70]
        print(f"| {case.name} | {verdict} | {explanation} | {outcome.seconds:.2f} | {held} |")


def _median(function, count: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for index in range(count):
        started = time.perf_counter()
        function(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _honest(count: int) -> None:
    grader = load_grader("code")
    sample = GradingSample("honest", TASK, (), {"tests": TESTS})
    programs = [RIGHT, WRONG]

    def two_boxes(index: int) -> None:
        grader.grade(sample, programs[index % 2])

    def one_box(index: int) -> None:
        run_python(programs[index % 2] + TESTS)

    def former(index: int) -> None:
        run_python(
            programs[index % 2] + TESTS, isolation="network-namespace", allow_weak_isolation=True
        )

    rows = [
        ("code grader: program and tests in two boxes", _median(two_boxes, count)),
        ("one box, program + tests in one process", _median(one_box, count)),
        ("former design: one process, network namespace only", _median(former, count)),
    ]
    baseline = rows[-1][1]
    print("\n| honest grade | median seconds | vs former |")
    print("|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / baseline:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--honest", type=int, default=20, help="honest grades per variant")
    args = parser.parse_args()
    isolation = sandbox_isolation()
    print(f"isolation: {isolation}")
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}; uid {os.geteuid()}")
    if not isolation.complete:
        print(f"the box is not available here ({isolation.missing}); nothing to measure")
        return
    _hostile()
    _honest(args.honest)
    print(f"\nload average at end: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
