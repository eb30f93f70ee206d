"""The report's uncertainty and human-agreement tables, from the per-instance scores in the
result files: Table 1's intervals and p-values, Table 11 (BERTScore beside ROUGE-L),
Table 2 (human scores with significance marks) and Appendix G (judge vs human ranks).

Tests, as the column names say: `_p_bootstrap` is the two-sided paired bootstrap test,
`_p_sign` the exact sign test (Vicuna: wins vs losses), `_p_wilcoxon` the Wilcoxon
signed-rank test over questions (human scores; scipy's default, zero differences dropped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tuna.config.layout import superni_set
from tuna.config.settings import SUPERNI_SHOTS
from tuna.evaluate import lmentry_bootstrap, significance
from tuna.evaluate.significance import Delta, Settings

OUTCOME = {"model": 1, "tie": 0, "baseline": -1}
MARK_ALPHA = 0.01  # the paper's significance level for Table 2


def _columns(name: str, delta: Delta) -> dict:
    return {f"{name}_low": delta.low, f"{name}_high": delta.high, f"{name}_p_{delta.test}": delta.p_value}


def superni_pairs(model: dict, baseline: dict, metric: str) -> tuple[list, list, list] | None:
    """Per-instance `metric` of both systems on the instances both have, and the task sizes."""
    if "per_instance" not in model or "per_instance" not in baseline:
        return None
    ours, theirs, sizes = [], [], []
    for task, instances in model["per_instance"].items():
        other = baseline["per_instance"].get(task, {})
        shared = [i for i in instances if i in other and metric in instances[i] and metric in other[i]]
        if shared:
            ours += [instances[i][metric] for i in shared]
            theirs += [other[i][metric] for i in shared]
            sizes.append(len(shared))
    return (ours, theirs, sizes) if sizes else None


def superni_delta(model: dict, baseline: dict, metric: str, settings: Settings) -> Delta | None:
    pairs = superni_pairs(model, baseline, metric)
    return significance.paired_mean_delta(*pairs[:2], sizes=pairs[2], settings=settings) if pairs else None


def vicuna_delta(result: dict, settings: Settings) -> Delta | None:
    """Win rate - lose rate of a model judged against the baseline (questions with a verdict)."""
    outcomes = [OUTCOME[v] for v in (result.get("per_question") or {}).values() if v is not None]
    return significance.sign_test_delta(outcomes, settings) if outcomes else None


def table1_uncertainty(results: dict[str, dict[str, dict | None]], baseline: str, settings: Settings) -> pd.DataFrame:
    """Per model (rows, the baseline's empty): the interval and p of every Table 1 delta,
    and Vicuna's net win rate (`delta_vicuna_net`, win - lose) with its interval and sign test.

    results: model -> benchmark -> its result (or None).
    """
    base = results.get(baseline, {})
    rows = {}
    for model, result in results.items():
        row: dict = {}
        if model != baseline:
            for shot in map(str, SUPERNI_SHOTS):
                ours, theirs = (r and r.get("shots", {}).get(shot) for r in (result["superni"], base.get("superni")))
                if ours and theirs and (delta := superni_delta(ours, theirs, "rougeL", settings)):
                    row.update(_columns(f"delta_{superni_set(shot)}", delta))
            ours, theirs = result["lmentry"], base.get("lmentry")
            if ours and theirs and "per_instance" in ours and "per_instance" in theirs:
                row.update(_columns("delta_lmentry", lmentry_bootstrap.delta(ours["per_instance"],
                                                                             theirs["per_instance"], settings)))
            if result["vicuna"] and (delta := vicuna_delta(result["vicuna"], settings)):
                row["delta_vicuna_net"] = delta.delta
                row.update(_columns("delta_vicuna_net", delta))
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def table11(results: dict[str, dict | None], baseline: str, settings: Settings) -> pd.DataFrame:
    """Table 11: Super-NI BERTScore (P/R/F1) beside ROUGE-L per model and shots, with the
    F1 delta against the baseline, its interval and bootstrap p. results: model -> superni result."""
    rows = []
    for model, result in results.items():
        for shot, scores in sorted((result or {}).get("shots", {}).items()):
            if "bertscore" not in scores:
                continue
            row = {"model": model, "shots": int(shot), "rougeL": scores["rougeL"],
                   **{f"bertscore_{k}": scores["bertscore"][k] for k in ("precision", "recall", "f1")},
                   "bertscore_model": scores["bertscore"]["model"]}
            theirs = ((results.get(baseline) or {}).get("shots") or {}).get(shot)
            if model != baseline and theirs and (delta := superni_delta(scores, theirs, "bertscore_f1", settings)):
                row.update({"delta_bertscore_f1": delta.delta, **_columns("delta_bertscore_f1", delta)})
            rows.append(row)
    return pd.DataFrame(rows).set_index(["model", "shots"]) if rows else pd.DataFrame()


def paired_wilcoxon(ours: dict[str, float], theirs: dict[str, float]) -> tuple[float, float]:
    """(mean difference, two-sided Wilcoxon signed-rank p) over the questions both have."""
    shared = sorted(ours.keys() & theirs.keys())
    differences = np.array([ours[q] - theirs[q] for q in shared], dtype=float)
    if not differences.any():
        return 0.0, 1.0
    return float(differences.mean()), float(stats.wilcoxon(differences).pvalue)


def table2(scores: dict[str, dict], baseline: str, focus: str) -> pd.DataFrame:
    """Table 2: human scores per model with the paper's marks: `*` significantly better than
    the baseline, `†` (on `focus`, i.e. Tuna) significantly better than every other model
    (Wilcoxon signed-rank over questions, p < 0.01). scores: `tuna human-import` output."""
    rows = []
    for model, score in scores.items():
        row = {"model": model, "score": score["score"], "mean_rank": score["mean_rank"], "ratings": score["ratings"]}
        better = []
        for other in scores:
            if other == model or (model != focus and other != baseline):
                continue
            difference, p_value = paired_wilcoxon(score["per_question"], scores[other]["per_question"])
            row[f"p_wilcoxon_vs_{other}"] = p_value
            better.append((other, difference > 0 and p_value < MARK_ALPHA))
        marks = "*" if dict(better).get(baseline) and model != baseline else ""
        if model == focus and better and all(ok for _, ok in better):
            marks += "†"
        rows.append({**row, "marks": marks})
    return pd.DataFrame(rows).set_index("model")


def appendix_g(agreement: dict) -> pd.DataFrame:
    """Appendix G: Spearman's rho of judge vs human ranks per example, and its summary."""
    summary = {key: agreement[key] for key in ("examples", "undefined", "mean_spearman", "median_spearman")}
    return pd.DataFrame([{"example": "all", **summary}]
                        + [{"example": ex, "spearman": rho} for ex, rho in agreement["per_example"].items()]
                        ).set_index("example")

