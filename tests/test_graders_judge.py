"""LLM-as-judge pairwise: both orders are asked, disagreeing orders make a tie, and judged
pairs become pairwise measurements in the pool (skipped when judged again)."""

from __future__ import annotations

import json
import re

import onebench
import pytest
from infer_fixtures import Scripted
from onebench._eval import evaluate
from onebench._judging import judge_pairs, stored_outputs
from onebench.graders import GradingSample, PairwiseJudge, read_verdict
from onebench.infer import Runner

_ANSWERS = re.compile(r"\[Answer A\]\n(.*?)\n\n\[Answer B\]\n(.*?)\n\nReply", re.DOTALL)
_REFERENCE = re.compile(r"\[Reference answer\]\n(.*?)\n")


def fair(text: str) -> str:
    """Prefers the answer equal to the reference; a tie when both or neither are."""
    first, second = _ANSWERS.search(text).groups()  # type: ignore[union-attr]
    reference = _REFERENCE.search(text).group(1)  # type: ignore[union-attr]
    if (first == reference) == (second == reference):
        return "Both are equally good. [[tie]]"
    return "[[A]]" if first == reference else "Verdict: [[B]]"


def test_read_verdict() -> None:
    assert read_verdict("I prefer [[B]].") == "B"
    assert read_verdict("[[ tie ]]") == "tie"
    assert read_verdict("A is better") == "A"
    assert read_verdict("no idea") == "?"


def test_the_scripted_runner_is_a_runner() -> None:
    assert isinstance(Scripted("j", fair), Runner)


def test_both_orders_are_asked_and_a_position_biased_judge_only_ties() -> None:
    item = GradingSample("q", "2 + 2?", ("4",))
    judge = Scripted("judge", fair)
    verdicts = PairwiseJudge(judge).compare([(item, "4", "5"), (item, "5", "4"), (item, "4", "4")])
    assert [verdict.winner for verdict in verdicts] == ["a", "b", "tie"]
    assert (verdicts[0].first, verdicts[0].second) == ("a", "a")
    # Each pair was shown in both orders.
    shown = [_ANSWERS.search(prompt.text).groups() for prompt in judge.prompts]  # type: ignore[union-attr]
    assert shown[:2] == [("4", "5"), ("5", "4")]

    always_first = PairwiseJudge(Scripted("biased", lambda text: "[[A]]"))
    verdicts = always_first.compare([(item, "4", "5"), (item, "5", "4")])
    assert [verdict.winner for verdict in verdicts] == ["tie", "tie"]
    assert (verdicts[0].first, verdicts[0].second) == ("a", "b")

    unreadable = PairwiseJudge(Scripted("mute", lambda text: "hmm"))
    assert unreadable.compare([(item, "4", "5")])[0].winner is None
    half = PairwiseJudge(Scripted("half", lambda text: "[[A]]" if "A]\n4" in text else "hmm"))
    assert half.compare([(item, "4", "5")])[0].winner == "tie"


@pytest.fixture
def judged_pool(pool: onebench.Pool) -> onebench.Pool:
    pool.add_samples(
        [
            {"sample_id": f"q{i}", "benchmark": "toy", "text": f"{i} + 1?", "reference": str(i + 1)}
            for i in range(6)
        ]
    )
    # m1 is right on every sample, m2 on the even ones only.
    right = Scripted("m1", lambda text: str(int(text.split()[0]) + 1))
    half = Scripted("m2", lambda text: str(int(text.split()[0]) + 1 - int(text.split()[0]) % 2))
    for name, runner in (("m1", right), ("m2", half)):
        # Outputs only: a sample graded binary could not take pairwise verdicts too.
        report = evaluate(pool, name, runner=runner, grade=False)
        assert (report.generated, report.committed) == (6, 0)
    return pool


