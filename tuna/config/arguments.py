"""Config values as `tuna` command-line options, as the rules pass them (so each value appears
once, named, in a rule's params: what Snakemake compares to decide what re-runs)."""

from __future__ import annotations

import json
import shlex


def cli_options(values: dict) -> str:
    """{'max_tokens': 96, 'constrained': True, 'first': None} -> '--max-tokens 96 --constrained'.

    Rules pass config values to `tuna` commands this way, so each value appears once,
    named, in the rule's params (what Snakemake compares to decide what re-runs).
    """
    args = []
    for key, value in values.items():
        flag = f"--{key.replace('_', '-')}"
        if value is None:
            continue
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{key.replace('_', '-')}")
        elif isinstance(value, dict):  # a nested section (train.lora), as a JSON mapping
            args += [flag, json.dumps(value, separators=(",", ":"))]
        else:
            args += [flag, str(value)]
    return shlex.join(args)


def repeat_option(flag: str, values) -> str:
    """("--model", ["a", "b"]) -> "--model a --model b" (shell-quoted)."""
    return shlex.join(arg for value in values for arg in (flag, str(value)))
