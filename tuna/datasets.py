"""Instruction data: downloads verified by checksum, Alpaca JSON (and conversation jsonl such
as LIMA's) normalized to records.

Ids are derived from the content (instruction + input), so they stay the same when
the data is re-downloaded, re-ordered or truncated with a different `limit`. The
held-out split is chosen from those ids, so it is as stable.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from tuna.errors import TunaError
from tuna.records import Instruction, Ranking, Record, atomic_output, iter_jsonl, read_json, write_jsonl

DEMO = Path(__file__).resolve().parent / "data" / "demo_instructions.json"


def git_blob_sha1(data: bytes) -> str:
    """The id git (and GitHub) gives a file's content: sha1 of 'blob <size>\\0<bytes>'."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def verify_checksum(path: str | Path, sha256_hex: str | None = None, git_sha1: str | None = None) -> str:
    """Check a file against the pinned checksum(s); return its sha256. Raise on mismatch."""
    return verify_bytes(Path(path).read_bytes(), str(path), sha256_hex, git_sha1)


def verify_bytes(data: bytes, where: str, sha256_hex: str | None = None, git_sha1: str | None = None) -> str:
    actual = hashlib.sha256(data).hexdigest()
    if sha256_hex and actual != sha256_hex:
        raise TunaError(f"{where}: sha256 {actual} does not match the pinned {sha256_hex}")
    if git_sha1:
        blob = git_blob_sha1(data)
        if blob != git_sha1:
            raise TunaError(f"{where}: git blob sha1 {blob} does not match the pinned {git_sha1}")
    return actual


def download(url: str, out: str | Path, sha256_hex: str | None = None, git_sha1: str | None = None,
             timeout: float = 120) -> str:
    """Fetch `url`, verify it, then write it to `out` atomically; return its sha256.

    Upstream data files are at most tens of MB, so they are verified in memory.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except OSError as exc:
        raise TunaError(f"{url}: download failed ({exc})") from exc
    digest = verify_bytes(data, url, sha256_hex, git_sha1)
    with atomic_output(out, "wb") as handle:
        handle.write(data)
    return digest


def download_file(url: str, out: Path, sha256_hex: str | None = None, git_sha1: str | None = None) -> str:
    """`tuna download`: URL to OUT, verified against the pinned checksum before it is kept, stamped."""
    from tuna import provenance

    digest = download(url, out, sha256_hex, git_sha1)
    pinned = bool(sha256_hex or git_sha1)
    provenance.stamp([out], params={"url": url, "sha256": digest, "pinned": pinned})
    return f"{out}: sha256 {digest}" + ("" if pinned else "; no pinned checksum: pin it in the config's "
                                        "downloads: or tuna/config/downloads.yaml")


def fetch_all(files: dict[str, tuple[str, str | None]], out: Path) -> dict[str, str]:
    """Download name -> (url, git blob sha1 or None) into OUT/<name>.json, keeping files already
    there (an interrupted download resumes, each kept file verified); return each file's sha256."""
    out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for number, (name, (url, blob)) in enumerate(files.items(), start=1):
        path = out / f"{name}.json"
        digests[name] = verify_checksum(path, git_sha1=blob) if path.exists() else download(url, path, git_sha1=blob)
        print(f"[{number}/{len(files)}] {name}", file=sys.stderr)
    return digests


def instruction_id(instruction: str, input: str) -> str:
    return hashlib.sha256(f"{instruction}\x1f{input}".encode()).hexdigest()[:16]


