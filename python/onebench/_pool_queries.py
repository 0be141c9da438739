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

        Options: ``image`` (query by an example image instead), ``top_k`` (default 100
        when no ``threshold``), ``threshold`` (a cosine similarity, or ``"default"``),
        ``where`` (metadata filters, e.g. ``{"category": "law"}`` or ``["year>=2020"]``),
        ``on`` (``text``, ``references``, ``image``; default: every embedded field),
        ``method`` (``semantic`` or ``lexical``), ``encoder``, ``index`` (``auto``,
        ``exact``, ``ann``), ``device``.
        """
        from .query import query_pool

        return query_pool(cast("Pool", self), text, **options)

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
