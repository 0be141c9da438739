"""Open LLM Leaderboard per-sample details: Parquet files named
``details_<suite>|<task>|<shots>_<time>.parquet`` in the dataset ``details_<org>__<model>``,
one row per example with ``example``, ``choices``, ``gold`` / ``gold_index`` and the
per-sample ``metrics`` (a struct, map or JSON text; older files have metric columns).

The metric (``acc``, ``acc_norm``, ``em``, ``mc1``, ... or ``--metric``) becomes a
measurement; the sample is the example with its choices, id
``open-llm-leaderboard/<task>/<sha1 of the example>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._base import ImportOptions, Source, importer
from ._files import file_error, read_table
from ._samples import document_text, is_binary_metric, metadata_json

__all__ = ["OpenLlmLeaderboard"]

_NAME = re.compile(
    r"^details_(?P<suite>[^|]+)\|(?P<task>[^|]+)\|(?P<shots>\d+)_(?P<time>.+)\.parquet$"
)
_PREFERRED = ("acc", "acc_norm", "em", "exact_match", "mc1", "mc2", "f1", "quasi_exact_match")


@importer("open-llm-leaderboard")
class OpenLlmLeaderboard:
    description = "Open LLM Leaderboard details Parquet (details_<suite>|<task>|<shots>_*.parquet)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(_NAME.match(item.name) for item in path.rglob("details_*.parquet"))
        return bool(_NAME.match(path.name))

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        files: list[Path] = []
        for path in paths:
            found = (
                sorted(item for item in path.rglob("details_*.parquet") if _NAME.match(item.name))
                if path.is_dir()
                else [path]
            )
            files += [item for item in found if item not in files]
        return [_read(path, options) for path in files]


def _model(path: Path, options: ImportOptions) -> str:
    if options.model:
        return options.model
    # The details dataset of a model is named details_<org>__<model>.
    for folder in path.parents:
        if folder.name.startswith("details_") and "__" in folder.name:
            return folder.name.removeprefix("details_").replace("__", "/", 1)
    raise file_error(path, "cannot tell the model (no details_<org>__<model> folder); pass --model")


def _metrics(row: dict[str, Any]) -> dict[str, Any]:
    metrics = row.get("metrics")
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except json.JSONDecodeError:
            metrics = None
    if isinstance(metrics, list):  # an Arrow map arrives as key/value pairs
        metrics = dict(metrics)
    found = dict(metrics) if isinstance(metrics, dict) else {}
    for name in _PREFERRED:  # older files: one column per metric
        if name not in found and isinstance(row.get(name), int | float):
            found[name] = row[name]
    return found


def _reference(row: dict[str, Any], choices: list[str]) -> list[str]:
    gold = row.get("gold")
    if isinstance(gold, list):
        return [str(item) for item in gold]
    if isinstance(gold, str):
        return [gold]
    index = row.get("gold_index")
    indexes = index if isinstance(index, list) else [index]
    return [choices[i] for i in indexes if isinstance(i, int) and 0 <= i < len(choices)]


def _read(path: Path, options: ImportOptions) -> Source:
    name = _NAME.match(path.name)
    if name is None:
        raise file_error(path, "not named details_<suite>|<task>|<shots>_<time>.parquet")
    task = name["task"]
    model = _model(path, options)
    table = read_table(path)
    if "example" not in table.column_names:
        raise file_error(path, "no 'example' column")
    metric = options.metric
    rows: list[dict] = []
    samples: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(table.to_pylist(), start=1):
        example = row.get("example")
        if not isinstance(example, str) or not example:
            raise file_error(path, f"row {number}: no example text")
        metrics = _metrics(row)
        if metric is None:
            metric = next((candidate for candidate in _PREFERRED if candidate in metrics), None)
            if metric is None:
                raise file_error(path, f"row {number}: no per-sample metric; pass --metric")
        value = metrics.get(metric)
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float):
            raise file_error(path, f"row {number}: metric {metric!r} is {value!r:.40}")
        kind = "binary" if is_binary_metric(metric) else "numeric"
        if kind == "binary" and value not in (0, 1):
            raise file_error(path, f"row {number}: metric {metric!r} should be 0 or 1, not {value}")
        choices = [str(choice) for choice in row.get("choices") or []]
        digest = hashlib.sha1(example.encode("utf-8")).hexdigest()[:16]
        # The same example twice in one task (it happens) stays two samples, numbered in
        # file order, which is the data set's order for every model.
        seen[digest] = seen.get(digest, 0) + 1
        suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
        sample_id = f"open-llm-leaderboard/{task}/{digest}{suffix}"
        samples.append(
            {
                "sample_id": sample_id,
                "benchmark": task,
                "text": document_text({"question": example, "options": choices}),
                "reference": _reference(row, choices),
                "metadata": metadata_json({"task": task}),
            }
        )
        rows.append({"sample_id": sample_id, "kind": kind, "model": model, "score": float(value)})
    if not rows:
        raise file_error(path, "no rows")
    return Source(
        format="open-llm-leaderboard",
        name=options.source or "open-llm-leaderboard",
        files=[str(path)],
        measurements=pa.Table.from_pylist(rows),
        samples=pa.Table.from_pylist(samples),
        grader=f"{name['suite']}:{metric}",
        time=name["time"],
        extra={"task": task, "suite": name["suite"], "shots": int(name["shots"])},
    )
