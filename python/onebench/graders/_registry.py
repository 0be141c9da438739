"""Graders are registered factories: ``@register_grader("name")`` on a function that takes
keyword options and returns a grader. Other packages add graders through the entry-point
group ``onebench.graders`` (``name = "package.module:factory"``), loaded on first use.

Which grader grades a sample: the user's choice, else the sample's metadata ``grader``
(with options from its ``grader_options``, except those the grader keeps for the user, such
as the code grader's limits and isolation), else a guess from the sample: tests →
``code``, lettered options and a letter reference → ``multiple_choice``, a numeric
reference → ``numeric``, otherwise ``exact_match``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from importlib import metadata as importlib_metadata
from typing import Any

from ..exceptions import InvalidInputError
from ._protocol import Grader, GradingSample, PairwiseGrader

__all__ = [
    "ENTRY_POINT_GROUP",
    "grader_label",
    "grader_names",
    "guess_grader",
    "load_grader",
    "register_grader",
]

ENTRY_POINT_GROUP = "onebench.graders"

_FACTORIES: dict[str, Callable[..., Grader | PairwiseGrader]] = {}
_OPERATOR_OPTIONS: dict[str, frozenset[str]] = {}
_entry_points_loaded = False


def register_grader(
    name: str, *, operator_options: frozenset[str] = frozenset()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers ``factory(**options) -> Grader | PairwiseGrader`` under ``name``.
    ``operator_options`` are options a sample's metadata may not set (limits, isolation):
    data must never loosen how its own outputs are graded."""

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        _FACTORIES[name] = factory
        _OPERATOR_OPTIONS[name] = frozenset(operator_options)
        return factory

    return decorate


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        _FACTORIES.setdefault(entry.name, entry.load())


def _builtins() -> None:
    from . import _choice, _code, _exact, _judge, _numeric, _regex  # noqa: F401


def grader_names() -> list[str]:
    _builtins()
    _load_entry_points()
    return sorted(_FACTORIES)


def load_grader(name: str, **options: Any) -> Grader | PairwiseGrader:
    """The grader registered as ``name``, built with ``options``."""
    _builtins()
    if name not in _FACTORIES:
        _load_entry_points()
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InvalidInputError(
            f"grader: unknown grader {name!r}; choose one of {', '.join(sorted(_FACTORIES))}",
            field="grader",
        )
    try:
        return factory(**options)
    except TypeError as error:
        raise InvalidInputError(f"grader {name!r}: {error}", field="grader_options") from error


def grader_label(name: str, options: Mapping[str, Any] | None = None) -> str:
    """The provenance name of a grader: its name, plus its options when there are any
    (``numeric[tolerance=0.01]``), so that differently set graders never skip each other."""
    if not options:
        return name
    inner = ",".join(f"{key}={json.dumps(options[key], sort_keys=True)}" for key in sorted(options))
    return f"{name}[{inner}]"


_LETTER_REFERENCE = re.compile(r"^\(?([A-Z])\)?(?:[:.)]|\s|$)")
_OPTION_LINE = re.compile(r"(?m)^\s*\(?([A-Z])[).:]\s")
_NUMBER = re.compile(r"^\s*[-+]?\$?\d[\d,]*(?:\.\d+)?%?\s*$")


def guess_grader(sample: GradingSample) -> tuple[str, dict[str, Any]]:
    """The grader name and options for ``sample`` when the user named none."""
    metadata = sample.metadata
    name = metadata.get("grader")
    if name:
        options = metadata.get("grader_options") or {}
        if not isinstance(options, dict):
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: metadata grader_options must be an object",
                field="grader_options",
            )
        _builtins()
        kept = sorted(_OPERATOR_OPTIONS.get(str(name), frozenset()) & set(options))
        if kept:
            raise InvalidInputError(
                f"sample {sample.sample_id!r}: metadata grader_options may not set "
                f"{kept[0]!r}; grader {name!r} takes it from the user only",
                field="grader_options",
            )
        return str(name), dict(options)
    if metadata.get("tests") or metadata.get("test"):
        return "code", {}
    references = sample.references
    if references and _LETTER_REFERENCE.match(references[0]):
        if metadata.get("choices") or len(set(_OPTION_LINE.findall(sample.text))) >= 2:
            return "multiple_choice", {}
    if references and all(_NUMBER.match(reference) for reference in references):
        return "numeric", {}
    return "exact_match", {}
