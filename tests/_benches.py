"""Loading a script of ``benches/`` as a module, for the tests that check its figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["load_bench"]


def load_bench(name: str) -> ModuleType:
    """``benches/<name>.py`` imported as the module ``name``."""
    path = Path(__file__).parents[1] / "benches" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses resolve their annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