def test_judging_stored_outputs_commits_pairwise_measurements(judged_pool: onebench.Pool) -> None:
    pool = judged_pool
    assert stored_outputs(pool, "m2") == {f"q{i}": str(i + 1 - i % 2) for i in range(6)}
    judge = Scripted("fair-judge", fair)
    report = judge_pairs(pool, "m1", "m2", judge=judge, chunk_size=4)
    assert (report.wins_a, report.wins_b, report.ties, report.committed) == (3, 0, 3, 6)
    assert len(judge.prompts) == 12  # both orders of six pairs
    pairwise = pool.measurements(kinds="pairwise").to_pylist()
    winners = {row["sample_id"]: row["winner"] for row in pairwise}
    assert winners == {f"q{i}": "a" if i % 2 else "tie" for i in range(6)}
    assert {(row["grader"], row["judge"]) for row in pairwise} == {("judge_pairwise", "fair-judge")}

    # Judged again, in either order of the models: nothing new.
    again = judge_pairs(pool, "m2", "m1", judge=Scripted("fair-judge", fair))
    assert (again.already_judged, again.committed) == (6, 0)

    # Another judge is another measurement; a position-biased one only produces ties.
    biased = judge_pairs(pool, "m1", "m2", judge=Scripted("biased", lambda text: "[[A]]"))
    assert (biased.ties, biased.committed) == (6, 6)
    # The pairwise measurements rank m1 first.
    assert pool.rank(method="plackett-luce").rows[0].model == "m1"


def test_judging_needs_two_known_models_with_outputs(judged_pool: onebench.Pool) -> None:
    again = evaluate(judged_pool, "m1", runner=Scripted("m1", str), grade=False)
    assert (again.already_measured, again.generated) == (6, 0)  # the outputs are kept
    with pytest.raises(onebench.UnknownIdError):
        judge_pairs(judged_pool, "m1", "nobody", judge=Scripted("j", fair))
    with pytest.raises(onebench.InvalidInputError, match="the same"):
        judge_pairs(judged_pool, "m1", "m1", judge=Scripted("j", fair))
    judged_pool.add_models(["m3"])
    report = judge_pairs(judged_pool, "m1", "m3", judge=Scripted("j", fair))
    assert (report.without_outputs, report.committed) == (6, 0)


def test_graded_samples_cannot_take_verdicts(judged_pool: onebench.Pool) -> None:
    evaluate(
        judged_pool, "m1", ["q0"], runner=Scripted("m1", lambda text: "1"), grader="exact_match"
    )
    with pytest.raises(onebench.InvalidInputError, match="'q0': its measurements are binary"):
        judge_pairs(judged_pool, "m1", "m2", judge=Scripted("j", fair))


def test_cli_generates_outputs_then_judges_them(
    pool: onebench.Pool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from onebench.cli import main
    from onebench.infer import _runner

    # Runners registered by a third party: two "models" and a judge, no weights needed.
    monkeypatch.setattr(_runner, "_FACTORIES", dict(_runner._FACTORIES))
    answers = {"right": lambda text: str(int(text.split()[0]) + 1), "wrong": lambda text: "0"}
    _runner.register_runner("canned")(
        lambda model, options, **settings: Scripted(model, answers[model])
    )
    _runner.register_runner("fair")(lambda model, options, **settings: Scripted(model, fair))
    pool.add_samples(
        [
            {
                "sample_id": f"q{i}",
                "benchmark": "sums",
                "text": f"{i} + 1?",
                "reference": str(i + 1),
            }
            for i in range(4)
        ]
    )
    common = ["--pool", str(pool.path), "--benchmark", "sums", "--json", "--no-progress"]
    for model in ("right", "wrong"):
        assert main(["eval", "--model", model, "--runner", "canned", "--no-grade", *common]) == 0
        assert json.loads(capsys.readouterr().out)["generated"] == 4
    arguments = [
        "eval",
        "--model",
        "right",
        "--against",
        "wrong",
        "--judge",
        "fair-judge",
        "--judge-runner",
        "fair",
        *common,
    ]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["wins_a"], report["committed"], report["judge"]) == (4, 4, "fair-judge")
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["already_judged"] == 4
    pool.refresh()
    assert pool.measurements(kinds="pairwise").num_rows == 4
