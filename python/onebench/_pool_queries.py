"""Capability queries and saved benchmarks of a pool, as a mixin of :class:`onebench.Pool`.

The work is in onebench.query, imported per call: torch loads only for semantic search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pathlib import Path

    from .pool import Pool
    from .query import Benchmark, EmbedReport, IndexReport
    from .query._labels import LabelReport

__all__ = ["PoolQueries"]


class PoolQueries:
    # Only Pool mixes this in; what it needs from Pool is declared for the type checker alone.
    if TYPE_CHECKING:

        @property
        def path(self) -> Path: ...

    def embed(
        self,
        encoder: Any = None,
        *,
        fields: Sequence[str] | str = ("text",),
        batch_size: int = 64,
        device: str | None = None,
        progress: bool = True,
        samples: Any = None,
        variant: str | None = None,
    ) -> list[EmbedReport]:
        """Embeds the samples that have no embedding yet (``fields``: ``text``,
        ``references``, ``image``) with ``encoder`` (default all-MiniLM-L6-v2; any
        sentence-transformers name or path, or ``clip:<checkpoint>``), on the GPU when
        present, and stores them in the pool as float16. ``samples`` (ids or a
        Benchmark) limits the work to those samples. ``variant``: ``"onnx-int8"`` (the
        default on a CPU when onnxruntime is installed: the default encoder through ONNX
        Runtime with int8 weights, several times faster) or ``"float32"``; a field that
        already has embeddings keeps the variant that made them."""
        from .query import embed_pool

        return embed_pool(
            cast("Pool", self),
            encoder,
            fields=fields,
            batch_size=batch_size,
            device=device,
            progress=progress,
            samples=samples,
            variant=variant,
        )

    def build_index(
        self, encoder: str | None = None, *, fields: Sequence[str] | str = ("text",)
    ) -> list[IndexReport]:
        """Builds the approximate (usearch HNSW) index over the stored embeddings."""
        from .query import EmbeddingSet, build_ann
        from .query._encoders import normalise_encoder_name

        name = normalise_encoder_name(encoder)
        names = [fields] if isinstance(fields, str) else list(fields)
        return [build_ann(EmbeddingSet(self.path, name, field)) for field in names]

    def query(self, text: str | None = None, **options: Any) -> Benchmark:
        """The samples that test what ``text`` describes, as a :class:`Benchmark`.

        Options: ``image`` (query by an example image instead), ``top_k``,
        ``threshold`` (a cosine similarity, or ``"default"``); with neither, the benchmark
        is cut where the ranking's scores split in two (Otsu; recorded as ``cutoff`` in
        ``benchmark.query``), and a query that nothing in the pool matches well returns no
        samples and says so (``benchmark.query["note"]``, and a warning). ``where``
        (metadata filters, e.g. ``{"category": "law"}`` or ``["year>=2020"]``; a label
        key also matches confident inferred labels, see :meth:`propagate_labels`), ``on``
        (``text``, ``references``, ``image``; default: every embedded field), ``method``
        (``hybrid``, the default: dense and BM25 fused by reciprocal rank, one round of
        pseudo-relevance feedback, and the samples' labels and the capability map's
        topics; ``semantic``: the dense similarity alone; ``lexical``: BM25 alone, no
        embeddings needed), ``settings`` (a :class:`onebench.query.HybridSettings`: the
        hybrid method's weights; BM25 and topic routing are off by default), ``encoder``,
        ``index`` (``auto``, ``exact``, ``ann``), ``device``.
        """
        from .query import query_pool

        return query_pool(cast("Pool", self), text, **options)

    def propagate_labels(
        self,
        key: str = "category",
        *,
        encoder: str | None = None,
        neighbours: int | None = None,
        min_confidence: float | None = None,
    ) -> LabelReport:
        """Infers the metadata label ``key`` for every embedded sample without one, from its
        nearest labelled neighbours (text embeddings), with a confidence; saved in the pool
        as ``<key>_inferred`` / ``<key>_confidence`` beside the source's own labels, never
        over them. Filters and queries on ``key`` then also match samples whose inferred
        label has at least ``min_confidence``."""
        from .query._labels import DEFAULT_NEIGHBOURS, MIN_CONFIDENCE, propagate_labels

        return propagate_labels(
            cast("Pool", self),
            key,
            encoder=encoder,
            neighbours=DEFAULT_NEIGHBOURS if neighbours is None else neighbours,
            min_confidence=MIN_CONFIDENCE if min_confidence is None else min_confidence,
        )

    def topics(
        self, *, encoder: str | None = None, rebuild: bool = False, topics: int | None = None
    ) -> dict[str, Any]:
        """The capability map: the pool's text embeddings clustered into topics, each with
        its size, distinctive words, main label and sources. Built and saved in the pool
        on first use (or when ``rebuild``, or when ``topics`` asks for another count);
        hybrid queries of a few words are routed through it."""
        from .query._topics import build_topics, load_topics

        saved = None if rebuild else load_topics(self.path, encoder)
        if saved is not None and (topics is None or len(saved["topics"]) == topics):
            return saved
        return build_topics(cast("Pool", self), encoder=encoder, topics=topics)

    def save_benchmark(
        self, benchmark: Benchmark, name: str | None = None, *, overwrite: bool = False
    ) -> Benchmark:
        """Saves ``benchmark`` in the pool (``benchmarks/<name>.json``)."""
        from .query import save_benchmark

        return save_benchmark(cast("Pool", self), benchmark, name, overwrite=overwrite)

    def benchmark(self, name: str) -> Benchmark:
        """The saved benchmark called ``name``."""
        from .query import load_benchmark

        return load_benchmark(cast("Pool", self), name)

    def benchmarks(self) -> list[str]:
        """Names of the saved benchmarks."""
        from .query import list_benchmarks

        return list_benchmarks(cast("Pool", self))

    def delete_benchmark(self, name: str) -> None:
        from .query import delete_benchmark

        delete_benchmark(cast("Pool", self), name)
