"""Fits kept in the pool (``<pool>/fits/``, onebench._fit_store): the same question from
another process is answered without fitting, a stale or damaged file is never used, and a
grown pool warm-starts from the last fit."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onebench
import pytest
from onebench import _core, _fit_store

_MODELS = [f"m{i}" for i in range(5)]


def _fill(pool: onebench.Pool, seed: int = 0, n_samples: int = 300) -> onebench.Pool:
    rng = np.random.default_rng(seed)
    ids = [f"s{i}" for i in range(n_samples)]
    pool.add_samples(
        {"sample_id": ids, "benchmark": ["b0" if i % 2 else "b1" for i in range(n_samples)]}
    )
    pool.add_models(_MODELS)
    correct = rng.random((n_samples, len(_MODELS))) < np.linspace(0.2, 0.8, len(_MODELS))
    pool.add_measurements(
        {
            "sample_id": np.repeat(ids, len(_MODELS)),
            "model": np.tile(_MODELS, n_samples),
            "score": correct.ravel().astype(float),
        },
        kind="binary",
    )
    return pool


@pytest.fixture
def filled(tmp_path: Path) -> onebench.Pool:
    return _fill(onebench.Pool.create(tmp_path / "pool"))


def _in_new_process(path: Path, options: str = "", fits: bool = True) -> dict[str, Any]:
    """``Pool.open(path).rank(<options>)`` in a fresh interpreter: its JSON, where it came
    from, and its iterations."""
    code = (
        "import json, onebench\n"
        f"board = onebench.Pool.open({str(path)!r}).rank({options})\n"
        "print(json.dumps({'board': board.to_dict(), 'reused': board.reused,"
        " 'warm_start': board.warm_start, 'iterations': board.iterations}))\n"
    )
    env = dict(os.environ)
    env.pop(_fit_store.ENVIRONMENT, None)
    if not fits:
        env[_fit_store.ENVIRONMENT] = "off"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _files(pool: onebench.Pool) -> list[str]:
    return sorted(os.listdir(pool.path / _fit_store.DIRECTORY))


def _assert_same_board(board: onebench.Leaderboard, expected: onebench.Leaderboard) -> None:
    assert board.models == expected.models
    assert [row.rank for row in board] == [row.rank for row in expected]
    for name in ("score", "ci_low", "ci_high"):
        np.testing.assert_allclose(
            [getattr(row, name) for row in board],
            [getattr(row, name) for row in expected],
            atol=1e-6,
        )


def _scores(board: dict[str, Any]) -> dict[str, float]:
    return {row["model"]: row["score"] for row in board["models"]}


def test_a_new_process_answers_from_the_stored_fit(filled: onebench.Pool) -> None:
    first = filled.rank()
    assert first.reused is None
    again = _in_new_process(filled.path)
    assert again["reused"] == "pool"
    assert again["board"] == json.loads(first.to_json())
    # A fresh fit (store off) gives that answer: the file holds the fit, not an approximation.
    fresh = _in_new_process(filled.path, fits=False)
    assert fresh["reused"] is None
    assert [row["model"] for row in fresh["board"]["models"]] == first.models
    np.testing.assert_allclose(
        list(_scores(fresh["board"]).values()), [row.score for row in first], rtol=0, atol=1e-12
    )


def test_a_fit_is_as_readable_as_the_pool(filled: onebench.Pool) -> None:
    filled.rank()
    (name,) = _files(filled)
    mode = os.stat(filled.path / "fits" / name).st_mode & 0o777
    assert mode == os.stat(filled.path / "MANIFEST").st_mode & 0o777


def test_the_command_line_reuses_the_fit_without_writing(filled: onebench.Pool) -> None:
    command = [sys.executable, "-m", "onebench.cli", "rank", "--json", "--pool", str(filled.path)]
    outputs = [subprocess.run(command, capture_output=True, text=True, timeout=300)]
    (name,) = _files(filled)
    before = os.stat(filled.path / "fits" / name)
    outputs.append(subprocess.run(command, capture_output=True, text=True, timeout=300))
    assert [done.returncode for done in outputs] == [0, 0], outputs[1].stderr
    assert outputs[0].stdout == outputs[1].stdout
    # Every fit writes its file anew (a new inode by the rename): the second call did not fit.
    after = os.stat(filled.path / "fits" / name)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_new_commit_makes_the_fit_stale_and_warm_starts_the_next(
    filled: onebench.Pool,
) -> None:
    filled.rank()
    (old,) = _files(filled)
    # Measurements that move the weakest model to the top: a stale answer would show.
    filled.add_measurements(
        {"sample_id": [f"s{i}" for i in range(300)], "model": ["m0"] * 300, "score": [1.0] * 300},
        kind="binary",
    )
    warm = _in_new_process(filled.path)
    assert warm["reused"] is None
    assert warm["warm_start"] == "pool"
    cold = _in_new_process(filled.path, fits=False)
    assert cold["warm_start"] is None
    assert warm["board"]["models"][0]["model"] == cold["board"]["models"][0]["model"]
    warm_scores, cold_scores = _scores(warm["board"]), _scores(cold["board"])
    np.testing.assert_allclose(
        [warm_scores[model] for model in cold_scores], list(cold_scores.values()), atol=1e-6
    )
    assert warm["iterations"] < cold["iterations"]
    # The older version's file is dropped once the new one is kept.
    (new,) = _files(filled)
    assert new != old


@pytest.mark.parametrize(
    "options",
    [
        {"method": "mean"},
        {"alpha": 0.5},
        {"ci": 0.9},
        {"interval": "none"},
        {"bootstrap": 8},
        {"form": "core"},
        {"tolerance": 1e-6},
        {"max_iterations": 3},
        {"min_samples": 200},
        {"samples": [f"s{i}" for i in range(0, 300, 2)]},
        {"samples": [f"s{i}" for i in range(1, 300, 2)]},
    ],
)
def test_other_options_or_samples_never_get_the_stored_fit(
    filled: onebench.Pool, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    filled.rank()
    other = onebench.Pool.open(filled.path).rank(**options)
    assert other.reused is None
    monkeypatch.setenv(_fit_store.ENVIRONMENT, "off")
    expected = onebench.Pool.open(filled.path).rank(**options)
    monkeypatch.delenv(_fit_store.ENVIRONMENT)
    if expected.converged:
        # A question with the same method, prior, samples and form starts from the kept
        # fit, so it agrees with a cold fit to the tolerance, not bit for bit.
        _assert_same_board(other, expected)
    else:
        # Three passes from the kept fit are not three passes from a cold start.
        assert other.iterations <= options["max_iterations"]
    # Both questions are kept, each answered from its own file.
    assert len(_files(filled)) == 2
    assert onebench.Pool.open(filled.path).rank(**options).reused == "pool"
    assert onebench.Pool.open(filled.path).rank().reused == "pool"


def test_bootstrap_seeds_are_other_questions(filled: onebench.Pool) -> None:
    filled.rank(bootstrap=8, seed=1)
    assert onebench.Pool.open(filled.path).rank(bootstrap=8, seed=2).reused is None
    assert onebench.Pool.open(filled.path).rank(bootstrap=8, seed=1).reused == "pool"


def test_a_pool_recreated_at_the_same_path_is_another_pool(tmp_path: Path) -> None:
    path = tmp_path / "pool"
    first = _fill(onebench.Pool.create(path), seed=0)
    first.rank()
    kept = tmp_path / "kept-fits"
    shutil.copytree(path / "fits", kept)
    shutil.rmtree(path)
    # As many commits (the same version), other data; the old files put back beside it.
    second = _fill(onebench.Pool.create(path), seed=1)
    assert second.version == first.version
    shutil.copytree(kept, path / "fits")
    board = onebench.Pool.open(path).rank()
    assert board.reused is None
    # Not a warm start either: the old pool is not one this pool grew from.
    assert board.warm_start is None


def test_another_build_never_reuses_a_fit(
    filled: onebench.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled.rank()
    monkeypatch.setattr(_fit_store, "_build", lambda: "0.0.0:1:2")
    board = onebench.Pool.open(filled.path).rank()
    assert board.reused is None
    assert board.warm_start is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_file_is_ignored_and_replaced(filled: onebench.Pool, damage: str) -> None:
    expected = filled.rank()
    (name,) = _files(filled)
    path = filled.path / "fits" / name
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 3] ^= 0xFF
    elif damage == "garbage":
        data = bytearray(b"not a fit" * 100)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    board = onebench.Pool.open(filled.path).rank()
    assert board.reused is None
    assert board.to_dict() == expected.to_dict()
    assert onebench.Pool.open(filled.path).rank().reused == "pool"


def test_a_file_of_another_format_version_is_ignored(filled: onebench.Pool) -> None:
    expected = filled.rank()
    (name,) = _files(filled)
    path = filled.path / "fits" / name
    with np.load(path) as stored:
        arrays = {key: stored[key] for key in stored.files}
    header = json.loads(arrays["header"].tobytes())
    header["format_version"] = 99
    header["key"]["format"] = 99
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    arrays["scores"] = arrays["scores"] + 1.0
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    # A newer reader's own files are named by their format: this one leaves them alone.
    newer = filled.path / "fits" / name.replace("f1-", "f2-")
    shutil.copy(path, newer)
    board = onebench.Pool.open(filled.path).rank()
    assert board.reused is None
    assert board.to_dict() == expected.to_dict()
    assert newer.exists()


def test_a_pool_that_cannot_keep_fits_still_ranks(
    filled: onebench.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    # A file where the folder would be: every write fails, as on a read-only pool.
    (filled.path / "fits").write_text("in the way")
    with caplog.at_level(logging.DEBUG, logger="onebench.fits"):
        board = onebench.Pool.open(filled.path).rank()
        again = onebench.Pool.open(filled.path).rank()
    assert board.reused is None and again.reused is None
    assert again.to_dict() == board.to_dict()
    assert any("could not keep the fit" in record.message for record in caplog.records)


def test_a_pool_that_keeps_no_fits_still_reads_them(
    filled: onebench.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = onebench.Pool.open(filled.path)
    reader.keep_fits = False
    assert reader.rank().reused is None
    assert not (filled.path / "fits").exists()
    monkeypatch.setenv(_fit_store.ENVIRONMENT, "read")
    assert onebench.Pool.open(filled.path).rank().reused is None
    assert not (filled.path / "fits").exists()
    monkeypatch.delenv(_fit_store.ENVIRONMENT)
    filled.rank()
    reader = onebench.Pool.open(filled.path)
    reader.keep_fits = False
    assert reader.rank().reused == "pool"


@pytest.mark.parametrize(
    ("code", "level"), [(errno.EROFS, logging.DEBUG), (errno.ENOSPC, logging.WARNING)]
)
def test_write_failures_are_logged_not_raised(
    filled: onebench.Pool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    code: int,
    level: int,
) -> None:
    def fail(path: Path, arrays: object) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(_fit_store, "_write", fail)
    with caplog.at_level(logging.DEBUG, logger="onebench.fits"):
        board = filled.rank()
    assert len(board) == len(_MODELS)
    assert [record.levelno for record in caplog.records if "could not keep" in record.message] == [
        level
    ]


def test_the_store_keeps_at_most_keep_files(
    filled: onebench.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fit_store, "KEEP", 3)
    for alpha in (0.5, 1.0, 2.0, 4.0, 8.0):
        filled.rank(method="mean", alpha=alpha)
    assert len(_files(filled)) == 3


def test_the_store_keeps_at_most_keep_bytes(
    filled: onebench.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled.rank(method="mean", alpha=0.5)
    (name,) = _files(filled)
    monkeypatch.setattr(_fit_store, "KEEP_BYTES", 2 * os.stat(filled.path / "fits" / name).st_size)
    for alpha in (1.0, 2.0, 4.0):
        filled.rank(method="mean", alpha=alpha)
    assert len(_files(filled)) == 2
    # The newest file stays even where it alone is over the bound.
    monkeypatch.setattr(_fit_store, "KEEP_BYTES", 1)
    filled.rank(method="mean", alpha=8.0)
    assert len(_files(filled)) == 1
    assert onebench.Pool.open(filled.path).rank(method="mean", alpha=8.0).reused == "pool"


def test_threads_sharing_a_pool_each_get_the_answer(filled: onebench.Pool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    handles = [filled, onebench.Pool.open(filled.path), onebench.Pool.open(filled.path)]
    with ThreadPoolExecutor(6) as executor:
        boards = list(executor.map(lambda i: handles[i % 3].rank(bootstrap=10), range(6)))
    # A thread may start from a file another just wrote: the same answer to the tolerance.
    for board in boards[1:]:
        _assert_same_board(board, boards[0])
    assert len(_files(filled)) == 1
    assert onebench.Pool.open(filled.path).rank(bootstrap=10).reused == "pool"


def test_concurrent_writers_of_one_key_leave_a_whole_file(filled: onebench.Pool) -> None:
    code = f"import onebench; onebench.Pool.open({str(filled.path)!r}).rank(bootstrap=20)"
    env = {key: value for key, value in os.environ.items() if key != _fit_store.ENVIRONMENT}
    processes = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    names = _files(filled)
    assert len(names) == 1 and not names[0].startswith(".tmp-")
    assert onebench.Pool.open(filled.path).rank(bootstrap=20).reused == "pool"


def test_solutions_round_trip_through_bytes(filled: onebench.Pool) -> None:
    result = filled._inner.rank(None, "joint", 0.1, 0.95, "none", 0, 0, 1e-8, 10_000)
    data = result["solution"].to_bytes()
    assert _core.Solution.from_bytes(data).to_bytes() == data
    for bad in (b"", data[:-1], data + b"\0", b"x" * len(data)):
        with pytest.raises(ValueError, match="format version"):
            _core.Solution.from_bytes(bad)
