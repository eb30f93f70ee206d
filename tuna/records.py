"""The jsonl records every stage exchanges, and their reader and atomic writer.

Each stage reads the previous stage's file and writes its own; these models are
the contract between them. A malformed line is reported as `file:line: field: why`
so a user can open the file at the right place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tuna.errors import TunaError


class Record(BaseModel):
    """Base of all records: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class Instruction(Record):
    """One instruction of the training or evaluation data (Alpaca format + stable id)."""

    id: str
    instruction: str
    input: str = ""
    output: str = ""  # the reference ("original") response, used by the MLE term


FinishReason = Literal["stop", "length", "error", "empty"]


class Candidate(Record):
    """One generated response with what the ranking stages need to know about it."""

    text: str
    # Response tokens under the generating model's tokenizer; None: not known (released data
    # that ships only the texts).
    n_tokens: int | None = Field(default=None, ge=0)
    logprobs: list[float] | None = None  # per-token log-probs, when the provider returns them
    finish_reason: FinishReason = "stop"
    temperature: float | None = None
    error: str | None = None  # why the request failed, for finish_reason == "error"


def answered(candidate: Candidate) -> bool:
    """A real answer: its call did not fail and it is not empty. Only these are ever ranked or
    trained on; the others are kept in their stage's output, marked, and counted where left out."""
    return candidate.finish_reason not in ("error", "empty")


class Generation(Record):
    """N responses of one model to one instruction (teacher output, self samples)."""

    id: str
    model: str
    candidates: list[Candidate]
    # Self-sampling diagnostics (contextual ranking): trials and pairwise ROUGE-L.
    trials: int | None = None
    rouge_l: list[list[float]] | None = None


class RankedCandidate(Candidate):
    """A candidate placed in a ranking, with the score that placed it (if any)."""

    score: float | None = None
    # Rank group, 0 = best: candidates sharing one are tied (preference data with equal ratings).
    # None: the candidate's position in the ranking (no ties), as every tuna ranking stage writes.
    rank: int | None = Field(default=None, ge=0)


class Ranking(Record):
    """Training-ready example: candidates best first, plus the original response."""

    id: str
    instruction: str
    input: str = ""
    output: str = ""  # original response (MLE target)
    candidates: list[RankedCandidate]
    source: str  # "prob" (Eq. 3 scores), "judge", "prm", ...

    @model_validator(mode="after")
    def _ranks_follow_the_order(self):
        ranks = [c.rank for c in self.candidates]
        if any(r is not None for r in ranks) and (None in ranks or ranks != sorted(ranks)):
            raise ValueError("candidates.*.rank: give every candidate a rank, best first (ties share one)")
        return self

    def ranks(self) -> list[int]:
        """Each candidate's rank group, 0 = best (ties share one; without ranks: the positions)."""
        return [c.rank if c.rank is not None else i for i, c in enumerate(self.candidates)]


class Attempt(Record):
    """One answer of a judge as it was parsed: usable (`ok`), `unusable` (no verdict in it),
    or `failed` (the call itself failed after its retries: no answer, a rerun asks again)."""

    raw: str
    temperature: float | None = None
    outcome: Literal["ok", "unusable", "failed"]
    error: str | None = None


class Judgement(Record):
    """A judge's answer about one instruction's candidates, every attempt kept."""

    id: str
    judge: str
    raw: str  # the answer used (or, with none usable, the last one)
    ok: bool  # False: no usable answer after the allowed re-asks (or the call failed)
    scores: dict[str, float] = Field(default_factory=dict)  # candidate index -> score
    rank: list[int] = Field(default_factory=list)  # candidate indices, best first
    error: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)  # in the order asked
    used: int | None = None  # index of the attempt the rank comes from


class QuarantinedAnswer(Attempt):
    """An unusable judge answer (one line of a quarantine file), with what it was about."""

    id: str
    judge: str
    attempt: int  # 0: the first ask, k: the k-th re-ask


