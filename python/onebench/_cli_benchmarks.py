"""The ``--benchmark`` selection that ``onebench rank``, ``export`` and ``samples`` share.

Its own module so that the subcommand modules import it directly rather than from
``cli.py``, which imports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["benchmark_samples"]


def benchmark_samples(
    pool: Pool, benchmarks: Sequence[str] | None, command: str
) -> list[str] | None:
    """Ids of the pool's samples that belong to any of ``benchmarks`` (None: no selection,
    the whole pool); exits naming ``command`` when the benchmarks hold no samples."""
    if not benchmarks:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pool.samples()
    chosen = pc.is_in(table.column("benchmark"), value_set=pa.array(list(benchmarks)))
    samples = table.column("sample_id").filter(chosen).to_pylist()
    if not samples:
        raise SystemExit(f"onebench {command}: no samples in benchmark(s) {', '.join(benchmarks)}")
    return samples
