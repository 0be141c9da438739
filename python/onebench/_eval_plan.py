"""What an evaluation will run: the pool's id for the model, the samples chosen, a grader
for each, and the (sample, grader) cells already measured, which a restart skips.

Separate from onebench._eval, which runs the plan chunk by chunk and commits; nothing here
generates, grades or writes.
"""

from __future__ import annotations

from typing import Any

from .exceptions import InvalidInputError
from .graders._protocol import Grader, GradingSample
from .graders._registry import grader_label, guess_grader, load_grader

__all__ = ["canonical_model", "choose_grader", "measured_cells", "select_samples"]


def canonical_model(pool: Any, model: str) -> str | None:
    """The pool's id for ``model`` (an id or an alias), or None for a new model."""
    table = pool.models()
    for name, aliases in zip(
        table.column("model").to_pylist(), table.column("aliases").to_pylist(), strict=True
    ):
        if model == name or model in (aliases or ()):
            return name
    return None


def select_samples(pool: Any, samples: Any, limit: int | None) -> list[dict[str, Any]]:
    """Rows of ``pool.samples()`` for ids or a Benchmark (None: all), in the given order,
    at most ``limit`` of them."""
    table = pool.samples()
    if samples is None:
        indexes = list(range(table.num_rows))
    else:
        indexes = list(dict.fromkeys(int(index) for index in pool.sample_indexes(samples)))
    if limit is not None:
        if limit < 1:
            raise InvalidInputError("limit: must be at least 1", field="limit")
        indexes = indexes[:limit]
    return table.take(indexes).to_pylist() if indexes else []


def _expected_metric(grader: Grader) -> str:
    if grader.kind == "binary":
        return "binary"
    return "numeric_higher" if grader.higher_is_better else "numeric_lower"


def choose_grader(
    row: dict[str, Any],
    name: str | None,
    options: dict[str, Any] | None,
    graders: dict[str, Grader],
) -> str:
    """The label of the grader for ``row`` (built into ``graders`` on first use), checked
    against the metric the sample's earlier measurements fixed."""
    sample = GradingSample.from_row(row)
    name, chosen = (name, dict(options or {})) if name else guess_grader(sample)
    label = grader_label(name, chosen)
    if label not in graders:
        built = load_grader(name, **chosen)
        if built.kind not in ("binary", "numeric"):
            raise InvalidInputError(
                f"grader {name!r} compares two models; use judge_pairs", field="grader"
            )
        graders[label] = built  # type: ignore[assignment]
    metric = row.get("metric") or ""
    if metric and metric != _expected_metric(graders[label]):
        raise InvalidInputError(
            f"sample {sample.sample_id!r}: its measurements are {metric}, but grader "
            f"{label!r} gives {graders[label].kind} scores",
            field="grader",
        )
    return label


def measured_cells(
    pool: Any, model: str | None, plan: list[tuple[GradingSample, str]]
) -> set[tuple[str, str]]:
    """(sample, grader label) cells that already have a measurement of ``model``."""
    if model is None or not plan:
        return set()
    existing = pool.measurements(
        [sample.sample_id for sample, _ in plan], models=[model], kinds=["binary", "numeric"]
    )
    return {
        (sample_id, grader_name)
        for sample_id, row_model, grader_name in zip(
            existing.column("sample_id").to_pylist(),
            existing.column("model").to_pylist(),
            existing.column("grader").to_pylist(),
            strict=True,
        )
        if row_model == model
    }
