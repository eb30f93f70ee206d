"""The report's cost table (Table 6 style): calls, tokens and USD per stage and model, the
answers each stage could not use, and what human labelling would cost instead."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tuna.cost import HUMAN_STAGE, cost_path, human_cost
from tuna.errors import TunaError
from tuna.records import Ranking, read_json, read_jsonl

COUNTS = ("calls", "prompt_tokens", "completion_tokens")
COLUMNS = ["stage", "provider", "model", "files", *COUNTS, "usd", "unparsed"]


def read_cost(path: str | Path) -> dict:
    """A cost file of tuna.cost.write_cost; a clear error naming the file if it is not one."""
    if not Path(path).exists():
        raise TunaError(f"{path}: cost file not found")
    cost = read_json(path)
    total = cost.get("total") if isinstance(cost, dict) else None
    if not isinstance(total, dict) or any(key not in total for key in (*COUNTS, "usd")):
        raise TunaError(f"{path}: not a cost file (needs total.calls, total.prompt_tokens, "
                        "total.completion_tokens, total.usd)")
    return cost


def unparsed_counts(quarantine: list[str | Path], vicuna_results: list[str | Path]) -> dict[Path, int]:
    """Cost file -> answers its stage could not use: quarantined ranking-judge answers
    (lines of `judged/N.quarantine.jsonl`) and unparsed Vicuna verdicts (`vicuna.json`)."""
    counts = {}
    for path in quarantine:
        with open(path, encoding="utf-8") as handle:
            counts[cost_path(path)] = sum(1 for line in handle if line.strip())
    for path in vicuna_results:
        counts[cost_path(path)] = int(read_json(path).get("unparsed") or 0)
    return counts


def cost_table(costs: dict[str, list[str | Path]], unparsed: dict[Path, int] | None = None) -> pd.DataFrame:
    """Table 6 style: calls, prompt/completion tokens and USD per stage and model, summed
    over each stage's cost files, plus a total row. USD is empty where no price is known
    (local models); `unparsed` counts the answers a stage could not use."""
    unparsed = unparsed or {}
    rows = []
    for stage, paths in costs.items():
        for path in paths:
            cost = read_cost(path)
            rows.append({"stage": stage, "provider": cost.get("provider"), "model": cost.get("model"), "files": 1,
                         **{key: cost["total"][key] for key in COUNTS}, "usd": cost["total"]["usd"],
                         "unparsed": unparsed.get(Path(path), 0)})
    if not rows:
        return pd.DataFrame(columns=COLUMNS).set_index(["stage", "provider", "model"])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["usd"] = frame["usd"].astype(float)
    table = frame.groupby(["stage", "provider", "model"], sort=False, dropna=False).sum(min_count=1)
    total = table.sum(min_count=1)
    table.loc[("total", "", ""), :] = total
    return table.astype({key: "int64" for key in ("files", *COUNTS, "unparsed")})


def human_labelling(judged: list[str | Path], usd_per_comparison: float, comparisons: int) -> pd.DataFrame:
    """Table 6's comparison: what annotators would cost for the examples the judge ranked
    (`comparisons` pairwise comparisons per example at `usd_per_comparison`)."""
    examples = sum(len(read_jsonl(path, Ranking)) for path in judged)
    calls, dollars = human_cost(examples, usd_per_comparison, comparisons)
    return pd.DataFrame([{"stage": HUMAN_STAGE, "provider": "human", "model": "", "files": len(judged),
                          "calls": calls, "prompt_tokens": 0, "completion_tokens": 0, "usd": dollars,
                          "unparsed": 0}]).set_index(["stage", "provider", "model"])


def cost_report(spec) -> pd.DataFrame:
    """The cost table of a report spec: every stage's cost files, the unusable answers, and
    the human-labelling row when the spec prices one."""
    vicuna = [path for m in spec.models if (path := spec.result(m, "vicuna")) and Path(path).exists()]
    table = cost_table(spec.costs, unparsed_counts(spec.quarantine, vicuna))
    if spec.human_labelling:
        human = spec.human_labelling
        table = pd.concat([table, human_labelling(human.judged, human.usd_per_comparison,
                                                  human.comparisons_per_example)])
    return table
