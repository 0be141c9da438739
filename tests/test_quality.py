"""The stub file matches the extension module, and the Python sources type-check and are
lint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_core_stub_matches_the_extension_module() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "onebench._core",
            "--ignore-missing-stub",
            "--mypy-config-file",
            "stubtest.ini",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks() -> None:
    # pyproject.toml's [tool.mypy]. The cache in ROOT/.mypy_cache makes re-runs take
    # seconds; a cold run takes about 50 s on 2 cores.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "python/onebench"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.prefix) / "bin/ruff").exists(),
    reason="ruff not installed",
)
def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.prefix) / "bin/ruff")
    for command in (
        [ruff, "check", "."],
        [ruff, "format", "--check", "."],
    ):
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
