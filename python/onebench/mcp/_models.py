"""The structured outputs of the MCP tools, as pydantic models.

Field descriptions end up in each tool's output schema, so they are written for the LLM
that reads the result, not for a Python caller.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BenchmarkDefinition",
    "BenchmarkInfo",
    "BenchmarkList",
    "CommitResult",
    "ComparisonResult",
    "CreatedBenchmark",
    "EvaluationResult",
    "GroupComparison",
    "GroupStanding",
    "LeaderboardResult",
    "MeasurementInput",
    "ModelInfo",
    "ModelList",
    "ModelProfile",
    "ModelStanding",
    "PoolStatsResult",
    "SampleHit",
    "SampleSelection",
    "SearchResult",
]


class SampleSelection(BaseModel):
    """Which samples an answer rests on."""

    kind: Literal[
        "pool", "benchmark", "saved_benchmark", "session_benchmark", "sample_ids", "query", "filter"
    ] = Field(description="how the samples were chosen")
    description: str = Field(description="the selection in words, e.g. 'benchmark mmlu_pro'")
    n_samples: int = Field(description="number of samples selected")


class ModelStanding(BaseModel):
    model: str
    rank: int = Field(description="1 = best; tied models share a rank")
    score: float = Field(
        description="score on the method's own scale (logit skill for joint, log-strength "
        "for onebench, plackett-luce and bradley-terry: a difference d means odds exp(d) of "
        "winning a "
        "comparison)"
    )
    ci_low: float | None = Field(description="lower end of the score's confidence interval")
    ci_high: float | None = Field(description="upper end of the score's confidence interval")
    rank_low: int | None = Field(
        description="best rank the model plausibly has (null: unknown, see the notes)"
    )
    rank_high: int | None = Field(
        description="worst rank the model plausibly has (null: unknown, see the notes)"
    )
    n_measurements: int = Field(description="measurements the score rests on")
    n_samples: int = Field(description="distinct samples the model was measured on")


class FormCandidateResult(BaseModel):
    form: str = Field(description="the candidate form, e.g. 'core+spreads'")
    parts: list[str]
    log_likelihood: float | None = Field(description="held-out log-likelihood per measurement")
    gain: float | None = Field(description="gain over the form it was compared with")
    standard_error: float | None = Field(description="the gain's standard error (by sample)")
    kept: bool


class ModelFormResult(BaseModel):
    name: str = Field(description="the joint model's form: 'core', 'full' or 'core+part+...'")
    parts: list[str] = Field(description="parts beyond the core: spreads, deviations, measurer")
    chosen_by: str = Field(description="'cross-validation' or 'given'")
    reason: str
    measurements: int = Field(description="held-out measurements the candidates were scored on")
    candidates: list[FormCandidateResult]


class LeaderboardResult(BaseModel):
    selection: SampleSelection
    method: str
    ci: float = Field(description="confidence level of the intervals")
    interval: str = Field(description="'fisher', 'bootstrap' or 'none'")
    n_models_ranked: int
    models: list[ModelStanding] = Field(description="best first (at most max_models of them)")
    truncated: bool = Field(description="true when more models were ranked than returned")
    disconnected: list[list[str]] = Field(
        description="groups of models that no comparison links to the ranked ones (not ranked)"
    )
    hidden: list[str] = Field(
        default_factory=list,
        description="models left out for being measured on fewer than min_samples samples",
    )
    converged: bool
    notes: list[str]
    model_form: ModelFormResult | None = Field(
        default=None,
        description="the joint model's form and why (null for the other methods)",
    )


class GroupComparison(BaseModel):
    group: str = Field(description="a category (when samples have one) or a benchmark")
    shared_samples: int = Field(description="samples of this group where both were measured")
    a_wins: int = Field(description="shared samples where model_a did better")
    b_wins: int = Field(description="shared samples where model_b did better")
    ties: int
    stronger: Literal["model_a", "model_b", "even"]


class ComparisonResult(BaseModel):
    model_a: str
    model_b: str
    selection: SampleSelection
    method: str = Field(description="ranking method of the scores and win probability")
    score_a: float
    score_b: float
    rank_a: int = Field(description="model_a's rank among all models ranked on the selection")
    rank_b: int
    n_models_ranked: int
    win_probability_a: float = Field(
        description="modelled probability that model_a beats model_b on a sample of the "
        "selection (1 / (1 + exp(score_b - score_a)))"
    )
    shared_samples: int = Field(description="samples where both models were measured")
    a_wins: int
    b_wins: int
    ties: int
    by_group: list[GroupComparison] = Field(description="head-to-head record per group")
    a_stronger_in: list[str] = Field(description="groups where model_a wins more often")
    b_stronger_in: list[str] = Field(description="groups where model_b wins more often")


class GroupStanding(BaseModel):
    group: str = Field(description="a category (when samples have one) or a benchmark")
    benchmark: str
    n_samples: int = Field(description="samples of the group the model was measured on")
    rank: int | None = Field(description="the model's rank among the models measured there")
    n_models: int = Field(description="models ranked on the group")
    percentile: float | None = Field(
        description="1.0 = best model of the group, 0.0 = worst (from the rank)"
    )
    mean_score: float | None = Field(
        description="the model's mean score there (accuracy for binary samples); null when "
        "its measurements there are pairwise or rankings only"
    )
    field_mean_score: float | None = Field(
        description="mean score of all models on the same samples, for comparison"
    )


class ModelProfile(BaseModel):
    model: str
    aliases: list[str]
    by: Literal["category", "benchmark"]
    n_measurements: int
    overall_rank: int | None = Field(
        description="the model's rank on all samples of its groups together"
    )
    overall_percentile: float | None = Field(description="1.0 = best, 0.0 = worst overall")
    groups: list[GroupStanding] = Field(description="best percentile first")
    strengths: list[str] = Field(
        description="groups where the model stands above its overall percentile, best first"
    )
    weaknesses: list[str] = Field(
        description="groups where the model stands below its overall percentile, worst first"
    )


class ModelInfo(BaseModel):
    model: str
    aliases: list[str]
    n_measurements: int = Field(description="measurements naming the model, all kinds")
    n_samples: int = Field(description="distinct samples the model was measured on")
    benchmarks: list[str] = Field(description="benchmarks with measurements of the model")


class ModelList(BaseModel):
    total: int = Field(description="models matching the filter")
    models: list[ModelInfo]
    truncated: bool


class BenchmarkInfo(BaseModel):
    name: str
    kind: Literal["source", "saved", "session"] = Field(
        description="'source': a test set the pool's samples came from; 'saved': a custom "
        "benchmark created from a query or a list of samples, saved in the pool; 'session': "
        "one a read-only server keeps in memory while it runs"
    )
    n_samples: int
    query: str | None = Field(default=None, description="the query that produced it, if any")
    categories: list[str] = Field(
        default_factory=list, description="sample categories present (from sample metadata)"
    )


class BenchmarkDefinition(BenchmarkInfo):
    sample_ids: list[str]


class BenchmarkList(BaseModel):
    benchmarks: list[BenchmarkInfo]


class SampleHit(BaseModel):
    sample_id: str
    benchmark: str
    category: str | None
    similarity: float | None = Field(
        description="similarity to the query (cosine for semantic search, BM25 for lexical)"
    )
    text: str = Field(description="the start of the sample's prompt")


class SearchResult(BaseModel):
    query: str
    search: Literal["hybrid", "semantic", "lexical", "filter"] = Field(
        description="the search method used ('lexical' when the pool has no embeddings)"
    )
    n_results: int
    samples: list[SampleHit] = Field(description="best match first")
    matches_well: bool = Field(
        default=True,
        description="false when nothing in the pool matches the query well (no label "
        "matches it and even the closest sample is far from it): the samples returned are "
        "only the least unlike it; do not rank models on them",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="what to know about this result: a lexical fallback and how to embed, "
        "no good match, labels the query matched, the automatic cut-off",
    )


class CreatedBenchmark(BaseModel):
    name: str
    n_samples: int
    notes: list[str] = Field(
        default_factory=list,
        description="how the samples were chosen: the search method (a lexical fallback "
        "and how to embed), the labels matched, the automatic cut-off",
    )
    query: str = Field(description="the recorded specification that reproduces it (JSON)")
    groups: dict[str, int] = Field(
        description="samples per category (or per benchmark for samples without one)"
    )
    preview: list[SampleHit] = Field(description="the first samples")


class PoolStatsResult(BaseModel):
    path: str
    version: int = Field(description="the pool version these counts describe")
    samples: int
    models: int
    measurements: int
    cardinal: int = Field(description="binary and numeric measurements")
    pairwise: int
    rankings: int
    cardinal_density: float = Field(
        description="share of the model x sample cells that hold a binary/numeric measurement"
    )
    benchmarks: dict[str, int] = Field(description="samples per source benchmark")
    writes_allowed: bool


class MeasurementInput(BaseModel):
    """One measurement in onebench's long format; which fields apply depends on kind."""

    model_config = ConfigDict(extra="forbid")

    sample_id: str = Field(min_length=1, max_length=200)
    kind: Literal["binary", "numeric", "pairwise", "ranking"]
    model: str | None = Field(
        default=None, max_length=200, description="binary/numeric: the measured model"
    )
    score: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="binary: 0 or 1; numeric: the score (higher is better)",
    )
    model_a: str | None = Field(default=None, max_length=200, description="pairwise only")
    model_b: str | None = Field(default=None, max_length=200, description="pairwise only")
    winner: Literal["a", "b", "tie"] | None = Field(default=None, description="pairwise only")
    ranking: list[list[str]] | None = Field(
        default=None,
        max_length=1_000,
        description="ranking only: groups of tied models, best group first",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> MeasurementInput:
        needed = _NEEDED[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} measurement needs {' and '.join(needed)}")
        extra = [name for name in _KIND_FIELDS if name not in needed and getattr(self, name)]
        if extra:
            raise ValueError(f"a {self.kind} measurement has no {', '.join(extra)}")
        return self


_NEEDED = {
    "binary": ("model", "score"),
    "numeric": ("model", "score"),
    "pairwise": ("model_a", "model_b", "winner"),
    "ranking": ("ranking",),
}
_KIND_FIELDS = ("model", "score", "model_a", "model_b", "winner", "ranking")


class CommitResult(BaseModel):
    version: int = Field(description="pool version after the commit")
    added: int = Field(description="measurements added")
    skipped: int = Field(description="rows already present (identical), not added again")
    models_added: int


class EvaluationResult(BaseModel):
    run_id: str = Field(description="the run folder in the pool that keeps the outputs")
    model: str = Field(description="the model id the measurements were committed under")
    selected: int = Field(description="samples selected (after limit)")
    already_measured: int = Field(description="samples skipped: already graded for this model")
    generated: int
    reused: int = Field(description="outputs reused from an earlier, interrupted run")
    failed: int = Field(description="prompts the runner gave up on (no measurement)")
    committed: int = Field(description="measurements committed to the pool")
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    stopped: str | None = Field(description="'budget' when the budget ended the run early")
    mean_score: dict[str, float] = Field(description="per grader: mean score of this run")
