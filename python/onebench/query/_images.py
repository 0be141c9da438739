"""Image–text encoders (CLIP, SigLIP) through transformers, and sample images.

A sample carries an image through its ``image`` metadata value: a file path (absolute, or
relative to the pool directory) or a ``data:image/...;base64,`` URI. Images and text queries
land in the same space, so a text query finds images and an example image finds samples.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError, OnebenchError

__all__ = ["ImageTextEncoder", "image_text_encoder", "open_image"]

# CLIP cosine similarities are compressed (a matching caption scores ~0.3, unrelated ~0.15),
# so the threshold that keeps clear matches is lower than for sentence encoders.
_DEFAULT_THRESHOLD = 0.25


class ImageTextEncoder:
    """A CLIP or SigLIP checkpoint (hub name or local folder) loaded with transformers'
    ``AutoModel``; its tokenizer and image processor are loaded from the same folder."""

    modalities = frozenset({"text", "image"})

    def __init__(self, name: str, source: str, device: str | None) -> None:
        try:
            import torch
            from transformers import AutoImageProcessor, AutoModel, AutoTokenizer
        except ImportError as error:
            raise OnebenchError(
                f"image search needs the query extra ({error.name} is not installed): "
                "pip install 'onebench[query]'"
            ) from error
        from ._encoders import torch_device

        self._torch = torch
        self.name = name
        self.device = torch_device(device)
        self.model = AutoModel.from_pretrained(source).to(self.device).eval()
        if not hasattr(self.model, "get_text_features") or not hasattr(
            self.model, "get_image_features"
        ):
            raise InvalidInputError(
                f"encoder {name}: {type(self.model).__name__} is not an image-text model "
                "(expected CLIP or SigLIP)",
                field="encoder",
            )
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.processor = AutoImageProcessor.from_pretrained(source)
        config = self.model.config
        self.dimension = int(getattr(config, "projection_dim", 0) or config.text_config.hidden_size)
        text_config = getattr(config, "text_config", config)
        self._max_length = int(getattr(text_config, "max_position_embeddings", 77))
        self.default_threshold = _default_threshold(self.model)

    def _normalised(self, output: Any) -> np.ndarray:
        # transformers 5 returns a model output whose pooler_output is the projected
        # feature; transformers 4 returns the tensor itself.
        features = output if isinstance(output, self._torch.Tensor) else output.pooler_output
        features = features.float()
        features = features / features.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return features.cpu().numpy().astype(np.float32)

    def encode_texts(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), batch_size):
            inputs = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding="max_length" if "siglip" in self.name.lower() else True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            ).to(self.device)
            inputs.pop("token_type_ids", None)
            with self._torch.inference_mode():
                chunks.append(self._normalised(self.model.get_text_features(**inputs)))
        return _stack(chunks, self.dimension)

    def encode_images(self, images: Sequence[Any], *, batch_size: int) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = [open_image(image) for image in images[start : start + batch_size]]
            inputs = self.processor(images=batch, return_tensors="pt").to(self.device)
            with self._torch.inference_mode():
                chunks.append(self._normalised(self.model.get_image_features(**inputs)))
        return _stack(chunks, self.dimension)


def _default_threshold(model: Any) -> float:
    """SigLIP is trained with a sigmoid per pair, ``sigmoid(scale * cosine + bias)``, so its
    own calibration says where a text and an image start to match: the cosine at which that
    chance is one half. CLIP's softmax leaves no such point, so it gets a fixed value."""
    bias = getattr(model, "logit_bias", None)
    scale = getattr(model, "logit_scale", None)
    if bias is None or scale is None:
        return _DEFAULT_THRESHOLD
    cosine = -float(bias.detach().reshape(-1)[0]) / float(scale.detach().exp().reshape(-1)[0])
    return min(max(cosine, -1.0), 1.0)


def _stack(chunks: list[np.ndarray], dimension: int) -> np.ndarray:
    if not chunks:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.concatenate(chunks)


def image_text_encoder(kind: str) -> Any:
    """The factory for names ``kind:checkpoint`` (``clip:`` or ``siglip:``)."""

    def factory(model: str, device: str | None) -> ImageTextEncoder:
        return ImageTextEncoder(f"{kind}:{model}", model, device)

    return factory


def open_image(image: Any, base: Path | None = None) -> Any:
    """A PIL image, in RGB, from a PIL image, a path or a ``data:`` URI; a path that is not
    absolute is taken relative to ``base`` (the pool directory)."""
    try:
        from PIL import Image
    except ImportError as error:
        raise OnebenchError("images need Pillow: pip install 'onebench[query]'") from error
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, bytes):
        source: Any = io.BytesIO(image)
    elif isinstance(image, str) and image.startswith("data:"):
        _, _, payload = image.partition(",")
        source = io.BytesIO(base64.b64decode(payload))
    elif isinstance(image, str | Path):
        path = Path(image)
        source = path if path.is_absolute() or base is None else base / path
    else:
        raise InvalidInputError(
            f"image: expected a PIL image, a path or a data: URI, got {type(image).__name__}",
            field="image",
        )
    try:
        with Image.open(source) as opened:
            return opened.convert("RGB")
    except (OSError, ValueError) as error:
        raise InvalidInputError(
            f"image {str(image)[:80]!r}: cannot be read ({error})", field="image"
        ) from error
