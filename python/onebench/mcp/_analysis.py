"""What the comparison and profile tools compute, as plain functions over a pool.

Everything here blocks (ranking, reading measurements) and runs in a worker thread.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import InvalidInputError
from ..pool import Pool
from ..ranking import Leaderboard
from ._models import (
    ComparisonResult,
    GroupComparison,
    GroupStanding,
    LeaderboardResult,
    ModelFormResult,
    ModelProfile,
    ModelStanding,
    SampleSelection,
)
from ._state import Snapshot

__all__ = ["compare", "leaderboard_result", "models_measured_on", "profile"]

_CARDINAL = pa.array(["binary", "numeric"])

#: Groups a profile ranks the model on, largest first (each one is a ranking fit).
MAX_PROFILE_GROUPS = 64


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def leaderboard_result(
    leaderboard: Leaderboard, selection: SampleSelection, max_models: int
) -> LeaderboardResult:
    rows = [
        ModelStanding(
            model=row.model,
            rank=row.rank,
            score=row.score,
            ci_low=_number(row.ci_low),
            ci_high=_number(row.ci_high),
            rank_low=row.rank_low,
            rank_high=row.rank_high,
            n_measurements=row.n_measurements,
            n_samples=row.n_samples,
        )
        for row in leaderboard.rows
    ]
    return LeaderboardResult(
        selection=selection,
        method=leaderboard.method,
        ci=leaderboard.ci,
        interval=leaderboard.interval,
        n_models_ranked=len(rows),
        models=rows[:max_models],
        truncated=len(rows) > max_models,
        disconnected=[list(group) for group in leaderboard.disconnected],
        hidden=list(leaderboard.hidden),
        converged=leaderboard.converged,
        notes=list(leaderboard.notes),
        model_form=(
            None
            if leaderboard.model_form is None
            else ModelFormResult.model_validate(leaderboard.model_form.to_dict())
        ),
    )


def models_measured_on(pool: Pool, samples: list[str] | None) -> set[str]:
    """The models that some measurement on ``samples`` names."""
    table = pool.measurements(samples)
    names: set[str] = set()
    for column in ("model", "model_a", "model_b"):
        values = pc.unique(table.column(column).cast(pa.string())).to_pylist()
        names.update(value for value in values if value is not None)
    for ranking in table.column("ranking").drop_null().to_pylist():
        names.update(model for group in ranking for model in group)
    return names


def group_of(snapshot: Snapshot, index: int, by: str) -> str:
    """A sample's group: its category (``by='category'``, when it has one) or benchmark."""
    if by == "category":
        category = snapshot.categories[index]
        if category is not None:
            return category
    return str(snapshot.benchmarks[index])


def _outcomes(
    pool: Pool, snapshot: Snapshot, samples: list[str] | None, a: str, b: str
) -> dict[str, int]:
    """Per sample measured on both: +1 when ``a`` did better, -1 when ``b`` did, 0 for a
    tie (every measurement of the pair on the sample votes; the sign of the sum counts)."""
    table = pool.measurements(samples, models=[a, b])
    votes: dict[str, float] = defaultdict(float)
    seen: dict[str, int] = defaultdict(int)
    cardinal = table.filter(pc.is_in(table.column("kind"), value_set=_CARDINAL))
    if cardinal.num_rows:
        frame = cardinal.select(["sample_id", "model", "score"]).to_pandas()
        frame["sample_id"] = frame["sample_id"].astype(str)
        frame["model"] = frame["model"].astype(str)
        wide = frame.pivot_table(index="sample_id", columns="model", values="score", aggfunc="mean")
        if a in wide.columns and b in wide.columns:
            both = wide[[a, b]].dropna()
            index = snapshot.index()
            for sample_id, score_a, score_b in zip(
                both.index, both[a].to_numpy(), both[b].to_numpy(), strict=True
            ):
                sign = -1.0 if snapshot.metrics[index[sample_id]] == "numeric_lower" else 1.0
                votes[sample_id] += float(np.sign(sign * (score_a - score_b)))
                seen[sample_id] += 1
    for row in table.filter(pc.equal(table.column("kind"), "pairwise")).to_pylist():
        if {row["model_a"], row["model_b"]} != {a, b}:
            continue
        winner = {"a": row["model_a"], "b": row["model_b"]}.get(row["winner"])
        votes[row["sample_id"]] += 0.0 if winner is None else (1.0 if winner == a else -1.0)
        seen[row["sample_id"]] += 1
    for row in table.filter(pc.equal(table.column("kind"), "ranking")).to_pylist():
        position = {model: place for place, group in enumerate(row["ranking"]) for model in group}
        if a in position and b in position:
            votes[row["sample_id"]] += float(np.sign(position[b] - position[a]))
            seen[row["sample_id"]] += 1
    return {sample_id: int(np.sign(votes[sample_id])) for sample_id in seen}


