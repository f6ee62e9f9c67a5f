"""One way for tests to load an example script as a module (examples/ is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(file: str, name: str | None = None) -> ModuleType:
    """examples/<file> imported as the module `name` (default: the file's stem), registered
    in sys.modules: dataclasses look their module up while being made."""
    path = EXAMPLES / file
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
