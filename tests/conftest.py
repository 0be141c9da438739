from __future__ import annotations

import os
from pathlib import Path

import onebench
import pytest


@pytest.fixture
def pool(tmp_path: Path) -> onebench.Pool:
    return onebench.Pool.create(tmp_path / "pool")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real evaluation data (``ONEBENCH_DATA``); tests using it skip when absent."""
    value = os.environ.get("ONEBENCH_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip("ONEBENCH_DATA is not set to the folder of real evaluation data")
    return Path(value)
