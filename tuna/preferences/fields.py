"""Values of a row of preference data found by the config's dotted paths, checked as they are read.

A path is `a.b.c` into nested objects; a number indexes a list (`-1`: its last item);
one `*` walks a list and gives a list (`completions.*.overall_score`). A text is a string
or TRL's conversational form: a list of `{role, content}` messages. Every error names the
row (`file:line`) and the concrete field (`completions.2.overall_score`).
"""

from __future__ import annotations

import math

from tuna.errors import TunaError


def lookup(row: object, path: str, where: str) -> object:
    """The value at `path` in `row` (a list of values where the path has a `*`)."""
    return _walk(row, path.split("."), [], where)


def _walk(value: object, parts: list[str], seen: list[str], where: str) -> object:
    for index, part in enumerate(parts):
        field = ".".join(seen)
        if part == "*":
            if not isinstance(value, list):
                raise TunaError(f"{where}: field '{field}': expected a list, got {_kind(value)}")
            return [_walk(item, parts[index + 1:], [*seen, str(k)], where) for k, item in enumerate(value)]
        seen = [*seen, part]
        if isinstance(value, dict):
            if part not in value:
                raise TunaError(f"{where}: field '{'.'.join(seen)}': missing")
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            if not -len(value) <= int(part) < len(value):
                raise TunaError(f"{where}: field '{'.'.join(seen)}': no such item ({len(value)} in the list)")
            value = value[int(part)]
        else:
            raise TunaError(f"{where}: field '{field or 'row'}': expected an object with '{part}', got {_kind(value)}")
    return value


def lookup_list(row: object, path: str, where: str) -> list:
    value = lookup(row, path, where)
    if not isinstance(value, list):
        raise TunaError(f"{where}: field '{path}': expected a list, got {_kind(value)}")
    return value


def prompt_text(value: object, field: str, where: str) -> str:
    """A prompt: a string, or a conversation of one user turn (tuna trains on single-turn instructions)."""
    if isinstance(value, list):
        messages = _messages(value, field, where)
        if len(messages) != 1 or messages[0]["role"] != "user":
            roles = ", ".join(m["role"] for m in messages) or "none"
            raise TunaError(f"{where}: field '{field}': expected one user turn, got turns of {roles}")
        return messages[0]["content"]
    return _string(value, field, where)


def response_text(value: object, field: str, where: str) -> str:
    """A response: a string, or a conversation whose last turn is the assistant's (TRL's implicit prompt
    repeats the user turn before it)."""
    if isinstance(value, list):
        messages = _messages(value, field, where)
        if not messages or messages[-1]["role"] != "assistant":
            raise TunaError(f"{where}: field '{field}': expected a conversation ending with an assistant turn")
        return messages[-1]["content"]
    return _string(value, field, where)


def number(value: object, field: str, where: str) -> float:
    """A score or rank: a number, or a string of one (UltraFeedback writes its ratings as "4")."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise TunaError(f"{where}: field '{field}': not a number ({value!r})") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TunaError(f"{where}: field '{field}': not a number ({value!r})")
    return float(value)


def _messages(value: list, field: str, where: str) -> list[dict]:
    for k, message in enumerate(value):
        if not (isinstance(message, dict) and isinstance(message.get("role"), str)
                and isinstance(message.get("content"), str)):
            raise TunaError(f"{where}: field '{field}.{k}': expected a message {{role, content}}")
    return value


def _string(value: object, field: str, where: str) -> str:
    if not isinstance(value, str):
        raise TunaError(f"{where}: field '{field}': expected text, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number")
