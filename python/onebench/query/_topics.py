"""A capability map: the pool's text embeddings clustered into topics, each labelled from
its own samples' words (class-based TF-IDF, as BERTopic does: Grootendorst, "BERTopic",
arXiv:2203.05794) and metadata (the label most of its samples carry, and their sources).

The map is saved as ``topics/<encoder key>.json`` in the pool. Short queries ("medicine
and health") are routed through it: each topic's words are embedded once, and samples of
the topics whose words the query is nearest to rank higher (see ``_hybrid``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import write_atomic
from ..exceptions import CorruptPoolError, InvalidInputError

if TYPE_CHECKING:
    from pathlib import Path

    from ..pool import Pool

__all__ = ["build_topics", "load_topics", "topic_count"]

_LOADED: dict[str, tuple[int, dict[str, Any]]] = {}
_FORMAT = "onebench.topics"
_VERSION = 1
_WORDS = 6
_FIT_ROWS = 20_000
# Words that say nothing about a topic: English function words, the words of the prompt
# templates that sources share ("question", "answer", "options") and of LaTeX markup.
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our out over own same
    she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours one two three four five first second following given
    answer question options option choose correct best true false statement which use used
    using each many much may might must shall let us get got make made new like well also
    cannot per approximately calculate find value following mathrm frac text times""".split()
)
_TOKEN = re.compile(r"[a-z][a-z-]{2,}")


def topic_count(samples: int) -> int:
    """About one topic per 300 samples, between 2 and 48: few enough to read as a map."""
    return max(2, min(48, round(samples / 300)))


def _kmeans(vectors: np.ndarray, k: int, seed: int = 0, passes: int = 25) -> np.ndarray:
    """Spherical k-means (k-means++ start, cosine assignment); returns unit centroids."""
    rng = np.random.default_rng(seed)
    fit = vectors if len(vectors) <= _FIT_ROWS else vectors[rng.choice(len(vectors), _FIT_ROWS)]
    centroids = [fit[rng.integers(len(fit))]]
    distance = 1.0 - fit @ centroids[0]
    for _ in range(1, k):
        weights = np.maximum(distance, 0) ** 2
        total = weights.sum()
        pick = rng.choice(len(fit), p=weights / total) if total > 0 else rng.integers(len(fit))
        centroids.append(fit[pick])
        distance = np.minimum(distance, 1.0 - fit @ fit[pick])
    centre = np.stack(centroids)
    for _ in range(passes):
        assigned = (fit @ centre.T).argmax(axis=1)
        moved = np.stack(
            [
                fit[assigned == c].sum(axis=0) if (assigned == c).any() else centre[c]
                for c in range(k)
            ]
        )
        moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
        if np.allclose(moved, centre, atol=1e-5):
            break
        centre = moved
    return centre.astype(np.float32)


def class_tfidf(texts_by_topic: list[list[str]], words: int = _WORDS) -> list[list[str]]:
    """The ``words`` most distinctive words of each topic: tf within the topic times
    log(1 + A / f), A the mean word count per topic and f the word's count in all."""
    counts = [
        Counter(w for t in texts for w in _TOKEN.findall(t.lower()) if w not in _STOP)
        for texts in texts_by_topic
    ]
    overall: Counter[str] = Counter()
    for count in counts:
        overall.update(count)
    average = sum(overall.values()) / max(len(counts), 1)
    tops = []
    for count, texts in zip(counts, texts_by_topic, strict=True):
        total = sum(count.values()) or 1
        # In a topic of many texts, a word seen once is noise (a name, a typo).
        least = 2 if len(texts) >= 20 else 1
        scored = {
            w: (c / total) * math.log(1 + average / overall[w])
            for w, c in count.items()
            if c >= least
        }
        tops.append(
            [w for w, _ in sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:words]]
        )
    return tops


