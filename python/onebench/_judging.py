"""Pairwise judging of two models' stored outputs: verdicts become pairwise measurements.

The outputs come from earlier evaluation runs in the pool (``runs/``): for each model, the
last output without error per sample across its runs. Pairs already judged by the same
grader and judge (in either order of the two models) are skipped; each chunk of verdicts is
one atomic commit, so an interrupted judging resumes without duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ._eval import SOURCE, EvalProgress
from ._eval_plan import canonical_model, select_samples
from ._runs import RunStore
from .exceptions import InvalidInputError, UnknownIdError
from .graders._judge import PairwiseJudge
from .graders._protocol import GradingSample
from .infer._runner import Runner

__all__ = ["JudgeReport", "judge_pairs", "stored_outputs"]


@dataclass
class JudgeReport:
    model_a: str
    model_b: str
    judge: str
    selected: int = 0
    without_outputs: int = 0
    already_judged: int = 0
    judged: int = 0
    committed: int = 0
    wins_a: int = 0
    wins_b: int = 0
    ties: int = 0
    unreadable: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stored_outputs(pool: Any, model: str) -> dict[str, str]:
    """Per sample, the text of ``model``'s last stored output without error."""
    outputs: dict[str, tuple[str, str]] = {}  # sample -> (time, text)
    for store in RunStore.all(pool.path):
        if store.header().get("model") != model:
            continue
        for sample_id, row in store.latest_outputs().items():
            if sample_id not in outputs or row["time"] >= outputs[sample_id][0]:
                outputs[sample_id] = (row["time"], row["text"])
    return {sample_id: text for sample_id, (_, text) in outputs.items()}


def judge_pairs(
    pool: Any,
    model_a: str,
    model_b: str,
    samples: Any = None,
    *,
    judge: Runner | PairwiseJudge,
    limit: int | None = None,
    chunk_size: int = 32,
    progress: Callable[[EvalProgress], None] | None = None,
) -> JudgeReport:
    """Has ``judge`` (a runner, or a :class:`PairwiseJudge`) compare ``model_a``'s and
    ``model_b``'s stored outputs on ``samples`` and commits the verdicts."""
    pool.refresh()
    names, outputs, new_models = [], [], []
    for model in (model_a, model_b):
        # A model may be known only by its stored outputs (generated with grade=False).
        known = canonical_model(pool, model)
        stored = stored_outputs(pool, known or model)
        if known is None:
            if not stored:
                raise UnknownIdError(
                    f"models: unknown model {model!r} (no measurements, no stored outputs)",
                    field="models",
                    id=model,
                )
            new_models.append(model)
        names.append(known or model)
        outputs.append(stored)
    model_a, model_b = names
    outputs_a, outputs_b = outputs
    if model_a == model_b:
        raise InvalidInputError("models: model_a and model_b are the same", field="models")
    grader = judge if isinstance(judge, PairwiseJudge) else PairwiseJudge(judge)
    started = time.perf_counter()
    report = JudgeReport(model_a, model_b, grader.judge)
    rows = select_samples(pool, samples, limit)
    report.selected = len(rows)
    judged = (
        _already_judged(pool, [row["sample_id"] for row in rows], model_a, grader)
        if not new_models
        else {}
    )
    pending = []
    for row in rows:
        sample_id = row["sample_id"]
        if row.get("metric") not in (None, "", "pairwise"):
            # The store keeps one metric per sample: a graded sample takes no verdicts.
            raise InvalidInputError(
                f"sample {sample_id!r}: its measurements are {row['metric']}; pairwise "
                "judging needs samples without cardinal measurements",
                field="samples",
            )
        if sample_id not in outputs_a or sample_id not in outputs_b:
            report.without_outputs += 1
        elif frozenset((model_a, model_b)) in judged.get(sample_id, ()):
            report.already_judged += 1
        else:
            pending.append(GradingSample.from_row(row))
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        verdicts = grader.compare(
            [(sample, outputs_a[sample.sample_id], outputs_b[sample.sample_id]) for sample in chunk]
        )
        decided = [
            (sample.sample_id, verdict.winner)
            for sample, verdict in zip(chunk, verdicts, strict=True)
            if verdict.winner is not None
        ]
        report.unreadable += len(chunk) - len(decided)
        report.judged += len(chunk)
        if decided:
            committed = pool.add_measurements(
                {
                    "sample_id": [sample_id for sample_id, _ in decided],
                    "model_a": [model_a] * len(decided),
                    "model_b": [model_b] * len(decided),
                    "winner": [winner for _, winner in decided],
                },
                kind="pairwise",
                source=SOURCE,
                grader=grader.name,
                judge=grader.judge,
                extra={"judge_runner": grader.runner.kind},
                models=new_models or None,
            )
            new_models = []
            report.committed += committed.added
        for _, winner in decided:
            report.wins_a += winner == "a"
            report.wins_b += winner == "b"
            report.ties += winner == "tie"
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(
                EvalProgress("committed", start + len(chunk), len(pending), 0, 0, report.seconds)
            )
    report.seconds = time.perf_counter() - started
    return report


def _already_judged(
    pool: Any, sample_ids: list[str], model: str, grader: PairwiseJudge
) -> dict[str, set[frozenset[str]]]:
    if not sample_ids:
        return {}
    table = pool.measurements(sample_ids, models=[model], kinds=["pairwise"])
    judged: dict[str, set[frozenset[str]]] = {}
    for row in table.select(["sample_id", "model_a", "model_b", "grader", "judge"]).to_pylist():
        if row["grader"] == grader.name and row["judge"] == grader.judge:
            judged.setdefault(row["sample_id"], set()).add(
                frozenset((row["model_a"], row["model_b"]))
            )
    return judged
