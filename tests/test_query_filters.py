"""Metadata filters: every operator, every accepted form, numbers written as text."""

from __future__ import annotations

from pathlib import Path

import onebench
import pytest
from onebench.exceptions import InvalidInputError
from onebench.query._filters import Condition, filter_mask, parse_where
from onebench.query._view import sample_view


@pytest.fixture
def pool(tmp_path: Path) -> onebench.Pool:
    pool = onebench.Pool.create(tmp_path / "pool")
    pool.add_samples(
        {
            "sample_id": ["a", "b", "c", "d"],
            "benchmark": ["x", "x", "y", "y"],
            "text": ["Contract law", "Organic chemistry", "Tax LAW", "poetry"],
            "reference": [["yes"], ["no"], ["maybe so"], None],
            "category": ["law", "chemistry", "law", None],
            "year": [2019, 2021, 2023, None],
            "tags": [["hard"], ["easy"], ["hard", "long"], None],
        }
    )
    return pool


def _ids(pool: onebench.Pool, where: object) -> list[str]:
    view = sample_view(pool)
    mask = filter_mask(view, parse_where(where))
    return [sample_id for sample_id, keep in zip(view.ids, mask, strict=True) if keep]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"category": "law"}, ["a", "c"]),
        (["category!=law"], ["b"]),  # a sample without the key never matches
        ([("year", "lt", 2021)], ["a"]),
        (["year<=2021"], ["a", "b"]),
        (["year>2021"], ["c"]),
        ([("year", "ge", "2021")], ["b", "c"]),  # numbers written as text compare as numbers
        (["year=2023"], ["c"]),
        ({"category": ["law", "chemistry"]}, ["a", "b", "c"]),
        ({"category": ("law", "chemistry")}, ["a", "b", "c"]),  # a tuple of values: in
        (["category in chemistry, law"], ["a", "b", "c"]),
        (["text~law"], ["a", "c"]),  # contains ignores case
        ([("references", "contains", "so")], ["c"]),
        (["tags~long"], ["c"]),
        ({"benchmark": "y", "category": "law"}, ["c"]),  # conditions AND
        ({"year": ("gt", 2018), "text": ("contains", "a")}, ["a", "b", "c"]),
        (["metadata.category=law"], ["a", "c"]),
        ("sample_id=d", ["d"]),
    ],
)
def test_operators(pool: onebench.Pool, where: object, expected: list[str]) -> None:
    assert _ids(pool, where) == expected


def test_text_forms_parse_to_conditions() -> None:
    assert parse_where(["a=1", "b != x y", "c>=2", "d~q", "e in 1,2"]) == [
        Condition("a", "eq", "1"),
        Condition("b", "ne", "x y"),
        Condition("c", "ge", "2"),
        Condition("d", "contains", "q"),
        Condition("e", "in", ["1", "2"]),
    ]


def test_bad_filters_name_the_condition(pool: onebench.Pool) -> None:
    with pytest.raises(InvalidInputError, match=r"where\[0\]: unknown filter key 'colour'"):
        _ids(pool, {"colour": "red"})
    with pytest.raises(InvalidInputError, match=r"where\[1\]: unknown operator 'like'"):
        parse_where([("year", "gt", 1), ("text", "like", "x")])
    with pytest.raises(InvalidInputError, match=r"where\[0\]: cannot read"):
        parse_where(["no operator here"])
    with pytest.raises(InvalidInputError, match="'in' needs a list"):
        parse_where([("category", "in", "law")])
    with pytest.raises(InvalidInputError, match="where: expected"):
        parse_where(42)
