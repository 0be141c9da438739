"""lm-evaluation-harness output folders: ``results_<time>.json`` plus the per-sample
logs ``samples_<task>_<time>.jsonl`` written with ``--log_samples``.

Each results file is one run of one model; its tasks' per-sample metric (``acc``,
``exact_match``, ... or ``--metric``) becomes a binary or numeric measurement. The
sample is the task's document (question and choices, which do not change from model to
model, unlike the rendered prompt) with the target as reference; its id is
``lm-eval/<task>/<doc_id>``. Where a task logs several filters per document, ``none``
(else the first logged) is taken.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import file_error, json_document, json_records, require
from ._samples import (
    binary_value,
    document_text,
    is_binary_metric,
    metadata_json,
    scalar_metadata,
)

__all__ = ["LmEvalHarness"]

_RESULTS = re.compile(r"^results_(?P<stamp>.+)\.json$")
_SAMPLES = re.compile(
    r"^samples_(?P<task>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-.:]+)\.jsonl(\.gz)?$"
)
# Per-sample metrics in order of preference, when the user names none.
_PREFERRED = ("acc", "exact_match", "acc_norm", "em", "pass@1", "f1", "mc1", "mc2")


@importer("lm-eval")
class LmEvalHarness:
    description = "lm-evaluation-harness folders (results_*.json + samples_*.jsonl)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(_RESULTS.match(entry.name) for entry in path.rglob("results_*.json"))
        return bool(_RESULTS.match(path.name) or _SAMPLES.match(path.name))

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        # Each run's results file, with the per-sample logs to read (None: all of them;
        # a samples_*.jsonl given by itself reads only that task).
        runs: dict[Path, set[Path] | None] = {}
        for path in paths:
            if path.is_dir():
                for found in sorted(path.rglob("results_*.json")):
                    if _RESULTS.match(found.name):
                        runs[found] = None
            elif _SAMPLES.match(path.name):
                chosen = runs.setdefault(_results_for(path), set())
                if chosen is not None:
                    chosen.add(path)
            else:
                runs[path] = None
        return [source for path, logs in runs.items() for source in _read_run(path, logs, options)]


def _results_for(samples: Path) -> Path:
    match = _SAMPLES.match(samples.name)
    stamp = match.group("stamp") if match else ""
    results = samples.parent / f"results_{stamp}.json"
    if not results.exists():
        raise file_error(samples, f"no {results.name} beside this per-sample log")
    return results


def _model(results: dict[str, Any], path: Path, options: ImportOptions) -> str:
    if options.model:
        return options.model
    if isinstance(results.get("model_name"), str) and results["model_name"]:
        return str(results["model_name"])
    config = results.get("config") or {}
    arguments = config.get("model_args") or ""
    if isinstance(arguments, str):
        for part in arguments.split(","):
            key, _, value = part.partition("=")
            if key.strip() in ("pretrained", "model", "model_name", "path") and value:
                return value.strip()
    # lm-eval names the output folder after the model, "/" written as "__".
    if path.parent.name and path.parent.name != ".":
        return path.parent.name.replace("__", "/")
    raise file_error(path, "cannot tell which model this run is; pass --model")


def _read_run(path: Path, chosen: set[Path] | None, options: ImportOptions) -> list[Source]:
    results = json_document(path)
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
        raise file_error(path, "not an lm-evaluation-harness results file (no 'results')")
    stamp = _RESULTS.match(path.name)
    logs = sorted(
        entry
        for entry in path.parent.iterdir()
        if (match := _SAMPLES.match(entry.name))
        and stamp
        and match.group("stamp") == stamp["stamp"]
        and (chosen is None or entry in chosen)
    )
    if not logs:
        raise file_error(
            path, "no samples_<task>_<time>.jsonl beside it; run lm-eval with --log_samples"
        )
    model = _model(results, path, options)
    directions = results.get("higher_is_better") or {}
    by_direction: dict[bool, tuple[list[dict], list[dict], dict[str, Any]]] = {}
    for log in logs:
        task = _SAMPLES.match(log.name)["task"]  # type: ignore[index]
        rows, samples, metric, chosen_filter = _read_log(log, task, model, options)
        higher = (directions.get(task) or {}).get(metric, True) is not False
        part = by_direction.setdefault(higher, ([], [], {}))
        part[0].extend(rows)
        part[1].extend(samples)
        part[2][task] = {
            "metric": metric,
            "filter": chosen_filter,
            "n-shot": (results.get("n-shot") or {}).get(task),
            "version": (results.get("versions") or {}).get(task),
        }
    sources = []
    for higher, (rows, samples, tasks) in by_direction.items():
        sources.append(
            Source(
                format="lm-eval",
                name=options.source or "lm-eval-harness",
                files=[str(path)] + [str(log) for log in logs],
                measurements=pa.Table.from_pylist(rows),
                samples=pa.Table.from_pylist(samples),
                higher_is_better=higher,
                grader=",".join(sorted({f"lm-eval:{task['metric']}" for task in tasks.values()})),
                time=_time(results, stamp["stamp"] if stamp else None),
                extra={
                    "tasks": tasks,
                    "model_args": (results.get("config") or {}).get("model_args"),
                },
            )
        )
    return sources


def _time(results: dict[str, Any], stamp: str | None) -> str | None:
    date = results.get("date")
    if isinstance(date, int | float):
        return datetime.fromtimestamp(date, UTC).isoformat(timespec="seconds")
    return stamp


def _read_log(
    path: Path, task: str, model: str, options: ImportOptions
) -> tuple[list[dict], list[dict], str, str | None]:
    rows: list[dict] = []
    samples: dict[str, dict] = {}
    metric: str | None = None
    records = list(json_records(path))
    filters = [record.get("filter") for _, record in records if isinstance(record, dict)]
    # One line per document and filter: take "none" (no post-processing) if logged.
    chosen_filter = "none" if "none" in filters else (filters[0] if filters else None)
    for line, record in records:
        doc_id = require(record, "doc_id", path, line, (int, str))
        if record.get("filter") != chosen_filter:
            continue
        if metric is None:
            metric = _metric(record, path, line, options)
        value = record.get(metric)
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float):
            raise file_error(
                path, f"metric {metric!r} is not a per-sample number: {value!r:.60}", line
            )
        kind = "binary" if is_binary_metric(metric) else "numeric"
        if kind == "binary":
            value = binary_value(value, metric, path, line)
        sample_id = f"lm-eval/{task}/{doc_id}"
        if sample_id not in samples:
            doc = record.get("doc") if isinstance(record.get("doc"), dict) else {}
            samples[sample_id] = {
                "sample_id": sample_id,
                "benchmark": task,
                "text": document_text(doc) or _prompt(record),
                "reference": _reference(record.get("target")),
                "metadata": metadata_json({"task": task, "doc_id": doc_id, **scalar_metadata(doc)}),
            }
        rows.append(
            {
                "sample_id": sample_id,
                "kind": kind,
                "model": model,
                "score": float(value),
                FILE: str(path),
                LINE: line,
            }
        )
    if metric is None:
        raise file_error(path, "no per-sample records")
    return rows, list(samples.values()), metric, chosen_filter


def _metric(record: dict, path: Path, line: int, options: ImportOptions) -> str:
    if options.metric:
        if options.metric not in record:
            raise file_error(path, f"no metric {options.metric!r} in this record", line)
        return options.metric
    listed: list = record["metrics"] if isinstance(record.get("metrics"), list) else []
    for name in (*_PREFERRED, *listed):
        if isinstance(record.get(name), int | float):
            return str(name)
    raise file_error(
        path, "no per-sample metric (such as 'acc' or 'exact_match'); pass --metric", line
    )


def _prompt(record: dict) -> str:
    """The first prompt of the record, when the document has no known question field."""
    arguments = record.get("arguments")
    first: Any = None
    if isinstance(arguments, dict) and arguments:
        first = next(iter(arguments.values()))
        first = first.get("arg_0") if isinstance(first, dict) else first
    elif isinstance(arguments, list) and arguments:
        first = arguments[0][0] if isinstance(arguments[0], list) and arguments[0] else arguments[0]
    return first if isinstance(first, str) else ""


def _reference(target: Any) -> list[str]:
    if target is None:
        return []
    if isinstance(target, list):
        return [str(item) for item in target]
    return [str(target)]
