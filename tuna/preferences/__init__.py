"""Preference data in and out, in the ecosystem's formats.

Out (`tuna export-preferences`, tuna.preferences.export): a ranking data set as a Hugging
Face `datasets` data set in TRL's conventions, pairwise (`prompt`, `chosen`, `rejected`)
or listwise (`prompt`, `completions` best first, `scores`, and `ranks` when tied).

In (`set: preferences` in a model's data, `tuna import-preferences`,
tuna.preferences.read): listwise or pairwise preference data from elsewhere (UltraFeedback,
HH-RLHF) as tuna's ranked records, through a field mapping of the config
(tuna.config.models.PreferenceFields; values found by tuna.preferences.fields).
"""

from collections import Counter


def summary(report: Counter, line: str) -> str:
    """A command's line, with what it left out (the report's nonzero counts besides rows and rankings)."""
    left_out = ", ".join(f"{rule}: {count}" for rule, count in report.items()
                         if count and rule not in ("rows", "rankings"))
    return line + (f" ({left_out})" if left_out else "")
