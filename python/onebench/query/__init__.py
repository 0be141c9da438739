"""Capability querying: describe a capability in words (or show an image), get the samples
of the pool that test it as a :class:`Benchmark`, and rank models on exactly those.

Embeddings live in the pool directory (``embeddings/``), saved benchmarks in
``benchmarks/``; both are versioned files that the Rust store leaves alone. torch,
sentence-transformers, transformers and usearch (the ``query`` extra) load only when an
encoder or the ANN index is used; lexical search, filters and benchmarks work without them.
"""

from __future__ import annotations

from ._ann import IndexReport, build_ann
from ._benchmark import Benchmark
from ._embed import EmbedReport, embed_pool
from ._encoders import (
    DEFAULT_ENCODER,
    Encoder,
    encoder_kinds,
    load_encoder,
    register_encoder,
)
from ._filters import OPERATORS
from ._hybrid import HybridSettings
from ._query import DEFAULT_TOP_K, query_pool
from ._saved import delete_benchmark, list_benchmarks, load_benchmark, save_benchmark
from ._store import FIELDS, EmbeddingSet

__all__ = [
    "DEFAULT_ENCODER",
    "DEFAULT_TOP_K",
    "FIELDS",
    "OPERATORS",
    "Benchmark",
    "EmbedReport",
    "EmbeddingSet",
    "Encoder",
    "HybridSettings",
    "IndexReport",
    "build_ann",
    "delete_benchmark",
    "embed_pool",
    "encoder_kinds",
    "list_benchmarks",
    "load_benchmark",
    "load_encoder",
    "query_pool",
    "register_encoder",
    "save_benchmark",
]
