"""The one owner of a workflow config: validation, every default, the model graph and every path.

    plan = tuna.config.load_file("config/config.yaml")
    plan.train("tuna").lr, plan.train_input("tuna"), plan.layout.checkpoint("tuna")

Sections and their defaults: tuna.config.settings (the key tables of config/README.md are
generated from it); models and the data algebra: tuna.config.models; paths:
tuna.config.layout; the plan the rules read: tuna.config.plan, with its checks
(checks), providers as jobs run them (providers), sweeps (sweeps) and the report spec
(report_spec); config values as `tuna` options: tuna.config.arguments.
"""

from tuna.config.arguments import cli_options, repeat_option
from tuna.config.layout import Layout
from tuna.config.loading import load, load_file, read_yaml
from tuna.config.plan import Plan

__all__ = ["Layout", "Plan", "cli_options", "load", "load_file", "read_yaml", "repeat_option"]
