"""Tool arguments with their bounds, and how tools are collected and made strict.

Every bound lives in the argument's schema, so pydantic rejects a top_k of 10**9 or a
misspelt argument before any work starts, with a message naming the argument.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp_types import ToolAnnotations
from pydantic import ConfigDict, Field

from ..exceptions import OnebenchError
from ..ranking import METHODS

__all__ = [
    "MAX_BOOTSTRAP",
    "MAX_BOOTSTRAP_WORK",
    "MAX_MIN_SAMPLES",
    "MAX_QUERY_CHARS",
    "MAX_SAMPLE_IDS",
    "MAX_TOP_K",
    "READ_ONLY",
    "BenchmarkName",
    "GroupBy",
    "Method",
    "ModelName",
    "Query",
    "SampleIds",
    "SearchMethod",
    "Threshold",
    "ToolSet",
    "TopK",
    "Where",
    "tool_errors",
]

MAX_SAMPLE_IDS = 20_000
MAX_BOOTSTRAP = 1_000
#: Bootstrap replicates x measurements ranked per call: about two minutes on two cores.
MAX_BOOTSTRAP_WORK = 50_000_000
#: A pool numbers its samples with 32-bit indexes: no selection holds more samples.
MAX_MIN_SAMPLES = 2**32
MAX_TOP_K = 1_000
MAX_QUERY_CHARS = 1_000
MAX_NAME = 200

_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])

Method = Literal[METHODS]  # type: ignore[valid-type]
BenchmarkName = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_NAME,
        description="a benchmark name from list_benchmarks (a source test set such as "
        "'mmlu_pro', or a saved custom benchmark)",
    ),
]
SampleIds = Annotated[
    list[Annotated[str, Field(max_length=MAX_NAME)]] | None,
    Field(max_length=MAX_SAMPLE_IDS, description="explicit sample ids"),
]
Query = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="a capability described in words, e.g. 'organic chemistry reactions'; "
        "the samples that match it are used",
    ),
]
TopK = Annotated[
    int | None,
    Field(ge=1, le=MAX_TOP_K, description="at most this many best-matching samples (default 100)"),
]
Threshold = Annotated[
    float | None,
    Field(
        ge=-1.0,
        le=1_000.0,
        description="keep only samples at least this similar (cosine similarity in [-1, 1] "
        "for semantic search, a BM25 score for lexical search)",
    ),
]
Where = Annotated[
    dict[str, str | int | float | bool | list[str | int | float]] | list[str] | None,
    Field(
        max_length=16,
        description="metadata filters combined with AND: {'category': 'chemistry'} "
        "(a list value means any of), or strings such as 'difficulty>=3', 'category!=law', "
        "'subject~organic' (contains)",
    ),
]
SearchMethod = Annotated[
    Literal["auto", "hybrid", "semantic", "lexical"],
    Field(
        description="how a query finds samples: 'hybrid' (sentence embeddings and BM25 "
        "fused, with the samples' labels and the pool's topics), 'semantic' (sentence "
        "embeddings alone), 'lexical' (BM25 on the words), 'auto' (hybrid when the pool has "
        "embeddings, else lexical)"
    ),
]
ModelName = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
GroupBy = Literal["category", "benchmark"]
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def tool_errors(function: _F) -> _F:
    """Turns onebench's errors (bad arguments, unknown ids) into tool errors whose text
    reaches the model; anything else stays a crash that the SDK reports generically."""

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await function(*args, **kwargs)
        except (OnebenchError, ValueError) as error:
            raise ToolError(str(error)) from error

    return wrapper  # type: ignore[return-value]


class ToolSet:
    """Tools collected for ``MCPServer(tools=...)``, each rejecting unknown arguments: a
    misspelt ``benchmarks=`` must not silently rank the whole pool."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def tool(self, annotations: ToolAnnotations) -> Callable[[_F], _F]:
        def register(function: _F) -> _F:
            tool = Tool.from_function(tool_errors(function), annotations=annotations)
            self.tools.append(_strict(tool))
            return function

        return register

    @property
    def names(self) -> set[str]:
        return {tool.name for tool in self.tools}


def _strict(tool: Tool) -> Tool:
    loose = tool.fn_metadata.arg_model
    strict: type[ArgModelBase] = type(
        loose.__name__,
        (loose,),
        {
            "model_config": ConfigDict(**loose.model_config, extra="forbid"),
            "__module__": loose.__module__,
        },
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = strict.model_json_schema(by_alias=True)
    return tool
