"""Evaluation runs end to end on CPU with a tiny random GPT-2: measurements committed, a
second run adds nothing, a run killed midway (SIGKILL) or stopped with Ctrl-C completes on
restart without duplicates, limits and budgets, the on-disk run format, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onebench
import pytest
from onebench._eval import Budget, evaluate, parse_budget
from onebench._runs import RunStore
from onebench.cli import main
from onebench.graders import GradingSample, load_grader

pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_fixtures import Scripted, build_tiny_model, toy_samples

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny_runner(tiny: Path):  # type: ignore[no-untyped-def]
    from onebench.infer import load_runner

    return load_runner("transformers", str(tiny), options={"max_new_tokens": 6}, batch_size=2)


@pytest.fixture
def toy_pool(pool: onebench.Pool) -> onebench.Pool:
    pool.add_samples(toy_samples(12))
    pool.add_samples(
        [{"sample_id": "other/1", "benchmark": "other", "text": "x", "reference": "y"}]
    )
    return pool


def cells(pool: onebench.Pool) -> list[tuple[str, str, str]]:
    table = pool.measurements(kinds=["binary", "numeric"])
    return list(
        zip(
            table.column("sample_id").to_pylist(),
            table.column("model").to_pylist(),
            table.column("grader").to_pylist(),
            strict=True,
        )
    )


def assert_complete_without_duplicates(pool: onebench.Pool, store: RunStore) -> None:
    found = cells(pool)
    assert len(found) == len(set(found)) == 12
    assert {sample for sample, _, _ in found} == {f"toy/{index}" for index in range(12)}
    # Every committed score is the grade of the output the run kept.
    outputs = store.latest_outputs()
    samples = {row["sample_id"]: row for row in pool.samples().to_pylist()}
    table = pool.measurements(kinds="binary").to_pylist()
    for row in table:
        sample = GradingSample.from_row(samples[row["sample_id"]])
        grader = load_grader(row["grader"])
        assert grader.grade(sample, outputs[row["sample_id"]]["text"]).score == row["score"]


def toy_ids() -> list[str]:
    return [f"toy/{index}" for index in range(12)]


def test_eval_commits_binary_measurements_and_a_second_eval_adds_nothing(
    toy_pool: onebench.Pool, tiny: Path
) -> None:
    report = evaluate(
        toy_pool,
        "tiny",
        toy_ids(),
        checkpoint=str(tiny),
        options={"max_new_tokens": 6},
        runner_settings={"batch_size": 4},
        chunk_size=5,
    )
    assert (report.selected, report.generated, report.committed, report.failed) == (12, 12, 12, 0)
    assert report.completion_tokens > 0 and report.prompt_tokens > 0
    assert set(report.graders) == {"numeric", "multiple_choice", "regex", "exact_match"}
    table = toy_pool.measurements(models="tiny")
    assert table.num_rows == 12
    assert set(table.column("kind").to_pylist()) == {"binary"}
    assert set(table.column("source").to_pylist()) == {"onebench eval"}
    store = RunStore.all(toy_pool.path)[0]
    assert_complete_without_duplicates(toy_pool, store)
    header = store.header()
    assert header["format"] == "onebench.run" and header["version"] == 1
    assert (header["model"], header["runner"], header["checkpoint"]) == (
        "tiny",
        "transformers",
        str(tiny),
    )
    assert header["generation"]["max_new_tokens"] == 6 and header["generation"]["temperature"] == 0
    assert sorted(path.name for path in store.folder.glob("outputs-*")) == [
        "outputs-000001.parquet",
        "outputs-000002.parquet",
        "outputs-000003.parquet",
    ]
    assert store.grades().num_rows == 12

    version = toy_pool.version
    again = evaluate(
        toy_pool, "tiny", toy_ids(), checkpoint=str(tiny), options={"max_new_tokens": 6}
    )
    assert (again.already_measured, again.committed, again.generated) == (12, 0, 0)
    toy_pool.refresh()
    assert toy_pool.version == version and len(cells(toy_pool)) == 12


_CRASHING = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import onebench
from onebench._eval import evaluate
saved = 0
def progress(event):
    global saved
    if event.stage == "saved":
        saved += 1
        if saved == 2:  # chunk 2's outputs are on disk, its measurements are not
            os.kill(os.getpid(), signal.SIGKILL)
evaluate(onebench.Pool.open({pool!r}), "tiny", checkpoint={model!r},
         options={{"max_new_tokens": 6}}, runner_settings={{"batch_size": 2}},
         chunk_size=4, progress=progress, samples=[f"toy/{{i}}" for i in range(12)])
"""


