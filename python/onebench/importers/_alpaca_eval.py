"""AlpacaEval ``annotations.json``: one LLM judge's preference between a reference
model's output (``generator_1``) and an evaluated model's (``generator_2``) per
instruction.

``preference`` is 1 (output 1 preferred) to 2 (output 2 preferred), 1.5 a draw, or in
between for weighted judges; it becomes a pairwise measurement with P(model_b
preferred) = preference − 1. Annotations without a preference (the judge failed) are
skipped and counted. The sample is the instruction, ``alpaca-eval/<sha1[:16]>``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa

from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import file_error, head, json_records, require
from ._samples import metadata_json

__all__ = ["AlpacaEval"]


@importer("alpaca-eval")
class AlpacaEval:
    description = "AlpacaEval annotations.json (judge preferences vs a reference model)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(True for _ in path.rglob("annotations.json"))
        text = head(path, 16384)
        return path.suffix == ".json" and '"generator_1"' in text and '"preference"' in text

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        files: list[Path] = []
        for path in paths:
            found = sorted(path.rglob("annotations.json")) if path.is_dir() else [path]
            files += [item for item in found if item not in files]
        return [_read(path, options) for path in files]


def _read(path: Path, options: ImportOptions) -> Source:
    rows: list[dict] = []
    samples: dict[str, dict] = {}
    judges: set[str] = set()
    missing = 0
    for line, record in json_records(path):
        instruction = require(record, "instruction", path, line)
        model_a = require(record, "generator_1", path, line)
        model_b = require(record, "generator_2", path, line)
        preference = record.get("preference")
        if preference is None or (isinstance(preference, int | float) and preference < 0):
            missing += 1  # AlpacaEval writes null (or -1) when the judge gave no verdict
            continue
        if isinstance(preference, bool) or not isinstance(preference, int | float):
            raise file_error(path, f"preference {preference!r} is not a number", line)
        if preference == 0:
            preference = 1.5  # some judges write 0 for a draw
        if not 1 <= preference <= 2:
            raise file_error(path, f"preference {preference} is outside [1, 2]", line)
        probability = float(preference) - 1.0
        winner = "b" if probability > 0.5 else "a" if probability < 0.5 else "tie"
        digest = hashlib.sha1(instruction.encode("utf-8")).hexdigest()[:16]
        sample_id = f"alpaca-eval/{digest}"
        if sample_id not in samples:
            dataset = record.get("dataset")
            samples[sample_id] = {
                "sample_id": sample_id,
                "benchmark": "alpaca_eval",
                "text": instruction,
                "metadata": metadata_json({"dataset": dataset} if dataset else {}),
            }
        if isinstance(record.get("annotator"), str):
            judges.add(record["annotator"])
        rows.append(
            {
                "sample_id": sample_id,
                "kind": "pairwise",
                "model_a": model_a,
                "model_b": model_b,
                "winner": winner,
                "probability": probability,
                FILE: str(path),
                LINE: line,
            }
        )
    if not rows:
        raise file_error(path, "no annotations with a preference")
    return Source(
        format="alpaca-eval",
        name=options.source or "alpaca_eval",
        files=[str(path)],
        measurements=pa.Table.from_pylist(rows),
        samples=pa.Table.from_pylist(list(samples.values())),
        judge=",".join(sorted(judges)) or None,
        extra={"annotations_without_preference": missing},
    )
