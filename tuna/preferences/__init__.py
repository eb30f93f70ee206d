"""Preference data in and out, in the ecosystem's formats.

Out (`tuna export-preferences`, tuna.preferences.export): a ranking data set as a Hugging
Face `datasets` data set in TRL's conventions, pairwise (`prompt`, `chosen`, `rejected`)
or listwise (`prompt`, `completions` best first, `scores`, and `ranks` when tied).

In (`set: preferences` in a model's data, `tuna import-preferences`,
tuna.preferences.read): listwise or pairwise preference data from elsewhere (UltraFeedback,
HH-RLHF) as tuna's ranked records, through a field mapping of the config
(tuna.config.models.PreferenceFields; values found by tuna.preferences.fields).
"""
