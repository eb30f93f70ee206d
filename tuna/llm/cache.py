"""Persistent request journal: every answer is stored the moment it arrives.

A SQLite file keyed by a hash of the full request (provider, model, prompt,
sampling parameters, seed, sample index). A killed job resumes where it stopped,
a rerun of a finished stage makes zero requests, and parallel jobs may share one
file: WAL mode lets readers and one writer at a time proceed, and each answer is
its own short transaction (`busy_timeout` makes concurrent writers wait, not fail).
Failed requests are not stored, so a rerun retries them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

DEFAULT_PATH = Path(".tuna-cache") / "requests.sqlite"
ENV_VAR = "TUNA_CACHE"


def default_path() -> Path:
    """`$TUNA_CACHE`, else `.tuna-cache/requests.sqlite` in the working directory."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def request_key(request: dict) -> str:
    """A stable hash of a JSON-able request description."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """Answers by request key, in a SQLite file shared by every stage and job."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every put is durable on its own; the event loop thread is the only user.
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives kill -9, fast commits
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, request TEXT NOT NULL, "
            "answer TEXT NOT NULL, created REAL NOT NULL)"
        )

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, answer in self._db.execute(f"SELECT key, answer FROM answers WHERE key IN ({marks})", chunk):
                found[key] = json.loads(answer)
        return found

    def put(self, key: str, request: dict, answer: dict) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
            (key, json.dumps(request, ensure_ascii=False), json.dumps(answer, ensure_ascii=False), time.time()),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        self._db.close()
