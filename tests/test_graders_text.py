"""Graders that read text: exact match, numeric, multiple choice, regex; the registry, the
per-sample choice and third-party graders through the entry-point group."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from onebench import InvalidInputError
from onebench.graders import (
    ENTRY_POINT_GROUP,
    Grader,
    GradingSample,
    _registry,
    extract_letter,
    extract_number,
    grader_label,
    grader_names,
    guess_grader,
    load_grader,
    normalise_answer,
)


def sample(text: str = "", references: tuple[str, ...] = (), **metadata: object) -> GradingSample:
    return GradingSample("s1", text, references, metadata)


def score(name: str, item: GradingSample, output: str, **options: object) -> float:
    return load_grader(name, **options).grade(item, output).score


def test_exact_match_normalises_case_punctuation_articles_and_reads_the_first_line() -> None:
    item = sample(references=("The Eiffel Tower",))
    assert score("exact_match", item, "eiffel tower!") == 1.0
    assert score("exact_match", item, "  Eiffel   Tower.\nIt is in Paris.") == 1.0
    assert score("exact_match", item, "the tower") == 0.0
    assert score("exact_match", item, "Eiffel Tower", case=True) == 0.0
    assert normalise_answer("An Apple, the Pear") == "apple pear"
    with pytest.raises(InvalidInputError, match="needs a reference"):
        score("exact_match", sample(), "x")


def test_numeric_finds_the_answer_number_and_applies_the_tolerance() -> None:
    assert extract_number("so 3 + 4 = 7, and the answer is 1,234.5 dollars") == 1234.5
    assert extract_number("#### 72") == 72
    assert extract_number("about 3/4 of it") == 0.75
    assert extract_number("no digits here") is None
    gsm8k = sample(references=("Natalia sold 48/2 = 24 clips in May. #### 72",))
    assert score("numeric", gsm8k, "She sold 72 clips.") == 1.0
    assert score("numeric", gsm8k, "She sold 71 clips.") == 0.0
    assert score("numeric", sample(references=("0.667",)), "0.666") == 0.0
    assert score("numeric", sample(references=("0.667",)), "0.666", tolerance=0.01) == 1.0
    # A sample can carry its own tolerance.
    assert score("numeric", sample(references=("0.667",), tolerance=0.01), "0.666") == 1.0
    assert score("numeric", sample(references=("5",)), "no idea") == 0.0


def test_multiple_choice_extracts_the_letter_among_the_options() -> None:
    question = "Which?\n(A) red\n(B) blue\n(C) green"
    item = sample(question, ("B: blue",))
    for output, expected in [
        ("The answer is (B).", 1.0),
        ("B", 1.0),
        ("Answer: B", 1.0),
        ("(A) is tempting, but the answer is B", 1.0),
        ("The answer is a guess", 0.0),  # lower-case "a" is a word, not option A
        ("C. green", 0.0),
        ("(E)", 0.0),  # not an option of this sample
    ]:
        assert score("multiple_choice", item, output) == expected, output
    assert extract_letter("I pick (D)", "ABCD") == "D"
    assert score("multiple_choice", sample("x", ("z",), answer="C", choices=[1, 2, 3]), "C") == 1
    with pytest.raises(InvalidInputError, match="reference letter"):
        score("multiple_choice", sample("x", ("blue",)), "B")


def test_regex_uses_the_graders_or_the_samples_pattern() -> None:
    assert score("regex", sample(pattern=r"\d{3}"), "code 123") == 1.0
    assert score("regex", sample(pattern=r"\d{3}"), "code 12") == 0.0
    assert score("regex", sample(), "yes", pattern="yes|no", fullmatch=True) == 1.0
    assert score("regex", sample(), "yes and no", pattern="yes|no", fullmatch=True) == 0.0
    assert score("regex", sample(), "YES", pattern="yes", ignore_case=True) == 1.0
    with pytest.raises(InvalidInputError, match="needs a pattern"):
        score("regex", sample(), "x")
    with pytest.raises(InvalidInputError, match="bad regular expression"):
        load_grader("regex", pattern="(")


def test_each_sample_gets_a_grader_from_its_metadata_or_its_shape() -> None:
    assert guess_grader(sample(grader="regex", grader_options={"pattern": "x"})) == (
        "regex",
        {"pattern": "x"},
    )
    assert guess_grader(sample(tests="assert True"))[0] == "code"
    assert guess_grader(sample("Q\n(A) x\n(B) y", ("B: y",)))[0] == "multiple_choice"
    assert guess_grader(sample("How many?", ("1,024",)))[0] == "numeric"
    assert guess_grader(sample("Capital?", ("Paris",)))[0] == "exact_match"
    # A letter reference without options is an ordinary answer.
    assert guess_grader(sample("Vitamin?", ("C",)))[0] == "exact_match"
    with pytest.raises(InvalidInputError, match="grader_options must be an object"):
        guess_grader(sample(grader="regex", grader_options="x"))


def test_registry_names_labels_and_errors() -> None:
    assert {"code", "exact_match", "judge_pairwise", "multiple_choice", "numeric", "regex"} <= set(
        grader_names()
    )
    assert isinstance(load_grader("numeric"), Grader)
    assert grader_label("numeric") == "numeric"
    assert grader_label("numeric", {"tolerance": 0.1}) == "numeric[tolerance=0.1]"
    with pytest.raises(InvalidInputError, match="unknown grader 'nope'"):
        load_grader("nope")
    with pytest.raises(InvalidInputError, match="grader 'numeric'"):
        load_grader("numeric", bogus=1)


def test_a_third_party_grader_arrives_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real installed distribution on sys.path: a module and its dist-info entry points.
    (tmp_path / "shouty_grader.py").write_text(
        textwrap.dedent(
            """
            from onebench.graders import Grade

            class Shouty:
                name = "shouty"
                kind = "binary"
                higher_is_better = True

                def grade(self, sample, output):
                    return Grade(float(output.isupper()), "")

            def factory():
                return Shouty()
            """
        )
    )
    info = tmp_path / "shouty_grader-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shouty-grader\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nshouty = shouty_grader:factory\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    monkeypatch.setattr(_registry, "_FACTORIES", dict(_registry._FACTORIES))
    assert "shouty" in grader_names()
    grader = load_grader("shouty")
    assert grader.grade(sample(), "LOUD").score == 1.0
    assert grader.grade(sample(), "quiet").score == 0.0
    sys.modules.pop("shouty_grader", None)
