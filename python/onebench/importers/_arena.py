"""Chatbot Arena / LMArena battle dumps: JSON lists, JSON lines or Parquet with one
battle per row (``model_a``, ``model_b``, ``winner`` in ``model_a`` | ``model_b`` |
``tie`` | ``tie (bothbad)``), and the conversation when present.

Each battle is a pairwise measurement; both kinds of tie count as a tie. The sample is
the user's prompt: ``arena/<question_id>`` (``.../turn<n>`` for later turns of a
multi-turn judgement), or ``arena/<hash of the prompt>`` when rows carry no id.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..exceptions import InvalidInputError
from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import (
    FileRecord,
    file_error,
    head,
    json_records,
    parquet_columns,
    read_table,
    require,
)
from ._samples import metadata_json

__all__ = ["ArenaBattles"]

_WINNERS = {
    "model_a": "a",
    "model_b": "b",
    "a": "a",
    "b": "b",
    "tie": "tie",
    "tie (bothbad)": "tie",
}
_SUFFIXES = (".json", ".jsonl", ".gz", ".parquet")


def _records(path: Path) -> list[FileRecord]:
    if path.suffix == ".parquet":
        # Parquet rows have no lines; the row number (from 1) stands in for one.
        return list(enumerate(read_table(path).to_pylist(), start=1))
    return list(json_records(path))


@importer("arena")
class ArenaBattles:
    description = "Chatbot Arena / LMArena battles (model_a, model_b, winner)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any(_is_battles(item) for item in _candidates(path))
        return _is_battles(path)

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        files: list[Path] = []
        for path in paths:
            found = [p for p in _candidates(path) if _is_battles(p)] if path.is_dir() else [path]
            files += [item for item in found if item not in files]
        return [_read(path, options) for path in files]


def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)


def _is_battles(path: Path) -> bool:
    if path.suffix not in _SUFFIXES:
        return False
    if path.suffix == ".parquet":
        try:
            names = set(parquet_columns(path))
        except InvalidInputError:
            return False
        return {"model_a", "model_b", "winner"} <= names and "sample_id" not in names
    text = head(path, 8192)
    return all(f'"{key}"' in text for key in ("model_a", "model_b", "winner")) and (
        '"sample_id"' not in text
    )


def _content(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        content = "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("text")
        )
    return content if isinstance(content, str) else ""


def _prompt(record: dict[str, Any], turn: int) -> str:
    conversation = record.get("conversation_a") or record.get("conversation") or []
    if not isinstance(conversation, list):
        return ""
    asks = [_content(message) for message in conversation if isinstance(message, dict)]
    users = [
        text
        for message, text in zip(conversation, asks, strict=True)
        if isinstance(message, dict) and message.get("role") in ("user", "human")
    ]
    return "\n\n".join(users[:turn]).strip()


def _read(path: Path, options: ImportOptions) -> Source:
    rows: list[dict] = []
    samples: dict[str, dict] = {}
    judges: set[str] = set()
    stamps: list[float] = []
    for line, record in _records(path):
        model_a = require(record, "model_a", path, line)
        model_b = require(record, "model_b", path, line)
        verdict = require(record, "winner", path, line)
        winner = _WINNERS.get(verdict)
        if winner is None:
            raise file_error(
                path, f"winner {verdict!r} is not model_a, model_b, tie or tie (bothbad)", line
            )
        turn = record.get("turn") if isinstance(record.get("turn"), int) else 1
        text = _prompt(record, turn)
        question = record.get("question_id")
        if question is not None:
            sample_id = f"arena/{question}" + (f"/turn{turn}" if turn > 1 else "")
        elif text:
            sample_id = "arena/" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
        else:
            raise file_error(path, "a battle with neither question_id nor conversation", line)
        known = samples.get(sample_id)
        if known is None:
            metadata = {"language": record["language"]} if record.get("language") else {}
            samples[sample_id] = {
                "sample_id": sample_id,
                "benchmark": "arena",
                "text": text,
                "metadata": metadata_json(metadata),
            }
        elif text and known["text"] != text:
            raise file_error(path, f"{sample_id} has another prompt earlier in this file", line)
        if isinstance(record.get("judge"), str):
            judges.add(record["judge"])
        if isinstance(record.get("tstamp"), int | float):
            stamps.append(float(record["tstamp"]))
        rows.append(
            {
                "sample_id": sample_id,
                "kind": "pairwise",
                "model_a": model_a,
                "model_b": model_b,
                "winner": winner,
                FILE: str(path),
                LINE: line,
            }
        )
    if not rows:
        raise file_error(path, "no battles")
    # The voters are a crowd, not one judge: how many there were goes to the provenance,
    # and the batch has no judge, so that a newer dump with new voters is the same source.
    extra: dict[str, Any] = {"battles": len(rows), "voters": len(judges)}
    if stamps:
        extra["first"] = _iso(min(stamps))
    return Source(
        format="arena",
        name=options.source or "arena",
        files=[str(path)],
        measurements=pa.Table.from_pylist(rows),
        samples=pa.Table.from_pylist(list(samples.values())),
        time=_iso(max(stamps)) if stamps else None,
        extra=extra,
    )


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
