"""One identity for models: names normalised into proposals, never merged silently.

Sources spell one model many ways (``gpt4o``, ``gpt-4o-2024-05-13``, ``GPT-4o``,
``openai/gpt-4o``). :func:`name_key` strips what does not change the model (case,
organisation prefix, separators, quantisation and format suffixes); :func:`suggest`
groups names whose keys agree, also after dropping a date suffix when that leaves no
two different dates in one group. A proposal only becomes identity when the user
confirms it: ``onebench models alias``, or a mapping file (:class:`ModelMapping`) given
to ``onebench import --models``. A name both sides already measured as two models
cannot be merged in place (measurements are append-only); a proposal says so.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .exceptions import InvalidInputError

__all__ = ["MAPPING_FORMAT", "ModelMapping", "Proposal", "date_suffix", "name_key", "suggest"]

MAPPING_FORMAT = "onebench-model-mapping"
_MAPPING_VERSION = 1

_SEPARATORS = re.compile(r"[\s\-_.:/@]+")
# Suffixes that name a packaging of the weights, not another model.
_PACKAGING = re.compile(
    r"[-_.@](gguf|ggml|awq|gptq|exl2|mlx|onnx|hf|int4|int8|fp8|fp16|bf16|4bit|8bit"
    r"|q[2-8](_k)?(_[sml])?|q[2-8]_[01])$",
    re.IGNORECASE,
)
# A release date: 2024-05-13, 20240513, 2024_05_13, or a month-day such as 0613.
_DATE = re.compile(r"[-_.@](20\d\d[-_.]?[01]\d[-_.]?[0-3]\d|[01]\d[0-3]\d)$")


def _strip_packaging(name: str) -> str:
    while True:
        stripped = _PACKAGING.sub("", name)
        if stripped == name:
            return name
        name = stripped


def _base(name: str) -> str:
    # "meta-llama/Llama-3-8B" and "openai/gpt-4o": the organisation is not the model.
    return _strip_packaging(name.strip().rsplit("/", 1)[-1])


def date_suffix(name: str) -> str | None:
    """The release date a name ends with (digits only), if any."""
    match = _DATE.search(_base(name))
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    month, day = (digits[-4:-2], digits[-2:])
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return digits


def name_key(name: str, *, without_date: bool = False) -> str:
    """The normalised form of a model name: lower case, no organisation prefix, no
    separators, no quantisation/format suffix (and, if asked, no date suffix)."""
    base = _base(name)
    if without_date and date_suffix(name) is not None:
        base = _strip_packaging(_DATE.sub("", base))
    return _SEPARATORS.sub("", base).lower()


@dataclass(frozen=True)
class Proposal:
    """Names that look like one model: ``model`` (the proposed identity) and
    ``aliases``. ``applicable`` is False when two of them already hold measurements
    as separate models (they can then only be merged by a re-import with a mapping)."""

    model: str
    aliases: tuple[str, ...]
    reason: str
    applicable: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "aliases": list(self.aliases),
            "reason": self.reason,
            "applicable": self.applicable,
        }


def suggest(
    pool_models: dict[str, list[str]],
    incoming: Iterable[str] = (),
    measurements: dict[str, int] | None = None,
) -> list[Proposal]:
    """Proposals grouping pool models (id → aliases) and ``incoming`` names that look
    alike. Names already one model (an id and its alias) are not proposed again.

    The proposed identity is a pool model if there is one, the one with the most
    ``measurements`` first; otherwise the longest (most specific) name.
    """
    owner: dict[str, str] = {}
    for model, aliases in pool_models.items():
        owner[model] = model
        for alias in aliases:
            owner[alias] = model
    names = sorted(set(owner) | set(incoming))
    counts = measurements or {}
    # Union-find over names: joined when their keys agree exactly, or agree without a
    # date suffix in a group that holds at most one date (two snapshots of one family,
    # gpt-4-0314 and gpt-4-0613, are two models).
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for without_date in (False, True):
        groups: dict[str, list[str]] = defaultdict(list)
        for name in names:
            groups[name_key(name, without_date=without_date)].append(name)
        for members in groups.values():
            if without_date and len({date_suffix(name) for name in members} - {None}) > 1:
                continue
            for name in members[1:]:
                parent[root(name)] = root(members[0])
    components: dict[str, list[str]] = defaultdict(list)
    for name in names:
        components[root(name)].append(name)
    proposals = [
        _proposal(members, owner, counts)
        for members in components.values()
        if len({owner.get(name, name) for name in members}) > 1
    ]
    return sorted(proposals, key=lambda proposal: proposal.model.lower())


def _proposal(members: list[str], owner: dict[str, str], counts: dict[str, int]) -> Proposal:
    in_pool = sorted(
        {owner[name] for name in members if name in owner},
        key=lambda model: (-counts.get(model, 0), -len(model), model),
    )
    model = in_pool[0] if in_pool else max(members, key=lambda name: (len(name), name))
    aliases = tuple(
        sorted(name for name in members if owner.get(name, name) != model and name != model)
    )
    # Two pool models that both hold measurements cannot become one in place.
    measured = [name for name in in_pool if counts.get(name, 0) > 0]
    reason = "same name up to case, separators, organisation and packaging"
    if len({name_key(name) for name in members}) > 1:
        reason += ", and a date suffix"
    return Proposal(model, aliases, reason, applicable=len(measured) <= 1)


class ModelMapping:
    """Confirmed identities: each alias to its model. On disk, a versioned JSON file::

    {"format": "onebench-model-mapping", "version": 1,
     "models": {"gpt-4o-2024-05-13": ["gpt4o", "GPT-4o"]}}
    """

    def __init__(self, models: dict[str, list[str]] | None = None) -> None:
        self.models: dict[str, list[str]] = {}
        self._canonical: dict[str, str] = {}
        for model, aliases in (models or {}).items():
            self.add(model, aliases)

    def add(self, model: str, aliases: Iterable[str]) -> None:
        for alias in aliases:
            known = self._canonical.get(alias)
            if alias == model:
                continue
            if known is not None and known != model:
                raise InvalidInputError(
                    f"models: alias {alias!r} is mapped to both {known!r} and {model!r}",
                    field="models",
                )
            if alias in self.models:
                raise InvalidInputError(
                    f"models: {alias!r} is a model of the mapping and cannot be an alias",
                    field="models",
                )
            self._canonical[alias] = model
            self.models.setdefault(model, [])
            if alias not in self.models[model]:
                self.models[model].append(alias)
        self.models.setdefault(model, [])

    def canonical(self, name: str) -> str | None:
        """The model ``name`` is an alias of (or is), or None if the mapping lacks it."""
        if name in self.models:
            return name
        return self._canonical.get(name)

    def __len__(self) -> int:
        return len(self._canonical)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ModelMapping:
        from .importers._files import file_error, json_document

        path = Path(path)
        document = json_document(path)
        if not isinstance(document, dict) or document.get("format") != MAPPING_FORMAT:
            raise file_error(path, f'not a model mapping (expected "format": "{MAPPING_FORMAT}")')
        if document.get("version") != _MAPPING_VERSION:
            raise file_error(path, f"unsupported mapping version {document.get('version')!r}")
        models = document.get("models")
        if not isinstance(models, dict) or not all(
            isinstance(aliases, list) and all(isinstance(alias, str) for alias in aliases)
            for aliases in models.values()
        ):
            raise file_error(path, '"models" must map each model to a list of alias names')
        try:
            return cls(models)
        except InvalidInputError as error:
            raise file_error(path, str(error)) from None

    def save(self, path: str | os.PathLike[str]) -> None:
        document = {
            "format": MAPPING_FORMAT,
            "version": _MAPPING_VERSION,
            "models": {model: sorted(aliases) for model, aliases in sorted(self.models.items())},
        }
        Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
