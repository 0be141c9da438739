"""Bench datasets, and wall time plus peak memory of one call in a fresh process.

Datasets are named configurations of :func:`onebench.synthetic.generate`, so a bench run says
which one it used and anyone can rebuild it. :func:`measure` runs one function in a freshly
spawned interpreter: the inputs are built there (so nothing is pickled across), the peak
resident memory is reset once they exist, and the function's wall time and peak are reported.

Why not ``resource.getrusage(...).ru_maxrss`` of the child: on Linux a spawned child is
fork + exec of the parent, and exec records the parent's resident set as the child's starting
high-water mark. A parent holding 1.5 GB made every child report 1.5 GB. The kernel's per-process
``VmHWM`` (``/proc/self/status``) starts fresh at exec and can be reset with
``/proc/self/clear_refs``; ``ru_maxrss`` is only the fallback where /proc is missing.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onebench.synthetic import SyntheticData, generate

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "Measurement",
    "build_dataset",
    "dataset_inputs",
    "measure",
    "peer_inputs",
]

PeerInputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


@dataclass(frozen=True)
class DatasetSpec:
    """Arguments of :func:`onebench.synthetic.generate` under a name."""

    name: str
    n_models: int
    n_samples: int
    missing: float = 0.0
    structure: str | None = None
    binary_fraction: float = 0.5
    seed: int = 0

    def build(self) -> SyntheticData:
        """Generate the dataset (deterministic: same spec, same data)."""
        return generate(
            self.n_models,
            self.n_samples,
            missing=self.missing,
            binary_fraction=self.binary_fraction,
            structure=self.structure,
            seed=self.seed,
        )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        # ONEBench's own simulation size, dense: where every peer runs, the reference point.
        DatasetSpec("dense-100x10k", 100, 10_000),
        DatasetSpec("sparse-100x10k-95", 100, 10_000, missing=0.95),
        # Structured missingness: the plain mean is misled, ordinal methods should not be.
        DatasetSpec("benchmarks-100x10k-90", 100, 10_000, missing=0.9, structure="benchmarks"),
        DatasetSpec("difficulty-100x10k-90", 100, 10_000, missing=0.9, structure="difficulty"),
        # The scale target: 50M measurements, far beyond the pairwise peers.
        DatasetSpec("sparse-500x1M-95", 500, 1_000_000, missing=0.95),
        DatasetSpec("sparse-1000x1M-95", 1000, 1_000_000, missing=0.95),
        DatasetSpec("benchmarks-1000x1M-95", 1000, 1_000_000, missing=0.95, structure="benchmarks"),
    )
}


def build_dataset(spec: str | DatasetSpec) -> SyntheticData:
    """Build a dataset from its name in :data:`DATASETS` or from a spec."""
    if isinstance(spec, str):
        if spec not in DATASETS:
            raise ValueError(f"spec: unknown dataset {spec!r}; known: {sorted(DATASETS)}")
        spec = DATASETS[spec]
    return spec.build()


def peer_inputs(data: SyntheticData) -> PeerInputs:
    """The positional arguments every peer in ``_peers`` takes."""
    return data.sample, data.model, data.value, data.binary, len(data.model_ids)


def dataset_inputs(spec: str | DatasetSpec) -> PeerInputs:
    """Build a dataset and return it as peer arguments (a picklable input maker for measure)."""
    return peer_inputs(build_dataset(spec))


@dataclass(frozen=True)
class Measurement:
    """One call measured in a fresh process.

    ``peak_rss_bytes`` is the resident high-water mark while the call ran, including the
    inputs already in memory (``baseline_rss_bytes``); their difference is what the call added.
    """

    wall_s: float
    peak_rss_bytes: int
    baseline_rss_bytes: int
    result: Any = field(repr=False)

    @property
    def added_rss_bytes(self) -> int:
        """Peak memory the call itself added on top of its inputs."""
        return self.peak_rss_bytes - self.baseline_rss_bytes


def _status_kib(key: str) -> int | None:
    """A ``kB`` field of /proc/self/status, or None where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _child(
    conn: Any,
    fn: Callable[..., Any],
    make_inputs: Callable[..., tuple[Any, ...]] | None,
    inputs_args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    try:
        args = make_inputs(*inputs_args) if make_inputs is not None else inputs_args
        reset = _reset_peak()
        baseline_kib = _status_kib("VmRSS") or 0
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        wall = time.perf_counter() - start
        peak_kib = _status_kib("VmHWM") if reset else None
        if peak_kib is None:
            # ru_maxrss is KiB on Linux and bytes on macOS.
            scale = 1 if sys.platform == "darwin" else 1024
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        else:
            peak = peak_kib * 1024
        conn.send(("ok", wall, peak, baseline_kib * 1024, result))
    except BaseException as exc:  # report any failure to the parent rather than hang it
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


def measure(
    fn: Callable[..., Any],
    make_inputs: Callable[..., tuple[Any, ...]] | None = None,
    *inputs_args: Any,
    timeout: float | None = None,
    **kwargs: Any,
) -> Measurement:
    """Run ``fn(*make_inputs(*inputs_args), **kwargs)`` once in a fresh spawned interpreter.

    ``fn`` and ``make_inputs`` must be importable module-level functions (spawn pickles them
    by name). Without ``make_inputs``, ``inputs_args`` are passed to ``fn`` directly and are
    pickled to the child, which suits small inputs only. Example::

        measure(_peers.mean_score, dataset_inputs, "dense-100x10k")

    Raises
    ------
    RuntimeError
        If the call raised in the child (its repr is in the message) or the child died.
    TimeoutError
        If it ran past ``timeout`` seconds; the child is then terminated.
    """
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, make_inputs, inputs_args, kwargs))
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            child.terminate()
            child.join()
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} ran past {timeout} s")
        try:
            message = receive.recv()
        except EOFError:
            child.join()
            raise RuntimeError(f"child died with exit code {child.exitcode}") from None
    finally:
        receive.close()
    child.join()
    if message[0] == "error":
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed in the child: {message[1]}")
    _, wall, peak, baseline, result = message
    return Measurement(wall_s=wall, peak_rss_bytes=peak, baseline_rss_bytes=baseline, result=result)
