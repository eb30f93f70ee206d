"""Helpers for tests that start real processes: wait for a local OpenAI-protocol server,
count the answers a job has journaled in its request cache."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def wait_until_serving(url: str, proc: subprocess.Popen, seconds: float, name: str) -> None:
    """Poll `url/models` until it answers 200; fail the test if `proc` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    pytest.fail(f"{name} did not come up")


def journaled_answers(cache: Path) -> int:
    """Answers in a request cache (0 before the job has created it)."""
    if not cache.exists():
        return 0
    with sqlite3.connect(cache) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
