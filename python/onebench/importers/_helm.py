"""HELM run folders: ``per_instance_stats.json`` with the instances in ``instances.json``
or ``scenario_state.json``, and ``run_spec.json`` naming model and scenario.

Each run is one model on one scenario; each unperturbed instance's main metric
(``exact_match``, ``quasi_exact_match``, ... or ``--metric``; first train trial)
becomes a measurement. The sample is the instance (input, and the reference texts as
lettered options when there are several) with id ``helm/<scenario>/<instance id>``, where
the scenario is the run name without its model and adapter arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from ._base import ImportOptions, Source, importer
from ._commit import FILE, LINE
from ._files import file_error, json_document, json_records, require
from ._samples import binary_value, document_text, is_binary_metric, metadata_json

__all__ = ["Helm"]

_STATS = "per_instance_stats.json"
_PREFERRED = (
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "math_equiv_chain_of_thought",
    "math_equiv",
    "final_number_exact_match",
    "equivalent",
    "f1_score",
    "rouge_l",
    "bleu_4",
)
# Run-name arguments that say how a scenario was run, not which questions it has.
_RUN_ARGUMENTS = {"model", "model_deployment", "method", "max_train_instances", "stop", "groups"}


@importer("helm")
class Helm:
    description = "HELM run folders (per_instance_stats.json + instances/scenario_state)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return (path / _STATS).exists() or any(True for _ in path.rglob(_STATS))
        return path.name == _STATS

    def read(self, paths: list[Path], options: ImportOptions) -> list[Source]:
        runs: list[Path] = []
        for path in paths:
            if path.is_file():
                found = [path.parent]
            elif (path / _STATS).exists():
                found = [path]
            else:
                found = sorted(stats.parent for stats in path.rglob(_STATS))
            runs += [run for run in found if run not in runs]
        return [_read_run(run, options) for run in runs]


def _scenario(run: Path, spec: dict[str, Any]) -> str:
    name = spec["name"] if isinstance(spec.get("name"), str) else run.name
    scenario, _, arguments = name.partition(":")
    kept = [
        part
        for part in arguments.split(",")
        if part and part.partition("=")[0] not in _RUN_ARGUMENTS
    ]
    return scenario + (":" + ",".join(kept) if kept else "")


def _model(run: Path, spec: dict[str, Any], state: dict[str, Any], options: ImportOptions) -> str:
    if options.model:
        return options.model
    for source in (spec, state):
        adapter = source.get("adapter_spec") if isinstance(source, dict) else None
        if isinstance(adapter, dict) and isinstance(adapter.get("model"), str):
            return str(adapter["model"])
    for part in run.name.partition(":")[2].split(","):
        key, _, value = part.partition("=")
        if key == "model" and value:
            return value
    raise file_error(run / _STATS, "cannot tell which model this run is; pass --model")


def _instances(run: Path) -> tuple[dict[str, dict], dict[str, Any]]:
    """Instances by id, and the scenario state (for its adapter spec) when read."""
    if (run / "instances.json").exists():
        listing = [record for _, record in json_records(run / "instances.json")]
        return {str(item.get("id")): item for item in listing if isinstance(item, dict)}, {}
    if (run / "scenario_state.json").exists():
        state = json_document(run / "scenario_state.json")
        states = state.get("request_states", []) if isinstance(state, dict) else []
        instances: dict[str, dict] = {}
        for request in states:
            instance = request.get("instance") if isinstance(request, dict) else None
            if isinstance(instance, dict) and "id" in instance:
                instances.setdefault(str(instance["id"]), instance)
        return instances, state if isinstance(state, dict) else {}
    return {}, {}


def _sample(sample_id: str, scenario: str, instance: dict[str, Any] | None) -> dict:
    instance = instance or {}
    question = (instance.get("input") or {}).get("text", "") if instance else ""
    references = [
        reference for reference in instance.get("references", []) if isinstance(reference, dict)
    ]
    texts = [(reference.get("output") or {}).get("text", "") for reference in references]
    correct = [
        text
        for reference, text in zip(references, texts, strict=True)
        if "correct" in (reference.get("tags") or [])
    ]
    # Several references of which some are correct: a multiple-choice question.
    options = texts if len(texts) > 1 and 0 < len(correct) < len(texts) else []
    metadata = {key: instance[key] for key in ("split", "sub_split") if instance.get(key)}
    return {
        "sample_id": sample_id,
        "benchmark": scenario,
        "text": document_text({"question": question, "options": options}),
        "reference": correct,
        "metadata": metadata_json(metadata),
    }


def _read_run(run: Path, options: ImportOptions) -> Source:
    stats_path = run / _STATS
    spec = json_document(run / "run_spec.json") if (run / "run_spec.json").exists() else {}
    instances, state = _instances(run)
    model = _model(run, spec, state, options)
    scenario = _scenario(run, spec)
    rows: list[dict] = []
    samples: dict[str, dict] = {}
    metric: str | None = options.metric
    for line, entry in json_records(stats_path):
        instance_id = str(require(entry, "instance_id", stats_path, line, (str, int)))
        if entry.get("perturbation") or entry.get("train_trial_index", 0) != 0:
            continue  # perturbed variants and later trials are other conditions
        stats = require(entry, "stats", stats_path, line, list)
        values = {
            stat["name"]["name"]: stat
            for stat in stats
            if isinstance(stat, dict)
            and isinstance(stat.get("name"), dict)
            and not stat["name"].get("perturbation")
        }
        if metric is None:
            metric = next((name for name in _PREFERRED if name in values), None)
            if metric is None:
                raise file_error(
                    stats_path, "no main metric (such as exact_match); pass --metric", line
                )
        stat = values.get(metric)
        if stat is None:
            raise file_error(stats_path, f"instance {instance_id} has no {metric!r} stat", line)
        value = stat.get("mean")
        if not isinstance(value, int | float) and isinstance(stat.get("sum"), int | float):
            value = stat["sum"] / max(stat.get("count") or 1, 1)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise file_error(stats_path, f"stat {metric!r} has no numeric mean", line)
        kind = "binary" if is_binary_metric(metric) else "numeric"
        if kind == "binary":
            value = binary_value(value, metric, stats_path, line)
        sample_id = f"helm/{scenario}/{instance_id}"
        samples.setdefault(sample_id, _sample(sample_id, scenario, instances.get(instance_id)))
        rows.append(
            {
                "sample_id": sample_id,
                "kind": kind,
                "model": model,
                "score": float(value),
                FILE: str(stats_path),
                LINE: line,
            }
        )
    if not rows:
        raise file_error(stats_path, "no unperturbed instances with stats")
    return Source(
        format="helm",
        name=options.source or "helm",
        files=[str(stats_path)],
        measurements=pa.Table.from_pylist(rows),
        samples=pa.Table.from_pylist(list(samples.values())),
        grader=f"helm:{metric}",
        extra={"run": spec.get("name", run.name) if isinstance(spec, dict) else run.name},
    )