def build_topics(
    pool: Pool, *, encoder: str | None = None, topics: int | None = None
) -> dict[str, Any]:
    """Clusters the pool's text embeddings into ``topics`` topics (default: about one per
    300 samples), labels them and saves the map; returns it."""
    from ._encoders import load_encoder, normalise_encoder_name
    from ._search import field_matrix
    from ._store import EmbeddingSet, encoder_key
    from ._view import sample_view

    name = normalise_encoder_name(encoder)
    view = sample_view(pool)
    embedding_set = EmbeddingSet(pool.path, name, "text")
    matrix = field_matrix(embedding_set, view)
    if matrix is None:
        raise InvalidInputError(
            f"the pool has no text embeddings for encoder {name}: run `onebench embed` first",
            field="encoder",
        )
    rows = np.flatnonzero(matrix.row_samples >= 0)
    samples = matrix.row_samples[rows]
    vectors = np.concatenate([np.asarray(p.vectors, dtype=np.float32) for p in matrix.parts])[rows]
    k = topic_count(len(rows)) if topics is None else topics
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= min(256, len(rows)):
        raise InvalidInputError(
            f"topics: between 2 and {min(256, len(rows))} for this pool, got {topics!r}",
            field="topics",
        )
    centroids = _kmeans(vectors, k)
    assigned = (vectors @ centroids.T).argmax(axis=1)
    texts = view.column_values("text")
    members = [samples[assigned == c] for c in range(k)]
    words = class_tfidf([[texts[s] or "" for s in group] for group in members])
    label_key = next((key for key in ("category", "subject") if view.knows(key)), None)
    labels = view.column(label_key) if label_key else None
    benchmarks = view.column_values("benchmark")
    entries = []
    for c, group in enumerate(members):
        entry: dict[str, Any] = {"topic": c, "size": len(group), "words": words[c]}
        sources = Counter(benchmarks[s] for s in group).most_common(3)
        entry["benchmarks"] = {str(b): n for b, n in sources}
        if labels is not None and label_key is not None and len(group):
            value, count = Counter(labels[s] for s in group).most_common(1)[0]
            if value is not None:
                entry[label_key] = {"value": value, "share": round(count / len(group), 3)}
        entry["label"] = _label(entry, label_key)
        entries.append(entry)
    model = load_encoder(name, None, embedding_set.variant())
    descriptors = model.encode_texts([" ".join(e["words"]) for e in entries], batch_size=64)
    order = sorted(range(k), key=lambda c: -entries[c]["size"])
    renumber = {old: new for new, old in enumerate(order)}
    document = {
        "format": _FORMAT,
        "version": _VERSION,
        "encoder": name,
        "variant": embedding_set.variant(),
        "pool_version": pool.version,
        "samples": len(rows),
        "topics": [{**entries[old], "topic": renumber[old]} for old in order],
        "descriptors": [np.round(descriptors[old], 5).tolist() for old in order],
        "assignment": {
            view.ids[s]: renumber[int(c)] for s, c in zip(samples, assigned, strict=True)
        },
    }
    path = pool.path / "topics" / f"{encoder_key(name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document).encode())
    return document


def _label(entry: dict[str, Any], label_key: str | None) -> str:
    words = ", ".join(entry["words"][:4]) or "(no distinctive words)"
    labelled = entry.get(label_key) if label_key else None
    if labelled and labelled["share"] >= 0.5:
        return f"{labelled['value']}: {words}"
    return words


def load_topics(pool_path: Path, encoder: str | None = None) -> dict[str, Any] | None:
    """The saved capability map of the encoder's embeddings, or None when there is none."""
    from ._encoders import normalise_encoder_name
    from ._store import encoder_key

    path = pool_path / "topics" / f"{encoder_key(normalise_encoder_name(encoder))}.json"
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    cached = _LOADED.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]  # one parse per saved map, not one per query
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as error:
        raise CorruptPoolError(f"{path}: not JSON ({error})", path=str(path)) from error
    if document.get("format") != _FORMAT or document.get("version", 0) > _VERSION:
        raise CorruptPoolError(f"{path}: not an onebench capability map", path=str(path))
    _LOADED[str(path)] = (stamp, document)
    return document