def stable_ids(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Content ids of (instruction, input) pairs in file order; exact repeats get -2, -3, ...

    Every reader of instruction data (Alpaca JSON, the authors' released rankings) names
    its records with this, so one instruction has one id whichever file it came from.
    """
    seen: Counter[str] = Counter()
    ids = []
    for instruction, input in pairs:
        base = instruction_id(instruction, input)
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def load_alpaca(path: str | Path) -> list[Instruction]:
    """Read an Alpaca-format JSON array (instruction, input, output) into records."""
    path = Path(path)
    rows = read_json(path)
    if not isinstance(rows, list):
        raise TunaError(f"{path}: expected a JSON array of {{instruction, input, output}} objects")
    for index, row in enumerate(rows):
        where = f"{path}:{_element_line(path, index)}"
        if not isinstance(row, dict):
            raise TunaError(f"{where}: expected an object, got {type(row).__name__}")
        for key in ("instruction", "input", "output"):
            if not isinstance(row.get(key, ""), str):
                raise TunaError(f"{where}: field '{key}' must be a string")
        if not row.get("instruction", "").strip():
            raise TunaError(f"{where}: field 'instruction' is missing or empty")
    ids = stable_ids((row["instruction"], row.get("input", "")) for row in rows)
    return [Instruction(id=ident, instruction=row["instruction"], input=row.get("input", ""),
                        output=row.get("output", "")) for ident, row in zip(ids, rows, strict=True)]


class Conversation(Record):
    """One line of a conversation jsonl such as LIMA's train.jsonl: user and assistant turns, alternating."""

    conversations: list[str] = Field(min_length=2)
    source: str = ""


def load_conversations(path: str | Path) -> list[Instruction]:
    """A conversation jsonl as instruction records: the first turn is the instruction, the
    second its reference response (later turns are left out, as a single-turn NLL needs)."""
    rows = list(iter_jsonl(path, Conversation))
    ids = stable_ids((row.conversations[0], "") for row in rows)
    return [Instruction(id=ident, instruction=row.conversations[0], output=row.conversations[1])
            for ident, row in zip(ids, rows, strict=True)]


def read_records(path: Path) -> list[Ranking | Instruction]:
    """Ranking records, or Instruction records (plain instruction data, objective mle; also
    read from a conversation jsonl such as LIMA's, see load_conversations)."""
    first = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    pass  # iter_jsonl reports the line properly
                break
    if isinstance(first, dict) and "conversations" in first:
        return load_conversations(path)
    return list(iter_jsonl(path, Ranking if isinstance(first, dict) and "candidates" in first else Instruction))


def _element_line(path: Path, index: int) -> int:
    """The 1-based line where element `index` of the JSON array in `path` starts (for error messages)."""
    text, decoder = path.read_text(encoding="utf-8"), json.JSONDecoder()
    position = text.index("[") + 1
    for _ in range(index):
        _, position = decoder.raw_decode(text, len(text) - len(text[position:].lstrip(" \t\r\n,")))
    position = len(text) - len(text[position:].lstrip(" \t\r\n,"))
    return text.count("\n", 0, position) + 1


def source_path(source: str) -> Path:
    """`demo` is tuna's own set; anything else is a path to Alpaca-format JSON."""
    return DEMO if source == "demo" else Path(source)


def select_shard(records: list, index: int, count: int) -> list:
    """Records i with i % count == index: shards stay balanced and stable."""
    return records[index::count]


def split_held_out(records: list[Instruction], held_out: float, seed: int) -> tuple[list[Instruction], list[Instruction]]:
    """(training, held-out) records, each in source order. held_out >= 1 holds out that many
    instructions, 0 < held_out < 1 that fraction of the source (rounded), 0 none.

    The held-out ones are those whose seeded hash of the id is smallest over the whole
    source, chosen before any `limit`: the split does not move with `limit`, shards or
    the order of the data, and every model is evaluated on the same instructions.
    """
    if held_out < 0 or (held_out >= 1 and held_out != int(held_out)):
        raise TunaError(f"held_out {held_out}: use a count (1, 2, ...) or a fraction in (0, 1)")
    count = int(held_out) if held_out >= 1 else round(held_out * len(records))
    if count >= len(records) > 0:
        raise TunaError(f"held_out {held_out}: holds out all {len(records)} instructions; nothing is left to train on")
    key = lambda r: hashlib.sha256(f"{seed}\x1f{r.id}".encode()).digest()  # noqa: E731
    chosen = {r.id for r in sorted(records, key=key)[:count]}
    return [r for r in records if r.id not in chosen], [r for r in records if r.id in chosen]


def limit_with_held_out(records: list[Instruction], limit: int | None, held_out: float,
                        seed: int) -> tuple[list[Instruction], list[Instruction]]:
    """The instructions every stage works on (the first `limit` training ones, then the
    held-out ones) and the held-out ones alone."""
    training, kept_out = split_held_out(records, held_out, seed)
    return training[:limit] + kept_out, kept_out


def contextual_instructions(records: list[Instruction], first: int | None,
                            held_out: frozenset[str] = frozenset()) -> list[Instruction]:
    """The instructions contextual ranking judges: the first `first` (all when None) and,
    beyond them, the held-out ones, so held-out agreement has judge ranks to compare with
    (they are never trained on)."""
    return records[:first] + [r for r in records[first:] if r.id in held_out] if first is not None else records


def read_ids(path: str | Path) -> frozenset[str]:
    """The ids of an instruction jsonl (e.g. the held-out split written by prepare-data)."""
    return frozenset(record.id for record in iter_jsonl(path, Instruction))


def prepare(data, out: Path, held_out_out: Path | None = None) -> str:
    """`tuna prepare-data`: the source as instruction records with stable ids, the first
    `data.limit` training ones followed by the held-out ones (also written to `held_out_out`);
    `data`: the config's `data` settings (source, limit, held_out, held_out_seed)."""
    from tuna import provenance

    path = source_path(data.source)
    used, kept_out = limit_with_held_out(load_alpaca(path), data.limit, data.held_out, data.held_out_seed)
    count = write_jsonl(out, used)
    params = data.model_dump(include={"source", "limit", "held_out", "held_out_seed"})
    extra = {"held_out_count": len(kept_out)}
    provenance.stamp([out], inputs=[path], params=params, extra=extra)
    if held_out_out is not None:
        write_jsonl(held_out_out, kept_out)
        provenance.stamp([held_out_out], inputs=[path], params=params, extra=extra)
    return f"{out}: {count} instructions from {path}" + (f", {len(kept_out)} of them held out" if data.held_out else "")
