"""Metadata filters: ``where`` conditions on sample columns and metadata keys.

Accepted forms: a mapping ``{"category": "law"}`` (equality; a list value means ``in``; a
``(op, value)`` pair names the operator), a sequence of ``(key, op, value)`` triples, or
strings as the CLI takes them: ``key=value``, ``key!=value``, ``key<value``, ``key<=value``,
``key>value``, ``key>=value``, ``key~text`` (contains), ``key in a,b,c``. Conditions combine
with AND. A sample without the key never matches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from ._view import SampleView

__all__ = ["OPERATORS", "Condition", "filter_mask", "parse_where"]

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "contains")
_SYMBOLS = {
    "=": "eq",
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "~": "contains",
}
_TEXT_FORM = re.compile(r"^\s*([^=!<>~\s]+)\s*(==|!=|<=|>=|=|<|>|~)\s*(.*)$", re.DOTALL)
_IN_FORM = re.compile(r"^\s*(\S+)\s+in\s+(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: Any

    def to_list(self) -> list[Any]:
        return [self.key, self.op, self.value]


def parse_where(where: Any) -> list[Condition]:
    """Every form of ``where`` as a list of checked conditions."""
    if where is None:
        return []
    if isinstance(where, str):
        where = [where]
    if isinstance(where, Mapping):
        items: list[Any] = [_mapping_item(key, value) for key, value in where.items()]
    elif isinstance(where, Sequence):
        items = list(where)
    else:
        raise InvalidInputError(
            "where: expected a mapping, a list of (key, op, value) or 'key=value' strings",
            field="where",
        )
    return [_condition(item, position) for position, item in enumerate(items)]


def _mapping_item(key: Any, value: Any) -> tuple[Any, str, Any]:
    """``{"year": ("ge", 2020)}`` names an operator; any other list, tuple or set of values
    means ``in``; a single value means ``eq``."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] in (*OPERATORS, *_SYMBOLS):
        return (key, value[0], value[1])
    if isinstance(value, list | tuple | set | frozenset):
        return (key, "in", list(value))
    return (key, "eq", value)


def _condition(item: Any, position: int) -> Condition:
    if isinstance(item, Condition):
        return item
    if isinstance(item, str):
        return _parse_text(item, position)
    if not isinstance(item, Sequence) or len(item) != 3:
        raise InvalidInputError(
            f"where[{position}]: expected (key, op, value), got {item!r}",
            field="where",
            row=position,
        )
    key, op, value = item
    op = _SYMBOLS.get(op, op)
    if op not in OPERATORS:
        raise InvalidInputError(
            f"where[{position}]: unknown operator {op!r}; expected one of {', '.join(OPERATORS)}",
            field="where",
            row=position,
        )
    if not isinstance(key, str) or not key:
        raise InvalidInputError(
            f"where[{position}]: the key must be a non-empty string", field="where", row=position
        )
    if op == "in":
        if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
            raise InvalidInputError(
                f"where[{position}]: 'in' needs a list of values", field="where", row=position
            )
        value = list(value)
    return Condition(key, op, value)


def _parse_text(text: str, position: int) -> Condition:
    match = _IN_FORM.match(text)
    if match:
        values = [value.strip() for value in match.group(2).split(",") if value.strip()]
        return Condition(match.group(1), "in", values)
    match = _TEXT_FORM.match(text)
    if not match:
        raise InvalidInputError(
            f"where[{position}]: cannot read {text!r}; expected key=value, key!=value, "
            "key<value, key<=value, key>value, key>=value, key~text or 'key in a,b'",
            field="where",
            row=position,
        )
    key, symbol, value = match.groups()
    return Condition(key, _SYMBOLS[symbol], value.strip())


def filter_mask(view: SampleView, conditions: list[Condition]) -> np.ndarray:
    """A boolean mask over the pool's samples: True where every condition holds."""
    mask = np.ones(len(view.ids), dtype=bool)
    for position, condition in enumerate(conditions):
        if not view.knows(condition.key):
            known = sorted(set(view.metadata_keys) | {"benchmark", "sample_id", "text"})
            raise InvalidInputError(
                f"where[{position}]: unknown filter key {condition.key!r}; the pool's samples "
                f"have: {', '.join(known[:30])}{' ...' if len(known) > 30 else ''}",
                field="where",
                row=position,
            )
        test = _test(condition)
        values = view.column(condition.key)
        mask &= np.fromiter((test(value) for value in values), dtype=bool, count=len(values))
    return mask


def _test(condition: Condition) -> Any:
    op, wanted = condition.op, condition.value
    if op == "contains":
        needle = str(wanted).lower()

        def contains(value: Any) -> bool:
            if isinstance(value, list):
                return any(needle in str(item).lower() for item in value)
            return value is not None and needle in str(value).lower()

        return contains
    if op == "in":
        options = list(wanted)
        return lambda value: value is not None and any(_equal(value, o) for o in options)
    if op == "eq":
        return lambda value: value is not None and _equal(value, wanted)
    if op == "ne":
        return lambda value: value is not None and not _equal(value, wanted)
    compare = {
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }[op]

    def ordered(value: Any) -> bool:
        if value is None:
            return False
        left, right = _comparable(value, wanted)
        try:
            return bool(compare(left, right))
        except TypeError:
            return False

    return ordered


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _comparable(value: Any, wanted: Any) -> tuple[Any, Any]:
    """Orders numbers as numbers, even when written as text ('10' > '9'), all else as text."""
    left, right = _number(value), _number(wanted)
    if left is not None and right is not None:
        return left, right
    return str(value), str(wanted)


def _equal(value: Any, wanted: Any) -> bool:
    """Two texts are equal when identical; a number equals a text that reads as it (the
    CLI's 'difficulty=3' matches a stored 3)."""
    if isinstance(value, bool) or isinstance(wanted, bool):
        return str(value).lower() == str(wanted).lower()
    if isinstance(value, str) and isinstance(wanted, str):
        return value == wanted
    left, right = _number(value), _number(wanted)
    if left is not None and right is not None:
        return left == right
    return bool(value == wanted)
