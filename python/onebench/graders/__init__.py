"""Graders: turn a model's output for a sample into a measurement.

Built in: ``exact_match``, ``numeric``, ``multiple_choice``, ``regex``, ``code`` (sandboxed
execution against the sample's tests; :func:`sandbox_isolation` says what the sandbox
enforces here) and ``judge_pairwise`` (LLM-as-judge with position
swap). Add one with ``@register_grader("name")`` or the entry-point group
``onebench.graders``.

>>> from onebench.graders import load_grader, GradingSample
>>> grader = load_grader("numeric", tolerance=0.01)
>>> grader.grade(GradingSample("q1", "2/3 = ?", ("0.667",)), "It is about 0.666").score
1.0
"""

from __future__ import annotations

from ._choice import MultipleChoice, extract_letter
from ._code import CodeExecution, extract_program
from ._exact import ExactMatch, normalise_answer
from ._isolation import SandboxIsolation, sandbox_isolation
from ._judge import DEFAULT_TEMPLATE, PairwiseJudge, read_verdict
from ._numeric import NumericMatch, extract_number
from ._protocol import Grade, Grader, GradingSample, PairwiseGrader, Verdict
from ._regex import RegexMatch
from ._registry import (
    ENTRY_POINT_GROUP,
    grader_label,
    grader_names,
    guess_grader,
    load_grader,
    register_grader,
)
from ._sandbox import SandboxResult, network_isolation, run_python

__all__ = [
    "DEFAULT_TEMPLATE",
    "ENTRY_POINT_GROUP",
    "CodeExecution",
    "ExactMatch",
    "Grade",
    "Grader",
    "GradingSample",
    "MultipleChoice",
    "NumericMatch",
    "PairwiseGrader",
    "PairwiseJudge",
    "RegexMatch",
    "SandboxIsolation",
    "SandboxResult",
    "Verdict",
    "extract_letter",
    "extract_number",
    "extract_program",
    "grader_label",
    "grader_names",
    "guess_grader",
    "load_grader",
    "network_isolation",
    "normalise_answer",
    "read_verdict",
    "register_grader",
    "run_python",
    "sandbox_isolation",
]
