"""Runner profiles: the ways the server may run models, set by its operator at start-up.

An MCP client is not trusted with the server's host: it must not choose an endpoint (the
HTTP runner would send the API key there), an environment variable (any of the server's
secrets would do as a key), a folder of code to load, or ``trust_remote_code``. So the
operator names each way to run models once (``onebench serve --runner-profiles FILE``):
the runner kind, its settings (endpoint, key variable, concurrency, ...) and the
checkpoints clients may pick. evaluate_model then takes a profile's name, a checkpoint from
its list and generation options, nothing else.

The file is JSON or TOML, one table per profile::

    [openai]
    runner = "http"
    base_url = "https://api.openai.com/v1"
    api_key_env = "OPENAI_API_KEY"
    checkpoints = ["gpt-4o-mini", "gpt-4o"]
"""

from __future__ import annotations

import inspect
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import InvalidInputError
from ..infer._runner import runner_kinds

__all__ = ["RunnerProfile", "describe_profiles", "load_profiles"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RESERVED = ("runner", "checkpoints", "description")


def _accepted_settings(kind: str) -> set[str] | None:
    """The settings a built-in runner takes (None: a third-party kind, not checked here)."""
    from ..infer import HTTPRunner, RayRunner, TransformersRunner

    classes: dict[str, type] = {
        "http": HTTPRunner,
        "transformers": TransformersRunner,
        "ray": RayRunner,
    }
    if kind not in classes:
        return None
    parameters = inspect.signature(classes[kind]).parameters
    return set(parameters) - {"model", "options"}


@dataclass(frozen=True)
class RunnerProfile:
    """A way to run models: runner ``runner`` with ``settings``, on one of ``checkpoints``
    (what the runner loads or calls: API model names, checkpoint folders)."""

    runner: str
    checkpoints: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "checkpoints", tuple(self.checkpoints))
        object.__setattr__(self, "settings", dict(self.settings))
        if self.runner not in runner_kinds():
            raise InvalidInputError(
                f"runner: unknown runner {self.runner!r}; choose one of "
                f"{', '.join(runner_kinds())}",
                field="runner",
            )
        if not self.checkpoints or not all(
            isinstance(item, str) and item for item in self.checkpoints
        ):
            raise InvalidInputError(
                "checkpoints: list at least one checkpoint clients may run", field="checkpoints"
            )
        accepted = _accepted_settings(self.runner)
        for key in self.settings:
            if accepted is not None and key not in accepted:
                raise InvalidInputError(
                    f"{key}: not a setting of the {self.runner} runner (it takes "
                    f"{', '.join(sorted(accepted))})",
                    field=key,
                )

    def checkpoint(self, model: str, wanted: str | None) -> str:
        """The checkpoint to run: ``wanted`` if the profile lists it; by default ``model``
        when listed, else the profile's only checkpoint."""
        if wanted is None:
            if model in self.checkpoints:
                return model
            if len(self.checkpoints) == 1:
                return self.checkpoints[0]
        elif wanted in self.checkpoints:
            return wanted
        shown = ", ".join(repr(item) for item in self.checkpoints[:20])
        raise InvalidInputError(
            f"checkpoint: choose one of this profile's checkpoints: {shown}", field="checkpoint"
        )


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InvalidInputError(
            f"runner profile {name!r}: names are letters, digits, '.', '_' or '-'",
            field="runner_profiles",
        )


def _profile(name: str, table: Any) -> RunnerProfile:
    _check_name(name)
    if not isinstance(table, dict) or "runner" not in table:
        raise InvalidInputError(
            f"runner profile {name!r}: expected a table with 'runner' and 'checkpoints'",
            field="runner_profiles",
        )
    settings = {key: value for key, value in table.items() if key not in _RESERVED}
    checkpoints = table.get("checkpoints") or ()
    if isinstance(checkpoints, str):
        checkpoints = (checkpoints,)
    try:
        return RunnerProfile(
            str(table["runner"]),
            tuple(checkpoints),
            settings,
            str(table.get("description") or ""),
        )
    except InvalidInputError as error:
        raise InvalidInputError(
            f"runner profile {name!r}: {error}", field="runner_profiles"
        ) from error


def load_profiles(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, RunnerProfile]:
    """The profiles of a JSON or TOML file (or of an already-parsed mapping, whose values
    may also be RunnerProfile objects)."""
    if isinstance(source, Mapping):
        tables: Mapping[str, Any] = source
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
            tables = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as error:
            raise InvalidInputError(
                f"runner profiles: cannot read {str(path)!r}: {error}", field="runner_profiles"
            ) from error
        if not isinstance(tables, dict):
            raise InvalidInputError(
                "runner profiles: expected an object of profiles", field="runner_profiles"
            )
    profiles = {}
    for name, table in tables.items():
        if isinstance(table, RunnerProfile):
            _check_name(str(name))
            profiles[str(name)] = table
        else:
            profiles[str(name)] = _profile(str(name), table)
    return profiles


def describe_profiles(profiles: Mapping[str, RunnerProfile]) -> str:
    """One line per profile for the tool's description: name, runner, checkpoints."""
    lines = []
    for name, profile in profiles.items():
        shown = ", ".join(profile.checkpoints[:10])
        shown += " ..." if len(profile.checkpoints) > 10 else ""
        about = f" ({profile.description})" if profile.description else ""
        lines.append(f"'{name}': {profile.runner} runner{about}; checkpoints: {shown}")
    return "; ".join(lines)
