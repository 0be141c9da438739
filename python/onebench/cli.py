"""The ``onebench`` command line: data on stdout, logs and progress on stderr."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ._table import terminal_safe
from .exceptions import OnebenchError

__all__ = ["main"]

# json and logging load after the arguments parse: `--help` and a mistyped option exit
# before either is needed. The commands' own modules load in their handlers.


def _pool_path(value: str | None) -> Path:
    return Path(value or os.environ.get("ONEBENCH_POOL") or "onebench-pool")


def _emit(args: argparse.Namespace, payload: dict, text: str) -> None:
    # JSON escapes every non-ASCII character; the text is escaped for the terminal.
    if args.json:
        import json

        print(json.dumps(payload, indent=2))
    else:
        print(terminal_safe(text))


def _cmd_init(args: argparse.Namespace) -> int:
    from .pool import Pool

    pool = Pool.create(_pool_path(args.pool))
    _emit(args, {"path": str(pool.path), "version": pool.version}, f"created pool {pool.path}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from ._identity_cli import run_import

    payload, text = run_import(args, _pool_path(args.pool))
    if args.embed:
        from ._query_cli import embed_after_import

        payload, text = embed_after_import(args, _pool_path(args.pool), payload, text)
    _emit(args, payload, text)
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from ._identity_cli import run_models

    payload, text = run_models(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_samples(args: argparse.Namespace) -> int:
    from ._samples_cli import run_samples

    payload, text = run_samples(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from ._stats import pool_summary, summary_text
    from .pool import Pool

    summary = pool_summary(Pool.open(_pool_path(args.pool)))
    _emit(args, summary, summary_text(summary))
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from ._rank_cli import run_rank

    payload, text = run_rank(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from ._query_cli import run_query

    payload, text = run_query(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from ._query_cli import run_embed

    payload, text = run_embed(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ._rank_cli import run_export

    payload, text = run_export(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from ._eval_cli import run_eval

    payload, text = run_eval(args, _pool_path(args.pool))
    _emit(args, payload, text)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    payload, text = run_demo(
        n_models=args.models, n_samples=args.samples, seed=args.seed, keep=args.keep
    )
    _emit(args, payload, text)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("mcp") is None:
        print("onebench serve: needs the mcp extra: pip install 'onebench[mcp]'", file=sys.stderr)
        return 2
    from .mcp import serve

    serve(
        _pool_path(args.pool),
        transport=args.transport,
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get("ONEBENCH_MCP_TOKEN") or None,
        allow_writes=args.allow_writes,
        runner_profiles=args.runner_profiles,
    )
    return 0


class _Parser(argparse.ArgumentParser):
    """Argument errors as every other error: one line on stderr naming the option, exit 2
    (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _VersionAction(argparse.Action):
    """``--version``: the installed version, read only when asked (the Rust core's, the one
    version of the package, which Cargo holds and maturin writes into the metadata)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        print(f"onebench {version('onebench')}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--pool", help="pool directory (default: $ONEBENCH_POOL, else ./onebench-pool)"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")

    parser = _Parser(
        prog="onebench",
        description="Sample-level benchmarking: pool samples, rank models on any capability.",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("init", parents=[common], help="create an empty pool").set_defaults(
        handler=_cmd_init
    )

    from ._identity_cli import add_import_arguments, add_models_commands

    importer = commands.add_parser(
        "import",
        parents=[common],
        help="import result files (lm-eval, HELM, AlpacaEval, arena, inspect, long format, ...)",
    )
    add_import_arguments(importer)
    importer.add_argument(
        "--embed", action="store_true", help="embed the new samples for `onebench query`"
    )
    importer.set_defaults(handler=_cmd_import)
    add_models_commands(commands, common)
    commands.choices["models"].set_defaults(handler=_cmd_models)

    commands.add_parser("stats", parents=[common], help="what the pool holds").set_defaults(
        handler=_cmd_stats
    )

    from ._samples_cli import add_samples_arguments

    sampler = commands.add_parser(
        "samples", parents=[common], help="samples with difficulty and discrimination"
    )
    add_samples_arguments(sampler)
    sampler.set_defaults(handler=_cmd_samples)

    from ._rank_cli import add_export_arguments, add_rank_arguments

    ranker = commands.add_parser("rank", parents=[common], help="rank the models")
    add_rank_arguments(ranker)
    ranker.set_defaults(handler=_cmd_rank)

    from ._query_cli import add_embed_arguments, add_query_arguments

    querier = commands.add_parser(
        "query", parents=[common], help="find the samples that test a capability; rank on them"
    )
    add_query_arguments(querier)
    querier.set_defaults(handler=_cmd_query)
    embedder = commands.add_parser(
        "embed", parents=[common], help="embed the samples that have no embedding yet"
    )
    add_embed_arguments(embedder)
    embedder.set_defaults(handler=_cmd_embed)

    exporter = commands.add_parser("export", parents=[common], help="write Parquet files")
    add_export_arguments(exporter)
    exporter.set_defaults(handler=_cmd_export)

    from ._eval_cli import add_eval_arguments

    evaluator = commands.add_parser(
        "eval", parents=[common], help="run a model on samples, grade, commit measurements"
    )
    add_eval_arguments(evaluator)
    evaluator.set_defaults(handler=_cmd_eval)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="build a synthetic pool, rank it, show robustness to sparsity",
    )
    demo.add_argument("--models", type=int, default=40)
    demo.add_argument("--samples", type=int, default=5000)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--keep", help="keep the demo pool in this folder instead of a temporary one")
    demo.set_defaults(handler=_cmd_demo)

    server = commands.add_parser(
        "serve", parents=[common], help="serve the pool to LLM agents over MCP (stdio or HTTP)"
    )
    server.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    server.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8765, help="HTTP port (0: any free port)")
    server.add_argument(
        "--token",
        help="bearer token HTTP clients must send (required beyond loopback); prefer "
        "$ONEBENCH_MCP_TOKEN, which other users cannot see in the process list",
    )
    server.add_argument(
        "--allow-writes",
        action="store_true",
        help="offer the write tools (add_measurements, evaluate_model); read-only otherwise",
    )
    server.add_argument(
        "--runner-profiles",
        metavar="FILE",
        help="JSON or TOML file of the ways evaluate_model may run models (runner, endpoint, "
        "key variable, checkpoints); clients pick one by name. Needs --allow-writes",
    )
    server.set_defaults(handler=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import logging

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="onebench: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args))
    except OnebenchError as error:
        message = terminal_safe(str(error), one_line=True)
        print(f"onebench {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`onebench samples | head`): as a shell tool killed by
        # SIGPIPE, stop quietly. Point stdout at devnull so the interpreter's final flush
        # does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
