"""The measurements the pool holds from each source and judge, and which incoming rows
repeat them.

A measurement is the same one only if the same source and judge gave it. Rows are
matched as a multiset (sample, model(s) and, for pairwise and ranking rows, the
outcome), so the n-th repeat of a row matches the n-th held copy: importing the same
files twice changes nothing, and a newer file adds only its new rows. A cardinal cell
measured again with another value keeps the pool's value and is counted as changed.
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..pool import Pool
from ._planning import match_multiset, measurement_keys

__all__ = ["HeldMeasurements"]

log = logging.getLogger("onebench")


class _Held:
    """The measurements of one source and judge: their keys and scores."""

    def __init__(self, keys: pa.Array, cardinal: np.ndarray, scores: np.ndarray) -> None:
        self.keys, self.cardinal, self.scores = keys, cardinal, scores

    def add(self, keys: pa.Array, cardinal: np.ndarray, scores: np.ndarray) -> None:
        if len(keys):
            self.keys = pa.concat_arrays([self.keys, keys])
            self.cardinal = np.concatenate([self.cardinal, cardinal])
            self.scores = np.concatenate([self.scores, scores])


class HeldMeasurements:
    """The pool's measurements by source and judge, plus what the sources planned so far
    in this import add to them."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._held_by: dict[tuple[str, str | None], _Held] = {}
        # The pool's whole measurement table can be large: read at most once, and only
        # when a source has rows to compare with it.
        self._existing: pa.Table | None = None

    def _held(self, name: str, judge: str | None) -> _Held:
        """The measurements held from source ``name`` under ``judge``: a measurement is
        the same one only if the same source and judge gave it."""
        if (name, judge) not in self._held_by:
            if self._existing is None:
                self._existing = self.pool.measurements()
            existing = self._existing
            if existing.num_rows:
                sources = pc.cast(existing.column("source"), pa.string())
                judges = pc.cast(existing.column("judge"), pa.string())
                same_judge = (
                    pc.is_null(judges)
                    if judge is None
                    else pc.fill_null(pc.equal(judges, judge), False)
                )
                same = pc.and_(pc.fill_null(pc.equal(sources, name), False), same_judge)
                existing = existing.filter(same)
            keys, cardinal, scores = measurement_keys(existing, {}, {})
            self._held_by[(name, judge)] = _Held(keys, cardinal, scores)
        return self._held_by[(name, judge)]

    def new_rows(
        self,
        name: str,
        judge: str | None,
        table: pa.Table,
        canonical_sample: dict[str, str],
        canonical_model: dict[str, str],
    ) -> tuple[np.ndarray, int, int]:
        """Which rows the pool (and the sources planned before) do not hold from source
        ``name`` and ``judge`` yet, counting repeats; how many they hold; how many
        cardinal cells they hold with another value."""
        if table.num_rows == 0:
            return np.ones(0, dtype=bool), 0, 0
        held = self._held(name, judge)
        keys, cardinal, scores = measurement_keys(table, canonical_sample, canonical_model)
        match = match_multiset(held.keys, keys)
        keep = match < 0
        repeated = ~keep & cardinal
        # The pool stores scores as 32-bit floats.
        old_scores = held.scores[match[repeated]].astype(np.float32)
        changed = int((scores[repeated].astype(np.float32) != old_scores).sum())
        # What this source adds is held from now on (for a later source of this import).
        held.add(keys.filter(pa.array(keep)), cardinal[keep], scores[keep])
        if changed:
            log.warning(
                "%s: %d cell(s) are already measured with another value; the pool keeps its value",
                name,
                changed,
            )
        return keep, int((~keep).sum()), changed
