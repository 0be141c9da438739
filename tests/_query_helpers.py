"""A deterministic, torch-free encoder for query tests, and a small pool to search.

Hashed bag of words: texts that share words have a positive cosine similarity, texts
that share none score 0. It goes through the same registry as the real encoders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import onebench
from onebench.query import register_encoder

DIMENSION = 4096


class BagOfWords:
    modalities = frozenset({"text"})
    default_threshold = 0.2

    def __init__(self, name: str = "bow:test") -> None:
        self.name = name
        self.dimension = DIMENSION
        self.calls: list[int] = []

    def encode_texts(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % DIMENSION] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_images(self, images: Sequence[Any], *, batch_size: int) -> np.ndarray:
        raise AssertionError("text only")


_SHARED = BagOfWords()


@register_encoder("bow")
def _bag_of_words(model: str, device: str) -> BagOfWords:
    return _SHARED


ENCODER = "bow:test"

TOPICS = {
    "law": [
        "contract breach court ruling",
        "negligence tort liability court",
        "statute appeal judge",
    ],
    "chemistry": [
        "organic reaction mechanism",
        "acid base titration molarity",
        "covalent bond orbital",
    ],
    "math": [
        "integral derivative calculus",
        "prime number theorem proof",
        "matrix eigenvalue algebra",
    ],
}


def topic_pool(path: Any) -> onebench.Pool:
    """Nine samples in three topics, two models: 'lawyer' is right on law, 'chemist' on
    chemistry, both on half of math."""
    pool = onebench.Pool.create(path)
    rows = [
        (f"{topic}/{i}", topic, text, i)
        for topic, texts in TOPICS.items()
        for i, text in enumerate(texts)
    ]
    pool.add_samples(
        {
            "sample_id": [r[0] for r in rows],
            "benchmark": ["toy"] * len(rows),
            "text": [r[2] for r in rows],
            "reference": [f"answer about {r[1]}" for r in rows],
            "category": [r[1] for r in rows],
            "difficulty": [r[3] for r in rows],
        }
    )
    pool.add_models(["lawyer", "chemist"])
    scores = {
        "law": (1, 0),
        "chemistry": (0, 1),
        "math": (1, 1),
    }
    pool.add_measurements(
        {
            "sample_id": [r[0] for r in rows for _ in (0, 1)],
            "model": ["lawyer", "chemist"] * len(rows),
            "score": [s for r in rows for s in (scores[r[1]] if r[3] != 1 else (0, 0))],
        },
        kind="binary",
    )
    return pool
