"""Benchmarks as objects: a set of sample ids, their similarities and the query that made
them, so that a custom benchmark can be ranked, combined, saved and reproduced."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas

    from ..pool import Pool
    from ..ranking import Leaderboard

__all__ = ["Benchmark"]


@dataclass(frozen=True)
class Benchmark:
    """A custom benchmark: samples of a pool, best match first.

    ``similarities[i]`` is the similarity of ``sample_ids[i]`` to the query (cosine for
    semantic search, BM25 for lexical, NaN for a filter-only selection). ``query`` is the
    specification that reproduces it (see :meth:`rerun`); combinations record their parts.
    """

    sample_ids: tuple[str, ...]
    similarities: tuple[float, ...]
    query: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def __post_init__(self) -> None:
        if len(self.sample_ids) != len(self.similarities):
            raise InvalidInputError(
                f"Benchmark: {len(self.sample_ids)} sample ids but "
                f"{len(self.similarities)} similarities",
                field="similarities",
            )
        if len(set(self.sample_ids)) != len(self.sample_ids):
            raise InvalidInputError("Benchmark: a sample id appears twice", field="sample_ids")

    @classmethod
    def from_ids(cls, sample_ids: Any, *, name: str | None = None) -> Benchmark:
        """A benchmark from a hand-picked list of sample ids."""
        ids = tuple(dict.fromkeys(str(sample_id) for sample_id in sample_ids))
        return cls(ids, (math.nan,) * len(ids), {"ids": list(ids)}, name)

    def __len__(self) -> int:
        return len(self.sample_ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.sample_ids)

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._positions

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {sample_id: position for position, sample_id in enumerate(self.sample_ids)}

    def named(self, name: str | None) -> Benchmark:
        return replace(self, name=name)

    # -- combining -------------------------------------------------------------------------

    def union(self, other: Benchmark) -> Benchmark:
        """Samples in either; a sample in both keeps its higher similarity."""
        return self._combine(other, "union")

    def intersection(self, other: Benchmark) -> Benchmark:
        """Samples in both, with the higher of their two similarities."""
        return self._combine(other, "intersection")

    def difference(self, other: Benchmark) -> Benchmark:
        """Samples of this benchmark that are not in ``other``."""
        return self._combine(other, "difference")

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def _combine(self, other: Benchmark, op: str) -> Benchmark:
        if not isinstance(other, Benchmark):
            raise InvalidInputError(f"{op}: expected a Benchmark, got {type(other).__name__}")
        keep = _KEEP[op]
        mine, theirs = self._positions, other._positions
        best: dict[str, float] = {}
        for sample_id in [*self.sample_ids, *other.sample_ids]:
            if sample_id in best or not keep(sample_id in mine, sample_id in theirs):
                continue
            candidates = [
                source.similarities[positions[sample_id]]
                for source, positions in ((self, mine), (other, theirs))
                if sample_id in positions
                and not math.isnan(source.similarities[positions[sample_id]])
            ]
            best[sample_id] = max(candidates) if candidates else math.nan
        # Best match first; samples without a similarity keep their order, last.
        ordered = sorted(
            best.items(), key=lambda item: -item[1] if not math.isnan(item[1]) else math.inf
        )
        return Benchmark(
            tuple(sample_id for sample_id, _ in ordered),
            tuple(similarity for _, similarity in ordered),
            {"op": op, "of": [self.query, other.query]},
        )

    # -- using -----------------------------------------------------------------------------

    def rank(self, pool: Pool, **options: Any) -> Leaderboard:
        """The models ranked on these samples (see :meth:`Pool.rank` for options)."""
        return pool.rank(self, **options)

    def rerun(self, pool: Pool) -> Benchmark:
        """Runs the recorded query again on ``pool`` (it may have grown since)."""
        return rerun_query(pool, self.query).named(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": self.query,
            "sample_ids": list(self.sample_ids),
            "similarities": [None if math.isnan(s) else round(s, 6) for s in self.similarities],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Benchmark:
        similarities = tuple(math.nan if s is None else float(s) for s in data["similarities"])
        return cls(
            tuple(data["sample_ids"]), similarities, dict(data.get("query") or {}), data.get("name")
        )

    def to_pandas(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame({"sample_id": self.sample_ids, "similarity": self.similarities})

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        text = self.query.get("text") or self.query.get("op") or "ids"
        return f"Benchmark({label}{len(self)} samples, query={text!r})"


def rerun_query(pool: Pool, query: dict[str, Any]) -> Benchmark:
    if "op" in query:
        parts = [rerun_query(pool, part) for part in query["of"]]
        result = parts[0]
        for part in parts[1:]:
            result = result._combine(part, query["op"])
        return result
    if "ids" in query:
        return Benchmark.from_ids(query["ids"])
    arguments = {key: query[key] for key in _QUERY_ARGUMENTS if query.get(key) is not None}
    if arguments.get("method") == "filter":  # recorded for readers; not a search method
        del arguments["method"]
    return pool.query(**arguments)


_KEEP = {
    "union": lambda a, b: a or b,
    "intersection": lambda a, b: a and b,
    "difference": lambda a, b: a and not b,
}
_QUERY_ARGUMENTS = ("text", "image", "top_k", "threshold", "where", "on", "method", "encoder")