class ReferenceLogprob(Record):
    """One candidate's summed log-prob under DPO's frozen reference, keyed by its tokens."""

    digest: str  # of the response's token ids as trained on (prompt excluded, EOS and truncation included)
    tokens: int = Field(ge=1)
    logp: float


class ReferenceScores(Record):
    """The frozen reference's log-probs of one training example's candidates (tuna.train.reference)."""

    id: str
    candidates: list[ReferenceLogprob]


R = TypeVar("R", bound=BaseModel)


def iter_jsonl(path: str | os.PathLike, model: type[R]) -> Iterator[R]:
    """Yield validated records; raise TunaError naming `file:line` and the field."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        for line_no, data in json_lines(path, handle):
            yield parse_record(data, model, f"{path}:{line_no}")


def json_lines(path: str | os.PathLike, lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """(line number, decoded value) of each non-blank line of `path`; bad JSON names `file:line`."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            raise TunaError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from exc


_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace


def json_objects(path: Path) -> Iterator[tuple[int, object]]:
    """(line where it starts, decoded value) of each record of a file that is a JSON array or JSON Lines
    (how data from elsewhere comes); bad JSON names `file:line`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise TunaError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    start = _SPACE.match(text).end()
    if text.startswith("[", start):
        yield from _array_items(path, text, start + 1)
    else:
        yield from json_lines(path, text.split("\n"))


def _array_items(path: Path, text: str, pos: int) -> Iterator[tuple[int, object]]:
    """The items of the JSON array whose '[' ends at `pos`, each with the line it starts on."""
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    pos = _SPACE.match(text, pos).end()
    more = not text.startswith("]", pos)
    while more:
        line, counted = line + text.count("\n", counted, pos), pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise TunaError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        yield line, value
        pos = _SPACE.match(text, pos).end()
        more = text.startswith(",", pos)
        if more:
            pos = _SPACE.match(text, pos + 1).end()
        elif not text.startswith("]", pos):
            raise TunaError(f"{path}:{_line_of(text, pos)}: not valid JSON (expected ',' or ']' after a record)")
    pos = _SPACE.match(text, pos + 1).end()  # past the closing ']'
    if pos < len(text):
        raise TunaError(f"{path}:{_line_of(text, pos)}: not valid JSON (data after the array)")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_record(data: object, model: type[R], where: str) -> R:
    """Validate one decoded JSON value as `model`; raise TunaError `where: field 'x': why`."""
    if not isinstance(data, dict):
        raise TunaError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise TunaError(f"{where}: {_first_error(exc)}") from exc


def read_json(path: str | os.PathLike):
    """Parse a JSON document; raise TunaError naming the file (and line) on failure."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise TunaError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc


def read_jsonl(path: str | os.PathLike, model: type[R]) -> list[R]:
    return list(iter_jsonl(path, model))


def answers_of(path: str | os.PathLike) -> dict[str, str]:
    """id -> answer text of a `generate-answers` file (a failed answer is empty)."""
    return {g.id: g.candidates[0].text if g.candidates else "" for g in read_jsonl(path, Generation)}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or "record"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"field '{field}': {err['msg']}{more}"


@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w"):
    """Open a temp file beside `path`; rename it over `path` only if the block succeeds.

    Snakemake (and any reader) therefore never sees a half-written output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike):
    """A temp path beside `path` for writers that open their output by name (GGUF writer,
    llama.cpp's quantizer, file copies); renamed over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike):
    """A temp directory beside `path` (checkpoints), moved into place whole if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_jsonl(path: str | os.PathLike, records: Iterable[Record]) -> int:
    """Write records atomically, one JSON object per line; return how many."""
    count = 0
    with atomic_output(path) as handle:
        for record in records:
            handle.write(record.model_dump_json(exclude_none=True) + "\n")
            count += 1
    return count


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write a JSON document atomically (results, summaries)."""
    with atomic_output(path) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
