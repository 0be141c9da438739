"""``onebench import`` and ``onebench models list | suggest | alias``.

Each command returns ``(payload, text)``: the JSON document for ``--json`` and the
human text; ``cli.py`` prints one of them on stdout. Warnings go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ._table import format_table
from .exceptions import InvalidInputError

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["FORMATS", "add_import_arguments", "add_models_commands", "run_import", "run_models"]

# The importers' format names, for `--format`'s choices: registering them means importing
# every importer (numpy, pyarrow, the pool), which the parser must not do for `--help` or a
# mistyped option (._identity, dataclass-based, loads in the commands too).
# tests/test_startup.py checks this list against the registry.
FORMATS = (
    "alpaca-eval",
    "arena",
    "helm",
    "inspect",
    "lm-eval",
    "long",
    "open-llm-leaderboard",
)


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="SOURCE",
        help="result files or folders (the format of each is detected)",
    )
    parser.add_argument("--format", choices=FORMATS, help="read every SOURCE in this format")
    parser.add_argument("--source", help="provenance source name (default: per format)")
    parser.add_argument("--model", help="the model, for files that do not name it")
    parser.add_argument("--metric", help="the per-sample metric to take, where there are several")
    parser.add_argument(
        "--models", metavar="MAPPING", help="a model mapping file (onebench models suggest --write)"
    )


def _options(args: argparse.Namespace) -> Any:
    from .importers import ImportOptions

    return ImportOptions(
        source=getattr(args, "source", None),
        model=getattr(args, "model", None),
        metric=getattr(args, "metric", None),
    )


def run_import(args: argparse.Namespace, pool_path: Any) -> tuple[dict, str]:
    from ._identity import ModelMapping
    from .importers import commit_sources, read_sources
    from .pool import Pool

    mapping = ModelMapping.load(args.models) if args.models else None
    # Read (and check) everything before the pool is created or written to.
    sources = read_sources(args.files, format=args.format, options=_options(args))
    report = commit_sources(Pool.open_or_create(pool_path), sources, mapping)
    payload = {
        "files": report.files,
        "samples_added": report.samples_added,
        "samples_merged": report.samples_merged,
        "models_added": report.models_added,
        "measurements_added": report.measurements_added,
        "measurements_present": report.measurements_present,
        "measurements_changed": report.measurements_changed,
        "lookalikes": [list(pair) for pair in report.lookalikes],
        "sources": [
            {"format": result.format, "source": result.source, "files": result.files}
            for result in report.sources
        ],
        "version": report.version,
    }
    text = (
        f"imported {len(report.files)} file(s) in {len(report.sources)} source(s): "
        f"{report.samples_added} samples (+{report.samples_merged} merged into existing "
        f"ones), {report.models_added} models, {report.measurements_added} measurements; "
        f"{report.measurements_present} already present (pool version {report.version})"
    )
    if report.lookalikes:
        lines = [f"  {new!r} looks like {known!r}" for new, known in report.lookalikes]
        print(
            "onebench import: models kept apart that may be the same (confirm with "
            "`onebench models alias MODEL ALIAS` before importing, or a mapping file):\n"
            + "\n".join(lines),
            file=sys.stderr,
        )
    return payload, text


def add_models_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    models = commands.add_parser("models", parents=[common], help="model identity")
    verbs = models.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", parents=[common], help="models, their aliases and measurements")
    suggester = verbs.add_parser(
        "suggest", parents=[common], help="propose aliases for names that look alike"
    )
    suggester.add_argument(
        "files", nargs="*", metavar="SOURCE", help="also compare the names these sources use"
    )
    suggester.add_argument("--format", help="read every SOURCE in this format")
    suggester.add_argument(
        "--write", metavar="MAPPING", help="write the proposals to a mapping file"
    )
    aliaser = verbs.add_parser("alias", parents=[common], help="confirm that names are one model")
    aliaser.add_argument("model", nargs="?", help="the model")
    aliaser.add_argument("aliases", nargs="*", help="other names of that model")
    aliaser.add_argument("--file", metavar="MAPPING", help="confirm every alias of a mapping file")


def run_models(args: argparse.Namespace, pool_path: Any) -> tuple[dict, str]:
    from .pool import Pool

    if args.verb == "list":
        return _list(Pool.open(pool_path))
    if args.verb == "suggest":
        return _suggest(args, pool_path)
    return _alias(args, Pool.open_or_create(pool_path))


def _measurement_counts(pool: Pool) -> dict[str, int]:
    import numpy as np

    core = pool._inner
    ids = pool.model_ids()
    counts = np.zeros(len(ids), dtype=np.int64)
    for rows in (core.cardinal_rows()[1], *core.pairwise_rows()[1:3], core.ranking_rows()[2]):
        if len(rows):
            counts += np.bincount(rows, minlength=len(ids))
    return dict(zip(ids, counts.tolist(), strict=True))


def _list(pool: Pool) -> tuple[dict, str]:
    table = pool.models()
    counts = _measurement_counts(pool)
    rows = [
        {"model": model, "aliases": aliases or [], "measurements": counts.get(model, 0)}
        for model, aliases in zip(
            table.column("model").to_pylist(), table.column("aliases").to_pylist(), strict=True
        )
    ]
    text = format_table(
        ["model", "aliases", "measurements"],
        [[row["model"], ", ".join(row["aliases"]), f"{row['measurements']:,}"] for row in rows],
        "llr",
    )
    return {"models": rows}, text


def _suggest(args: argparse.Namespace, pool_path: Any) -> tuple[dict, str]:
    from ._identity import ModelMapping, suggest
    from .importers import read_sources
    from .importers._planning import model_names
    from .pool import Pool

    pool_models: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    if (pool_path / "MANIFEST").exists():
        pool = Pool.open(pool_path)
        table = pool.models()
        for model, aliases in zip(
            table.column("model").to_pylist(), table.column("aliases").to_pylist(), strict=True
        ):
            pool_models[model] = aliases or []
        counts = _measurement_counts(pool)
    incoming: set[str] = set()
    for source in read_sources(args.files, format=args.format) if args.files else []:
        incoming |= model_names(source.measurements)
    proposals = suggest(pool_models, incoming, counts)
    if args.write:
        mapping = ModelMapping()
        for proposal in proposals:
            if proposal.applicable:
                mapping.add(proposal.model, proposal.aliases)
        mapping.save(args.write)
    rows = [
        [p.model, ", ".join(p.aliases), "yes" if p.applicable else "no (both measured)"]
        for p in proposals
    ]
    text = (
        format_table(["model", "proposed aliases", "applicable"], rows, "lll")
        if rows
        else "no names look alike"
    )
    if args.write:
        text += f"\nwrote the applicable proposals to {args.write}; review it, then "
        text += f"`onebench models alias --file {args.write}` or `onebench import --models`"
    return {"proposals": [proposal.to_dict() for proposal in proposals]}, text


def _alias(args: argparse.Namespace, pool: Pool) -> tuple[dict, str]:
    from ._identity import ModelMapping

    if args.file:
        mapping = ModelMapping.load(args.file)
    elif args.model and args.aliases:
        mapping = ModelMapping({args.model: args.aliases})
    else:
        raise InvalidInputError(
            "models alias: give MODEL ALIAS... or --file MAPPING", field="aliases"
        )
    existing = set(pool.model_ids())
    for aliases in mapping.models.values():
        clash = [alias for alias in aliases if alias in existing]
        if clash:
            raise InvalidInputError(
                f"models alias: {', '.join(map(repr, clash))} already "
                f"{'is a model' if len(clash) == 1 else 'are models'} of the pool with "
                f"{'its' if len(clash) == 1 else 'their'} own measurements; measurements are "
                f"append-only, so two models cannot become one in place. Re-import the "
                f"sources into a new pool with `onebench import --models MAPPING`.",
                field="aliases",
            )
    models = list(mapping.models)
    report = pool.add_models({"model": models, "aliases": [mapping.models[m] for m in models]})
    payload = {"models": mapping.models, "changed": report.added, "version": report.version}
    count = sum(len(aliases) for aliases in mapping.models.values())
    return (
        payload,
        f"confirmed {count} alias(es) of {len(models)} model(s) (pool version {report.version})",
    )
