"""The runner interface: prompts in, outputs out, with token counts.

A runner is anything with ``kind``, ``model``, ``settings()``, ``generate(prompts)`` and
``close()``. Runners are registered factories (``@register_runner("kind")``), so the CLI,
the MCP server and third-party code build one from a kind name and keyword options.
torch, transformers and ray are imported only inside the factories that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..exceptions import InvalidInputError, OnebenchError

__all__ = [
    "Generation",
    "GenerationOptions",
    "Prompt",
    "Runner",
    "load_runner",
    "missing_extra",
    "register_runner",
    "runner_kinds",
    "truncate_at_stop",
]


@dataclass(frozen=True)
class GenerationOptions:
    """How to generate. ``temperature == 0`` means greedy decoding (the default), which
    makes a run reproducible; ``stop`` strings cut the output where they first appear."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise InvalidInputError("max_new_tokens: must be at least 1", field="max_new_tokens")
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise InvalidInputError(
                "temperature: must be a finite number >= 0", field="temperature"
            )
        if not 0 < self.top_p <= 1:
            raise InvalidInputError("top_p: must be in (0, 1]", field="top_p")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["stop"] = list(self.stop)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> GenerationOptions:
        values = dict(values or {})
        unknown = sorted(set(values) - {"max_new_tokens", "temperature", "top_p", "stop", "seed"})
        if unknown:
            raise InvalidInputError(
                f"generation options: unknown option {unknown[0]!r}", field=unknown[0]
            )
        if "stop" in values:
            values["stop"] = tuple(values["stop"] or ())
        return cls(**values)


@dataclass(frozen=True)
class Prompt:
    """One prompt: the sample it comes from and the user message to send."""

    sample_id: str
    text: str


@dataclass(frozen=True)
class Generation:
    """One output. ``seconds`` is this prompt's share of its batch's wall time; ``error``
    is set (and ``text`` empty) when the runner gave up on this prompt."""

    sample_id: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Runner(Protocol):
    """Generates outputs for prompts.

    ``generate`` may yield in any order and in pieces (a runner streams finished batches),
    but yields exactly one :class:`Generation` per prompt. ``settings()`` describes the
    runner for the run's header and must never contain secrets such as API keys.
    """

    #: The registered kind, e.g. ``"transformers"``.
    kind: str
    #: What the runner loads or calls (a checkpoint path, a hub name, an API model name).
    model: str
    options: GenerationOptions

    def settings(self) -> dict[str, Any]: ...

    def generate(self, prompts: Sequence[Prompt]) -> Iterator[Generation]: ...

    def close(self) -> None: ...


_FACTORIES: dict[str, Callable[..., Runner]] = {}


def register_runner(kind: str) -> Callable[[Callable[..., Runner]], Callable[..., Runner]]:
    """Registers ``factory(model, *, options, **settings) -> Runner`` under ``kind``."""

    def decorate(factory: Callable[..., Runner]) -> Callable[..., Runner]:
        _FACTORIES[kind] = factory
        return factory

    return decorate


def runner_kinds() -> list[str]:
    _register_builtins()
    return sorted(_FACTORIES)


def load_runner(
    kind: str,
    model: str,
    *,
    options: GenerationOptions | dict[str, Any] | None = None,
    **settings: Any,
) -> Runner:
    """Builds the runner of ``kind`` for ``model`` (see :func:`runner_kinds`)."""
    _register_builtins()
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise InvalidInputError(
            f"runner: unknown runner {kind!r}; choose one of {', '.join(sorted(_FACTORIES))}",
            field="runner",
        )
    if not isinstance(options, GenerationOptions):
        options = GenerationOptions.from_dict(options)
    return factory(model, options=options, **settings)


def missing_extra(error: ImportError, what: str) -> OnebenchError:
    return OnebenchError(
        f"{what} needs the 'infer' extra ({error.name or error}); "
        "install it with: pip install 'onebench[infer]'"
    )


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the first stop string, and whether one was found."""
    cut = min(
        (index for index in (text.find(word) for word in stop if word) if index >= 0), default=-1
    )
    return (text[:cut], True) if cut >= 0 else (text, False)


def _register_builtins() -> None:
    # The modules register their factories on import; none of them imports torch at
    # module level, so this is cheap.
    from . import _http, _ray, _transformers  # noqa: F401
