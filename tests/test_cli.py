from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import onebench
import pandas as pd
import pytest
from onebench.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _files(tmp_path: Path) -> tuple[Path, Path]:
    samples = tmp_path / "samples.csv"
    pd.DataFrame(
        {"sample_id": ["t/1", "t/2", "t/3"], "benchmark": ["t"] * 3, "text": ["a", "b", "c"]}
    ).to_csv(samples, index=False)
    measurements = tmp_path / "measurements.jsonl"
    rows = [
        {"sample_id": f"t/{i}", "model": model, "kind": "binary", "score": score}
        for i in (1, 2, 3)
        for model, score in (("good", 1), ("bad", 0), ("mid", i % 2))
    ]
    measurements.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return samples, measurements


def test_init_import_stats_rank_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = str(tmp_path / "pool")
    samples, measurements = _files(tmp_path)
    assert _run(capsys, "init", "--pool", pool)[0] == 0
    code, out, _ = _run(capsys, "import", str(samples), str(measurements), "--pool", pool, "--json")
    assert code == 0
    assert json.loads(out)["measurements_added"] == 9
    code, out, _ = _run(capsys, "stats", "--pool", pool, "--json")
    stats = json.loads(out)
    assert stats["samples"] == 3 and stats["models"] == 3
    assert stats["benchmarks"]["t"] == {"samples": 3, "measurements": 9}
    code, out, _ = _run(capsys, "rank", "--pool", pool, "--json")
    ranking = json.loads(out)
    assert ranking["method"] == "joint"  # the default
    assert [row["model"] for row in ranking["models"]] == ["good", "mid", "bad"]
    code, out, _ = _run(capsys, "rank", "--pool", pool, "--method", "mean", "--bootstrap", "50")
    assert code == 0 and "mean" in out and "good" in out
    code, out, _ = _run(capsys, "rank", "--pool", pool, "--min-samples", "4", "--json")
    assert code == 0 and json.loads(out)["hidden"] == ["bad", "good", "mid"]
    assert json.loads(out)["models"] == []
    code, out, _ = _run(capsys, "export", "--pool", pool, "--out", str(tmp_path / "x"), "--json")
    assert Path(json.loads(out)["measurements"]).exists()
    code, out, _ = _run(
        capsys, "export", "--pool", pool, "--out", str(tmp_path / "y"), "--model", "good", "--json"
    )
    exported = pd.read_parquet(json.loads(out)["measurements"])
    assert code == 0 and list(exported["model"].astype(str)) == ["good"] * 3


def test_pool_from_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ONEBENCH_POOL", str(tmp_path / "envpool"))
    assert _run(capsys, "init")[0] == 0
    assert (tmp_path / "envpool" / "MANIFEST").exists()


def test_errors_go_to_stderr_with_exit_code_2(tmp_path: Path, capsys) -> None:
    code, out, err = _run(capsys, "stats", "--pool", str(tmp_path / "nothing"))
    assert code == 2 and out == "" and "error" in err
    bad = tmp_path / "measurements.csv"
    bad.write_text("sample_id,model,kind,score\nt/1,x,binary,nan\n")
    _run(capsys, "init", "--pool", str(tmp_path / "p"))
    code, out, err = _run(capsys, "import", str(bad), "--pool", str(tmp_path / "p"))
    assert code == 2 and "row 0" in err
    code, out, _ = _run(capsys, "stats", "--pool", str(tmp_path / "p"), "--json")
    stats = json.loads(out)
    assert (stats["samples"], stats["models"], stats["measurements"]["total"]) == (0, 0, 0)


def test_console_script_demo_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "onebench.cli",
            "demo",
            "--models",
            "12",
            "--samples",
            "600",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    payload = json.loads(result.stdout)
    assert len(payload["leaderboard"]["models"]) == 12
    missing = {(row["missingness"], row["missing"]) for row in payload["robustness"]}
    assert ("random", 0.95) in missing and ("benchmarks", 0.5) in missing


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    # `onebench samples | head -1`: the pipe closes after one line; no traceback follows.
    pool = onebench.Pool.create(tmp_path / "p")
    ids = [f"s{i}" for i in range(4000)]
    pool.add_measurements(
        {"sample_id": ids * 2, "model": ["a"] * 4000 + ["b"] * 4000, "score": [1, 0] * 4000},
        kind="binary",
        samples={"sample_id": ids},
        models=["a", "b"],
    )
    reader, writer = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "onebench.cli", "samples", "--pool", str(pool.path), "--limit", "0"],
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(writer)
    with os.fdopen(reader) as stream:
        assert stream.readline().startswith("sample")
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert process.returncode == 128 + signal.SIGPIPE


def test_benchmark_option_selects_its_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two benchmarks that order the models oppositely: --benchmark must keep only its own.
    pool = onebench.Pool.create(tmp_path / "p")
    ids = {"up": [f"up/{i}" for i in range(4)], "down": [f"down/{i}" for i in range(4)]}
    pool.add_measurements(
        {
            "sample_id": [s for name in ("up", "down") for s in ids[name] for _ in "ab"],
            "model": ["a", "b"] * 8,
            "score": [1, 0] * 4 + [0, 1] * 4,
        },
        kind="binary",
        samples={"sample_id": ids["up"] + ids["down"], "benchmark": ["up"] * 4 + ["down"] * 4},
        models=["a", "b"],
    )
    path = str(pool.path)
    for benchmark, best in (("up", "a"), ("down", "b")):
        code, out, _ = _run(capsys, "rank", "--pool", path, "--benchmark", benchmark, "--json")
        assert code == 0 and json.loads(out)["models"][0]["model"] == best
        code, out, _ = _run(capsys, "samples", "--pool", path, "--benchmark", benchmark, "--json")
        assert {row["sample_id"] for row in json.loads(out)["rows"]} == set(ids[benchmark])
    target = tmp_path / "out"
    code, _, _ = _run(capsys, "export", "--pool", path, "--out", str(target), "--benchmark", "up")
    assert code == 0
    exported = pd.read_parquet(target / "samples.parquet")["sample_id"]
    assert set(exported) == set(ids["up"])
    for command in (["rank"], ["samples"], ["export", "--out", str(tmp_path / "none")]):
        code, _, err = _run(capsys, *command, "--pool", path, "--benchmark", "nowhere")
        assert code == 2
        assert err.startswith(f"onebench {command[0]}: error: --benchmark: no samples in")
        assert "(the pool's benchmarks: down, up)" in err
    assert not (tmp_path / "none").exists()


def test_version_and_python_dash_m() -> None:
    import subprocess
    import sys

    import onebench

    for command in (["onebench", "--version"], [sys.executable, "-m", "onebench", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"onebench {onebench.__version__}"
    done = subprocess.run(
        [sys.executable, "-m", "onebench", "rank", "--bogus"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--bogus" in done.stderr