def test_a_run_killed_midway_completes_on_restart_without_duplicates(
    toy_pool: onebench.Pool, tiny: Path
) -> None:
    script = _CRASHING.format(tests=str(TESTS), pool=str(toy_pool.path), model=str(tiny))
    crashed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert crashed.returncode == -9, crashed.stderr.decode()[-2000:]
    toy_pool.refresh()
    assert len(cells(toy_pool)) == 4  # only chunk 1 was committed
    store = RunStore.all(toy_pool.path)[0]
    assert store.outputs().num_rows == 8

    report = evaluate(
        toy_pool,
        "tiny",
        toy_ids(),
        checkpoint=str(tiny),
        options={"max_new_tokens": 6},
        runner_settings={"batch_size": 2},
        chunk_size=4,
    )
    assert (report.already_measured, report.reused, report.generated) == (4, 4, 4)
    assert report.committed == 8
    assert store.outputs().num_rows == 12  # nothing generated twice
    assert_complete_without_duplicates(toy_pool, store)


def test_ctrl_c_keeps_the_outputs_generated_so_far(toy_pool: onebench.Pool, tiny_runner) -> None:  # type: ignore[no-untyped-def]
    generated = 0

    def interrupt(event) -> None:  # type: ignore[no-untyped-def]
        nonlocal generated
        if event.stage == "generation":
            generated += 1
            if generated == 6:  # chunk 2 is half generated
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(toy_pool, "tiny", toy_ids(), runner=tiny_runner, chunk_size=4, progress=interrupt)
    toy_pool.refresh()
    assert len(cells(toy_pool)) == 4
    store = RunStore.all(toy_pool.path)[0]
    assert store.outputs().num_rows == 6
    report = evaluate(toy_pool, "tiny", toy_ids(), runner=tiny_runner, chunk_size=4)
    assert (report.reused, report.generated, report.committed) == (2, 6, 8)
    assert_complete_without_duplicates(toy_pool, store)


def test_limit_and_budgets(toy_pool: onebench.Pool) -> None:
    runner = Scripted("s", lambda text: "Paris")
    first = evaluate(toy_pool, "s", toy_ids(), runner=runner, limit=5)
    assert (first.selected, first.committed, first.stopped) == (5, 5, None)
    second = evaluate(toy_pool, "s", toy_ids(), runner=runner, budget="3 samples")
    assert (second.already_measured, second.committed, second.stopped) == (5, 3, "budget")
    # Scripted outputs cost 5 tokens each: chunks of 2 stop once 10 tokens are spent.
    third = evaluate(toy_pool, "s", toy_ids(), runner=runner, budget="10 tokens", chunk_size=2)
    assert (third.committed, third.stopped) == (2, "budget")
    rest = evaluate(toy_pool, "s", toy_ids(), runner=runner)
    assert rest.committed == 2 and len(cells(toy_pool)) == 12
    assert parse_budget("20k tokens") == Budget(20_000, "tokens")
    assert parse_budget("1.5M tokens") == Budget(1_500_000, "tokens")
    assert parse_budget(500) == Budget(500) == parse_budget("500 samples")
    with pytest.raises(onebench.InvalidInputError, match="budget"):
        parse_budget("a lot")


def test_a_runner_failure_is_kept_and_retried_not_graded(toy_pool: onebench.Pool) -> None:
    from onebench.infer import Generation

    class Flaky(Scripted):
        def generate(self, prompts):  # type: ignore[no-untyped-def]
            for prompt in prompts:
                error = "HTTP 503" if prompt.sample_id == "toy/3" else None
                yield Generation(prompt.sample_id, "" if error else "Paris", 1, 1, 0.0, error)

    report = evaluate(toy_pool, "f", toy_ids(), runner=Flaky("f", str))
    assert (report.failed, report.committed) == (1, 11)
    retried = evaluate(toy_pool, "f", toy_ids(), runner=Scripted("f", lambda text: "Paris"))
    assert (retried.generated, retried.committed) == (1, 1)
    assert ("toy/3", "f", "exact_match") in cells(toy_pool)


