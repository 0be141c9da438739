"""inspect_ai ``.eval`` logs: a zip archive with ``header.json`` (or, for a run that did
not finish, ``_journal/start.json``) naming task and model, and one
``samples/<id>_epoch_<n>.json`` per sample and epoch with its scores.

The first epoch's score of one scorer (the first the log lists, or ``--metric``)
becomes the measurement: ``C``/``I``/``N`` and booleans are binary, numbers and ``P``
(partial, 0.5) numeric. The sample is the input and target, ``inspect/<task>/<id>``.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import file_error
from ._samples import metadata_json, scalar_metadata

__all__ = ["InspectLog"]

_SAMPLE = re.compile(r"^samples/(?P<id>.+)_epoch_(?P<epoch>\d+)\.json$")
_LETTERS = {"C": 1.0, "I": 0.0, "N": 0.0, "P": 0.5}


@importer("inspect")
class InspectLog:
    description = "inspect_ai .eval logs (zip with header.json and samples/*.json)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(True for _ in path.rglob("*.eval"))
        return path.suffix == ".eval"

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        files: list[Path] = []
        for path in paths:
            found = sorted(path.rglob("*.eval")) if path.is_dir() else [path]
            files += [item for item in found if item not in files]
        return [_read(path, options) for path in files]


def _entry(archive: zipfile.ZipFile, path: Path, name: str) -> Any:
    where = f"{path}!{name}"
    try:
        text = archive.read(name).decode("utf-8")
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as error:
        raise file_error(where, f"cannot be read ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise file_error(where, f"not valid JSON ({error.msg})", error.lineno) from None


def _text(value: Any) -> str:
    """An input: a string, or chat messages whose user turns are joined."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts = []
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in (None, "user"):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(
                item.get("text", "")
                for item in content
                if isinstance(item, dict) and item.get("text")
            )
        if isinstance(content, str):
            parts.append(content)
    return "\n\n".join(parts)


def _value(score: Any, where: str) -> tuple[float, bool]:
    """A score's value as a number, and whether it is a pass/fail grade."""
    value = score.get("value") if isinstance(score, dict) else score
    if isinstance(value, bool):
        return float(value), True
    if isinstance(value, str) and value in _LETTERS:
        return _LETTERS[value], value != "P"
    if isinstance(value, int | float):
        return float(value), False
    if isinstance(value, str):
        try:
            return float(value), False
        except ValueError:
            pass
    raise file_error(where, f"score value {value!r:.60} is not a grade or a number")


def _read(path: Path, options: ImportOptions) -> Source:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise file_error(path, f"not a complete .eval (zip) archive ({error})") from None
    with archive:
        names = archive.namelist()
        header_name = "header.json" if "header.json" in names else "_journal/start.json"
        if header_name not in names:
            raise file_error(path, "no header.json or _journal/start.json in the archive")
        header = _entry(archive, path, header_name)
        evaluation = header.get("eval") if isinstance(header, dict) else None
        if not isinstance(evaluation, dict) or not isinstance(evaluation.get("task"), str):
            raise file_error(f"{path}!{header_name}", "no eval.task")
        task = evaluation["task"]
        model = options.model or evaluation.get("model")
        if not isinstance(model, str) or not model:
            raise file_error(f"{path}!{header_name}", "no eval.model; pass --model")
        scorer = options.metric or _first_scorer(header)
        entries = sorted(
            (match for name in names if (match := _SAMPLE.match(name))),
            key=lambda match: (int(match["epoch"]), match["id"]),
        )
        first_epoch = min((int(match["epoch"]) for match in entries), default=1)
        rows, samples, grades = [], [], []
        for match in entries:
            if int(match["epoch"]) != first_epoch:
                continue
            name = match.group(0)
            where = f"{path}!{name}"
            sample = _entry(archive, path, name)
            scores = sample.get("scores") if isinstance(sample, dict) else None
            if not isinstance(scores, dict) or not scores:
                raise file_error(where, "no scores (was the sample scored?)")
            scorer = scorer or next(iter(scores))
            if scorer not in scores:
                raise file_error(where, f"no score from scorer {scorer!r}")
            value, grade = _value(scores[scorer], where)
            grades.append(grade)
            sample_id = f"inspect/{task}/{sample.get('id', match['id'])}"
            target = sample.get("target")
            samples.append(
                {
                    "sample_id": sample_id,
                    "benchmark": task,
                    "text": _text(sample.get("input")),
                    "reference": [str(item) for item in target]
                    if isinstance(target, list)
                    else ([str(target)] if target not in (None, "") else []),
                    "metadata": metadata_json(scalar_metadata(sample.get("metadata") or {})),
                }
            )
            rows.append(
                {"sample_id": sample_id, "model": model, "score": value, FILE: where, LINE: 1}
            )
    if not rows:
        raise file_error(path, "no samples in the archive")
    # Pass/fail grades throughout: binary; any number or partial credit: numeric.
    kind = "binary" if all(grades) else "numeric"
    for row in rows:
        row["kind"] = kind
    return Source(
        format="inspect",
        name=options.source or "inspect_ai",
        files=[str(path)],
        measurements=pa.Table.from_pylist(rows),
        samples=pa.Table.from_pylist(samples),
        grader=f"inspect:{scorer}",
        time=evaluation.get("created") if isinstance(evaluation.get("created"), str) else None,
        extra={"task": task, "epoch": first_epoch, "eval_id": evaluation.get("eval_id")},
    )


def _first_scorer(header: dict[str, Any]) -> str | None:
    results = header.get("results") if isinstance(header, dict) else None
    scores = results.get("scores") if isinstance(results, dict) else None
    if isinstance(scores, list):
        for score in scores:
            if isinstance(score, dict) and isinstance(score.get("name"), str):
                return str(score["name"])
    return None
