"""A ranking data set as preference data in TRL's conventions: a `datasets` data set (saved to disk) + JSONL.

Pairwise rows are `prompt`, `chosen`, `rejected` (TRL's preference type): every pair of
responses from different rank groups, or only the best group against the rest
(`best-vs-rest`); never a pair inside a rank group (a tie). Listwise rows are `prompt`,
`completions` (best first) and `scores` (null where a ranking has none), plus `ranks`
(each completion's rank group, 0 = best) when any ranking has ties. Every row keeps the
ranking's `id`.

With the chat template the rows are conversational (lists of `{role, content}`
messages: the prompt a user turn, each response an assistant turn), so a trainer applies
its own model's chat template; with the Alpaca template the prompt is the text the model
is trained on (tuna.prompts.alpaca_prompt) and responses are plain text. Failed or empty
responses are left out and counted, as are rankings left with no pair (or, listwise,
fewer than 2 responses). The directory also holds `data.jsonl` (the same rows) and
`provenance.json`, which carries the provenance of the ranking it came from.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tuna import provenance
from tuna.preferences import summary
from tuna.prompts import alpaca_prompt, user_message
from tuna.records import Ranking, answered, atomic_dir, read_json, read_jsonl

JSONL = "data.jsonl"


def pair_indices(ranks: list[int], best_vs_rest: bool = False) -> list[tuple[int, int]]:
    """(better, worse) positions of a ranking's pairs, from its rank groups best first: every two responses
    of different groups, or (best_vs_rest) those of the best group against the others."""
    top = min(ranks, default=0)
    return [(j, k) for j in range(len(ranks)) for k in range(j + 1, len(ranks))
            if ranks[j] < ranks[k] and (not best_vs_rest or ranks[j] == top)]


def preference_rows(rankings: list[Ranking], format: str, pairs: str = "all",
                    conversational: bool = True) -> tuple[list[dict], Counter]:
    """The rows of the export, and counts of what was left out."""
    report, rows = Counter(rankings=len(rankings)), []
    for ranking in rankings:
        kept = [(c, rank) for c, rank in zip(ranking.candidates, ranking.ranks(), strict=True) if answered(c)]
        report["failed or empty responses left out"] += len(ranking.candidates) - len(kept)
        groups = sorted({rank for _, rank in kept})
        ranks = [groups.index(rank) for _, rank in kept]
        prompt = ([{"role": "user", "content": user_message(ranking.instruction, ranking.input)}] if conversational
                  else alpaca_prompt(ranking.instruction, ranking.input))

        def response(text: str):
            return [{"role": "assistant", "content": text}] if conversational else text

        if format == "listwise":
            if len(kept) < 2:
                report["rankings with fewer than 2 responses left out"] += 1
                continue
            rows.append({"id": ranking.id, "prompt": prompt, "completions": [response(c.text) for c, _ in kept],
                         "scores": [c.score for c, _ in kept], "ranks": ranks})
            continue
        found = pair_indices(ranks, best_vs_rest=pairs == "best-vs-rest")
        if not found:
            report["rankings without a pair left out"] += 1
        rows += [{"id": ranking.id, "prompt": prompt, "chosen": response(kept[j][0].text),
                  "rejected": response(kept[k][0].text)} for j, k in found]
    if format == "listwise" and all(len(set(row["ranks"])) == len(row["ranks"]) for row in rows):
        for row in rows:  # no ties anywhere: the order says it all
            del row["ranks"]
    report["rows"] = len(rows)
    return rows, report


def features(format: str, conversational: bool, ranks: bool):
    """The column types (explicit, so an export whose scores are all null still has float scores)."""
    from datasets import Features, Value

    text = [{"role": Value("string"), "content": Value("string")}] if conversational else Value("string")
    columns = {"id": Value("string"), "prompt": text}
    if format == "pairwise":
        columns |= {"chosen": text, "rejected": text}
    else:
        columns |= {"completions": [text], "scores": [Value("float64")]}
        if ranks:
            columns["ranks"] = [Value("int32")]
    return Features(columns)


def export_preferences(ranked: Path, out: Path, format: str, pairs: str = "all", template: str = "chat") -> str:
    """`tuna export-preferences`: the export of the ranking file `ranked` written to the directory `out`
    (atomically); a line of what it holds and left out."""
    from datasets import Dataset

    conversational = template == "chat"
    rows, report = preference_rows(read_jsonl(ranked, Ranking), format, pairs, conversational)
    has_ranks = bool(rows) and "ranks" in rows[0]
    dataset = Dataset.from_list(rows, features=features(format, conversational, has_ranks))
    stamp = provenance.stamp_path(ranked)
    with atomic_dir(out) as tmp:
        dataset.save_to_disk(str(tmp))
        with open(tmp / JSONL, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        provenance.stamp([tmp], inputs=[ranked], params={"format": format, "pairs": pairs, "template": template},
                         extra={"counts": dict(report), "ranking": read_json(stamp) if stamp.exists() else None})
    return summary(report, f"{out}: {report['rows']} {format} rows from {report['rankings']} rankings")
