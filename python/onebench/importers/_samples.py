"""Helpers shared by importers: a sample's text from a harness document, its metadata,
and which per-sample metrics are binary.

A sample's text must not change from one model's run to the next (the store keeps the
first version of a sample and rejects a different one), so it is built from the task's
document, never from the prompt a harness rendered for one model. Multiple-choice
options are written ``(A) ...`` on their own lines, as the ``../shared/data`` long
format writes them, so that the same question hashes alike across sources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._files import file_error

__all__ = ["binary_value", "document_text", "is_binary_metric", "metadata_json", "scalar_metadata"]

_QUESTION_KEYS = (
    "question",
    "query",
    "problem",
    "prompt",
    "instruction",
    "input",
    "text",
    "sentence",
    "ctx",
    "context",
    "goal",
    "premise",
    "passage",
)
_CHOICE_KEYS = ("options", "choices", "endings")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Metrics that score one sample 0 or 1 (lm-evaluation-harness and HELM names).
_BINARY = {
    "acc",
    "acc_norm",
    "exact_match",
    "em",
    "pass@1",
    "mc1",
    "correct",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "math_equiv",
    "math_equiv_chain_of_thought",
    "equivalent",
    "equivalent_cot",
    "final_number_exact_match",
}


def _choices(doc: dict[str, Any]) -> list[str]:
    for key in _CHOICE_KEYS:
        value = doc.get(key)
        if isinstance(value, dict):  # ARC: {"text": [...], "label": [...]}
            value = value.get("text")
        if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value):
            return value[: len(_LETTERS)]
    return []


def document_text(doc: dict[str, Any]) -> str:
    """The question of a harness document, followed by its lettered options if any;
    "" when the document has no known question field."""
    question = next(
        (doc[key] for key in _QUESTION_KEYS if isinstance(doc.get(key), str) and doc[key].strip()),
        "",
    )
    if not question:
        return ""
    choices = _choices(doc)
    if not choices:
        return question.strip()
    lines = [f"({_LETTERS[index]}) {choice}" for index, choice in enumerate(choices)]
    return question.strip() + "\n\n" + "\n".join(lines)


def scalar_metadata(doc: dict[str, Any], limit: int = 200) -> dict[str, Any]:
    """The document's short scalar fields (category, subject, id, ...), which become the
    sample's metadata; the question and options are the text already."""
    used = set(_QUESTION_KEYS) | set(_CHOICE_KEYS)
    return {
        key: value
        for key, value in doc.items()
        if key not in used
        and isinstance(value, str | int | float | bool)
        and not (isinstance(value, str) and len(value) > limit)
    }


def metadata_json(metadata: dict[str, Any]) -> str:
    """Metadata as the JSON object text the pool takes (stable key order)."""
    return json.dumps(metadata, sort_keys=True, default=str)


def is_binary_metric(name: str) -> bool:
    return name.split(",", 1)[0] in _BINARY


def binary_value(value: float, metric: str, path: Path, line: int) -> float:
    if value not in (0, 1):
        raise file_error(
            path, f"metric {metric!r} should be 0 or 1 per sample, not {value!r}", line
        )
    return float(value)
