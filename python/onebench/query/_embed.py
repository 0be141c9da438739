"""Embedding a pool: only samples without an embedding, in batches, committed in parts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidInputError
from ._encoders import (
    VARIANTS,
    Encoder,
    encoder_variant,
    load_encoder,
    normalise_encoder_name,
)
from ._store import EmbeddingSet, check_field

if TYPE_CHECKING:
    import pyarrow as pa

    from ..pool import Pool

__all__ = ["EmbedReport", "description", "embed_pool", "field_contents"]

# Rows per committed part: an interrupted run keeps everything up to the last part, and a
# part is small enough to write in a moment yet large enough to keep the part count low.
_PART_ROWS = 65_536
# More parts than this are merged into one after an embed: a search then makes one large
# matrix product (half the time of 16 products of 65,536 rows each, at 1M rows).
_MAX_PARTS = 4


@dataclass(frozen=True)
class EmbedReport:
    """What :meth:`Pool.embed` did for one field."""

    encoder: str
    field: str
    #: Samples embedded by this call.
    embedded: int
    #: Samples that already had an embedding (not recomputed).
    already: int
    #: Samples with nothing to embed in this field (no text, no reference, no image).
    empty: int
    seconds: float

    @property
    def samples_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else float("nan")


def field_contents(table: pa.Table, field: str) -> tuple[list[str], list[Any]]:
    """The sample ids that have content in ``field`` and that content: the prompt text,
    the references joined by newlines, the ``image`` metadata value, or a description
    (``benchmark: mmlu_pro; category: law; ...``)."""
    ids = table.column("sample_id").to_pylist()
    if check_field(field) == "text":
        values: list[Any] = table.column("text").to_pylist()
    elif field == "references":
        values = ["\n".join(refs or []) for refs in table.column("references").to_pylist()]
    elif field == "image":
        values = [
            json.loads(raw).get("image") if raw else None
            for raw in table.column("metadata").to_pylist()
        ]
    else:
        values = [
            description(benchmark, raw)
            for benchmark, raw in zip(
                table.column("benchmark").to_pylist(),
                table.column("metadata").to_pylist(),
                strict=True,
            )
        ]
    kept = [(i, v) for i, v in zip(ids, values, strict=True) if v]
    return [i for i, _ in kept], [v for _, v in kept]


def description(benchmark: str | None, raw: str | None) -> str:
    """What the sample's labels say it tests: its benchmark and short text metadata
    (numbers, long texts and images say little about a capability and are left out)."""
    pairs = [("benchmark", benchmark)] if benchmark else []
    metadata = json.loads(raw) if raw else {}
    pairs += [
        (key, value)
        for key, value in sorted(metadata.items())
        if isinstance(value, str) and key != "image" and 0 < len(value) <= 200
    ]
    return "; ".join(f"{key}: {value}" for key, value in pairs)


def embed_pool(
    pool: Pool,
    encoder: str | Encoder | None = None,
    *,
    fields: Sequence[str] = ("text",),
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = True,
    samples: Any = None,
    variant: str | None = None,
) -> list[EmbedReport]:
    if isinstance(fields, str):
        fields = (fields,)
    if batch_size <= 0:
        raise InvalidInputError("batch_size: must be > 0", field="batch_size")
    for field in fields:
        check_field(field)
    if variant is not None and variant not in VARIANTS:
        raise InvalidInputError(
            f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}", field="variant"
        )
    models = [_field_encoder(pool, encoder, field, device, variant) for field in fields]
    for model, field in zip(models, fields, strict=True):
        if field == "image" and "image" not in model.modalities:
            raise InvalidInputError(
                f"fields: encoder {model.name} cannot embed images; use "
                "encoder='clip:<checkpoint>'",
                field="fields",
            )
    table = pool.samples()
    if samples is not None:
        # Only these samples (e.g. one benchmark's): an error names an unknown id.
        table = table.take(np.sort(pool.sample_indexes(samples)))
    return [
        _embed_field(pool, model, table, field, batch_size, progress)
        for model, field in zip(models, fields, strict=True)
    ]


def _field_encoder(
    pool: Pool, encoder: str | Encoder | None, field: str, device: str | None, variant: str | None
) -> Encoder:
    """The encoder for one field: a set keeps the variant that made its first vectors, so
    that vectors of two variants never sit in one matrix."""
    name = encoder.name if isinstance(encoder, Encoder) else normalise_encoder_name(encoder)
    stored = EmbeddingSet(pool.path, name, field).variant()
    wanted = encoder_variant(encoder) if isinstance(encoder, Encoder) else variant
    if stored is not None and wanted is not None and wanted != stored:
        raise InvalidInputError(
            f"variant: the pool's {field} embeddings of {name} were made by its {stored} "
            f"variant, and {wanted} vectors must not be mixed with them; embed with "
            f"variant={stored!r} (--variant {stored}), or delete "
            f"{EmbeddingSet(pool.path, name, field).directory} and embed again",
            field="variant",
        )
    if isinstance(encoder, Encoder):
        return encoder
    return load_encoder(name, device, stored or variant)


def _embed_field(
    pool: Pool, model: Encoder, table: pa.Table, field: str, batch_size: int, progress: bool
) -> EmbedReport:
    started = time.perf_counter()
    embedding_set = EmbeddingSet(pool.path, model.name, field)
    ids, contents = field_contents(table, field)
    with embedding_set.writer() as writer:
        done = embedding_set.embedded_ids()
        todo = [index for index, sample_id in enumerate(ids) if sample_id not in done]
        if field != "image":
            # Similar lengths in a batch waste less padding; longest first so that a batch
            # too large for the device fails at once, not after an hour.
            todo.sort(key=lambda index: -len(contents[index]))
        info = {
            "modalities": sorted(model.modalities),
            "dimension": model.dimension,
            "variant": encoder_variant(model),
        }
        bar = _progress_bar(len(todo), f"embedding {field} ({model.name})", progress)
        with bar:
            for start in range(0, len(todo), _PART_ROWS):
                part = todo[start : start + _PART_ROWS]
                vectors = np.empty((len(part), model.dimension), dtype=np.float16)
                step = batch_size * 8
                for offset in range(0, len(part), step):
                    batch = [contents[index] for index in part[offset : offset + step]]
                    if field == "image":
                        batch = [_resolve_image(value, pool) for value in batch]
                        encoded = model.encode_images(batch, batch_size=batch_size)
                    else:
                        encoded = model.encode_texts(batch, batch_size=batch_size)
                    vectors[offset : offset + len(batch)] = encoded
                    bar.update(len(batch))
                writer.append([ids[index] for index in part], vectors, info)
        if writer.part_count() > _MAX_PARTS:
            writer.merge()
    return EmbedReport(
        encoder=model.name,
        field=field,
        embedded=len(todo),
        already=len(ids) - len(todo),
        empty=table.num_rows - len(ids),
        seconds=time.perf_counter() - started,
    )


def _progress_bar(total: int, label: str, show: bool) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the bar is a nicety; embedding works without it
        from contextlib import nullcontext

        class _Silent(nullcontext):  # type: ignore[type-arg]
            def update(self, count: int) -> None:
                pass

        return _Silent()
    return tqdm(
        total=total, unit="sample", desc=label, disable=not show or not total, file=sys.stderr
    )


def _resolve_image(value: Any, pool: Pool) -> Any:
    from ._images import open_image

    return open_image(value, base=pool.path)
