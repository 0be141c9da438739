"""Runners: generate model outputs for pool samples, locally, over HTTP or on Ray.

>>> from onebench.infer import load_runner                              # doctest: +SKIP
>>> runner = load_runner("transformers", "path/to/checkpoint", options={"max_new_tokens": 64})
>>> for generation in runner.generate([Prompt("q1", "What is 2 + 2?")]):
...     print(generation.text, generation.completion_tokens)

torch, transformers and ray (the ``infer`` extra) are imported only when a runner that
needs them is built.
"""

from __future__ import annotations

from ._http import HTTPRunner
from ._ray import RayRunner
from ._runner import (
    Generation,
    GenerationOptions,
    Prompt,
    Runner,
    load_runner,
    register_runner,
    runner_kinds,
)
from ._transformers import TransformersRunner, plan_batches

__all__ = [
    "Generation",
    "GenerationOptions",
    "HTTPRunner",
    "Prompt",
    "RayRunner",
    "Runner",
    "TransformersRunner",
    "load_runner",
    "plan_batches",
    "register_runner",
    "runner_kinds",
]
