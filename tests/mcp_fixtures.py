"""Pools and helpers shared by the MCP server tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import onebench
from onebench.synthetic import generate

CATEGORIES = ("algebra", "chemistry", "law")


def build_synthetic_pool(path: Path, *, n_models: int = 12, n_samples: int = 3000) -> onebench.Pool:
    """A sparse pool with a known order: three benchmarks, three categories, binary and
    numeric samples, plus pairwise and ranking measurements on a few samples."""
    data = generate(n_models=n_models, n_samples=n_samples, missing=0.5, n_benchmarks=3, seed=7)
    samples = data.samples_frame()
    samples["category"] = [CATEGORIES[index % 3] for index in range(len(samples))]
    samples["text"] = [f"{CATEGORIES[index % 3]} question {index}" for index in range(len(samples))]
    pool = onebench.Pool.create(path)
    pool.add_measurements(data.measurements_frame(), samples=samples, models=data.model_ids)
    extra = [
        {"sample_id": f"extra/{index}", "benchmark": "duels", "text": f"duel {index}"}
        for index in range(20)
    ]
    order = data.true_order()
    rng = np.random.default_rng(3)
    rows: list[dict[str, Any]] = []
    for index in range(20):
        first, second = rng.choice(len(order), size=2, replace=False)
        better, worse = sorted((int(first), int(second)))
        rows.append(
            {
                "sample_id": f"extra/{index}",
                "kind": "pairwise",
                "model_a": order[worse],
                "model_b": order[better],
                "winner": "b",
            }
        )
    pool.add_measurements(rows, samples=extra)
    ranked = [{"sample_id": "extra/ranked", "benchmark": "duels", "text": "order these"}]
    ranking = [
        {
            "sample_id": "extra/ranked",
            "kind": "ranking",
            "ranking": [[order[0]], [order[1], order[2]], [order[3]]],
        }
    ]
    pool.add_measurements(ranking, samples=ranked)
    return pool


def category_ids(pool: onebench.Pool, category: str) -> list[str]:
    table = pool.samples()
    return [
        sample_id
        for sample_id, metadata in zip(
            table.column("sample_id").to_pylist(), table.column("metadata").to_pylist(), strict=True
        )
        if metadata and json.loads(metadata).get("category") == category
    ]


def serve_command(pool: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "onebench.cli", "serve", "--pool", str(pool), *extra]


class HttpServer:
    """``onebench serve --transport http --port 0`` in a subprocess; the URL comes from the
    line it prints on stderr."""

    def __init__(self, pool: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            serve_command(pool, "--transport", "http", "--port", "0", *extra),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.url = self._wait_for_url()
        # Keep reading stderr so that a chatty server never blocks on a full pipe.
        self.log: list[str] = []
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 60
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            if "listening on " in line:
                return line.split("listening on ", 1)[1].split()[0]
        self.stop()
        raise AssertionError(f"onebench serve did not start (exit code {self.process.returncode})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if hasattr(self, "_drain"):
            self._drain.join(timeout=5)