def compare(
    pool: Pool,
    snapshot: Snapshot,
    a: str,
    b: str,
    samples: list[str] | None,
    selection: SampleSelection,
    by: str,
) -> ComparisonResult:
    if a == b:
        raise InvalidInputError("model_b: compare two different models", field="model_b")
    leaderboard = pool.rank(samples)
    standing = {row.model: row for row in leaderboard.rows}
    for name, model in (("model_a", a), ("model_b", b)):
        if model not in standing:
            raise InvalidInputError(
                f"{name}: {model!r} is not ranked on {selection.description} (no measurements "
                "there that compare it with other models)",
                field=name,
            )
    row_a, row_b = standing[a], standing[b]
    outcomes = _outcomes(pool, snapshot, samples, a, b)
    index = snapshot.index()
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sample_id, outcome in outcomes.items():
        counts = groups[group_of(snapshot, index[sample_id], by)]
        counts[0 if outcome > 0 else 1 if outcome < 0 else 2] += 1
    by_group = [
        GroupComparison(
            group=name,
            shared_samples=sum(counts),
            a_wins=counts[0],
            b_wins=counts[1],
            ties=counts[2],
            stronger=_stronger(counts[0], counts[1]),
        )
        for name, counts in sorted(groups.items(), key=lambda item: -sum(item[1]))
    ]
    wins = [sum(group[position] for group in groups.values()) for position in range(3)]
    return ComparisonResult(
        model_a=a,
        model_b=b,
        selection=selection,
        method=leaderboard.method,
        score_a=row_a.score,
        score_b=row_b.score,
        rank_a=row_a.rank,
        rank_b=row_b.rank,
        n_models_ranked=len(leaderboard.rows),
        win_probability_a=1.0 / (1.0 + math.exp(row_b.score - row_a.score)),
        shared_samples=len(outcomes),
        a_wins=wins[0],
        b_wins=wins[1],
        ties=wins[2],
        by_group=by_group,
        a_stronger_in=[group.group for group in by_group if group.stronger == "model_a"],
        b_stronger_in=[group.group for group in by_group if group.stronger == "model_b"],
    )


def _stronger(a_wins: int, b_wins: int) -> Any:
    return "model_a" if a_wins > b_wins else "model_b" if b_wins > a_wins else "even"


def profile(pool: Pool, snapshot: Snapshot, model: str, by: str, top: int) -> ModelProfile:
    own = pool.measurements(models=[model])
    index = snapshot.index()
    measured = {index[str(sample_id)] for sample_id in own.column("sample_id").to_pylist()}
    if not measured:
        raise InvalidInputError(f"model: {model!r} has no measurements", field="model")
    members: dict[str, list[int]] = defaultdict(list)
    for position in range(len(snapshot.sample_ids)):
        members[group_of(snapshot, position, by)].append(position)
    touched: dict[str, int] = defaultdict(int)
    for position in measured:
        touched[group_of(snapshot, position, by)] += 1
    names = sorted(touched, key=lambda name: -touched[name])[:MAX_PROFILE_GROUPS]
    own_means, field_means = _mean_scores(pool, snapshot, model, measured, by)
    standings = []
    for name in names:
        ids = [snapshot.sample_ids[position] for position in members[name]]
        leaderboard = pool.rank(ids)
        row = next((row for row in leaderboard.rows if row.model == model), None)
        n_models = len(leaderboard.rows)
        percentile = None
        if row is not None and n_models > 1:
            percentile = 1.0 - (row.rank - 1) / (n_models - 1)
        standings.append(
            GroupStanding(
                group=name,
                benchmark=str(snapshot.benchmarks[members[name][0]]),
                n_samples=touched[name],
                rank=row.rank if row is not None else None,
                n_models=n_models,
                percentile=percentile,
                mean_score=own_means.get(name),
                field_mean_score=field_means.get(name),
            )
        )
    standings.sort(key=lambda item: -1.0 if item.percentile is None else -item.percentile)
    overall_rank, overall_percentile = _overall(pool, snapshot, model, members, names)
    ranked = [item for item in standings if item.percentile is not None]
    reference = overall_percentile if overall_percentile is not None else 0.5
    above = [item.group for item in ranked if item.percentile > reference]  # type: ignore[operator]
    below = [item.group for item in reversed(ranked) if item.percentile < reference]  # type: ignore[operator]
    return ModelProfile(
        model=model,
        aliases=snapshot.aliases.get(model, []),
        by=by,  # type: ignore[arg-type]
        n_measurements=own.num_rows,
        overall_rank=overall_rank,
        overall_percentile=overall_percentile,
        groups=standings,
        strengths=above[:top],
        weaknesses=below[:top],
    )


def _overall(
    pool: Pool, snapshot: Snapshot, model: str, members: dict[str, list[int]], names: list[str]
) -> tuple[int | None, float | None]:
    """The model's rank and percentile on all samples of its groups together."""
    positions = sorted({position for name in names for position in members[name]})
    everything = len(positions) == len(snapshot.sample_ids)
    leaderboard = pool.rank(
        None if everything else [snapshot.sample_ids[position] for position in positions]
    )
    row = next((row for row in leaderboard.rows if row.model == model), None)
    if row is None:
        return None, None
    n_models = len(leaderboard.rows)
    return row.rank, (1.0 - (row.rank - 1) / (n_models - 1) if n_models > 1 else None)


def _mean_scores(
    pool: Pool, snapshot: Snapshot, model: str, measured: set[int], by: str
) -> tuple[dict[str, float], dict[str, float]]:
    """Per group: the model's mean binary/numeric score, and every model's mean on the
    samples the model was scored on."""
    own = pool.measurements(models=[model], kinds=["binary", "numeric"])
    if not own.num_rows:
        return {}, {}
    scored = sorted({str(sample_id) for sample_id in own.column("sample_id").to_pylist()})
    everyone = pool.measurements(scored, kinds=["binary", "numeric"])
    index = snapshot.index()
    results = []
    for table in (own, everyone):
        frame = table.select(["sample_id", "score"]).to_pandas()
        frame["group"] = [
            group_of(snapshot, index[str(sample_id)], by) for sample_id in frame["sample_id"]
        ]
        results.append(frame.groupby("group")["score"].mean().to_dict())
    return results[0], results[1]