def test_a_grader_that_contradicts_the_samples_metric_is_refused(
    toy_pool: onebench.Pool,
) -> None:
    toy_pool.add_measurements(
        {"sample_id": ["toy/0"], "model": ["old"], "score": [0.7]},
        kind="numeric",
        models=["old"],
    )
    runner = Scripted("s", str)
    with pytest.raises(onebench.InvalidInputError, match="'toy/0': its measurements are numeric"):
        evaluate(toy_pool, "s", ["toy/0"], runner=runner)
    assert runner.prompts == []  # refused before running anything


def test_run_files_are_whole_or_absent(toy_pool: onebench.Pool) -> None:
    runner = Scripted("s", lambda text: "Paris")
    evaluate(toy_pool, "s", toy_ids()[:3], runner=runner)
    store = RunStore.all(toy_pool.path)[0]
    # A torn write of a crashed writer is a temporary file: never read, removed by the next.
    torn = store.folder / ".tmp-outputs-000002.parquet-999"
    torn.write_bytes(b"PAR1 half")
    evaluate(toy_pool, "s", toy_ids()[:6], runner=runner)
    assert not torn.exists() and store.outputs().num_rows == 6
    # A damaged part is named, never silently read.
    part = store.folder / "outputs-000001.parquet"
    part.write_bytes(part.read_bytes()[:40])
    with pytest.raises(onebench.CorruptPoolError, match=r"outputs-000001\.parquet"):
        store.outputs()
    # A second writer of the same run is refused (flock: per open file, even in one process).
    with store.locked(), pytest.raises(onebench.PoolLockedError), RunStore(store.folder).locked():
        pass


def test_cli_eval_on_a_benchmark(toy_pool: onebench.Pool, tiny: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    arguments = [
        "eval",
        "--pool",
        str(toy_pool.path),
        "--model",
        "tiny",
        "--checkpoint",
        str(tiny),
        "--benchmark",
        "toy",
        "--max-new-tokens",
        "4",
        "--batch-size",
        "4",
        "--limit",
        "6",
        "--json",
        "--no-progress",
    ]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["selected"], report["committed"], report["model"]) == (6, 6, "tiny")
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["committed"] == 0
    # Another grader of the same kind measures the same cells again, under its own label.
    assert main([*arguments, "--grader", "regex", "--grader-option", "pattern=."]) == 0
    assert json.loads(capsys.readouterr().out)["committed"] == 6
    toy_pool.refresh()
    labels = [grader for _, _, grader in cells(toy_pool)]
    assert labels.count('regex[pattern="."]') == 6 and len(labels) == 12
    assert (
        main(
            [
                "eval",
                "--pool",
                str(toy_pool.path),
                "--model",
                "tiny",
                "--benchmark",
                "nope",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "'nope' is neither a saved benchmark nor a source benchmark" in capsys.readouterr().err


def test_cli_eval_on_a_saved_benchmark(toy_pool: onebench.Pool, tiny: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    query = pytest.importorskip("onebench.query")
    if not hasattr(query, "save_benchmark"):
        pytest.skip("saved benchmarks are not available")
    query.save_benchmark(toy_pool, query.Benchmark.from_ids(["toy/1", "toy/5"]), "picked")
    from onebench._eval_cli import resolve_benchmarks

    assert resolve_benchmarks(toy_pool, ["picked", "other"]) == ["toy/1", "toy/5", "other/1"]
    arguments = [
        "eval",
        "--pool",
        str(toy_pool.path),
        "--model",
        "tiny",
        "--checkpoint",
        str(tiny),
        "--benchmark",
        "picked",
        "--max-new-tokens",
        "2",
        "--json",
        "--no-progress",
    ]
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["committed"] == 2
    toy_pool.refresh()
    assert sorted(sample for sample, _, _ in cells(toy_pool)) == ["toy/1", "toy/5"]
