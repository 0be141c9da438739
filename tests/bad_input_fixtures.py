"""The small pool the bad-input tests write into, and what a commit would change in it."""

from __future__ import annotations

from pathlib import Path

import onebench

__all__ = ["MODELS", "pool_state", "small_pool"]

MODELS = ["good", "mid", "bad"]


def small_pool(path: Path) -> onebench.Pool:
    """Three models on four binary samples of the benchmark ``t``."""
    pool = onebench.Pool.create(path)
    rows = [
        {"sample_id": f"t/{i}", "model": model, "score": float(score)}
        for i in range(4)
        for model, score in zip(MODELS, (1, i % 2, 0), strict=True)
    ]
    samples = [{"sample_id": f"t/{i}", "benchmark": "t", "text": f"q{i}"} for i in range(4)]
    pool.add_measurements(rows, kind="binary", samples=samples, models=MODELS)
    return pool


def pool_state(path: Path) -> tuple[bytes, list[str]]:
    """What a commit changes: the manifest and the segment files."""
    return (path / "MANIFEST").read_bytes(), sorted(entry.name for entry in path.glob("*.seg"))
