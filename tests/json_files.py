"""Write JSON and JSON-lines input files for a test (shared by the tests that feed files to tuna)."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(path: Path, data, indent: int | None = None) -> Path:
    """`data` as one JSON document (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent))
    return path


def write_jsonl(path: Path, rows) -> Path:
    """One JSON document per line (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
