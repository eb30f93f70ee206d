"""Config values as `tuna` command lines, as the rules pass them (so each value appears once,
named, in a rule's params: what Snakemake compares to decide what re-runs)."""

from __future__ import annotations

import json
import shlex
import zlib

from tuna.config import settings as s


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


def launcher(settings: s.Optimization, command: str, module: str, job: str) -> str:
    """`tuna COMMAND` with plain torch (on the CPU, or one GPU with `deepspeed: null`), else one
    DeepSpeed rank per GPU (`deepspeed --module MODULE`).

    Each job gets its own rendezvous port (stable, derived from `job`, its name), so two
    training jobs on one node do not both claim DeepSpeed's default 29500.
    """
    if not (settings.num_gpus and settings.deepspeed):
        return f"tuna {command}"
    port = 29500 + zlib.crc32(job.encode()) % 1000
    return f"deepspeed --num_gpus {settings.num_gpus} --master_port {port} --module {module}"


def training_options(settings: s.Optimization, exclude: set[str] = frozenset()) -> str:
    """Training settings as command options (deepspeed only where it runs: num_gpus > 0; of the
    objective keys only the trained objective's, so another objective's default is no param of the job)."""
    objective = getattr(settings, "objective", None)
    others = {key for key, owner in s.OBJECTIVE_KEYS.items() if owner != objective}
    options = settings.model_dump(exclude={"num_gpus", *others, *exclude})
    if not settings.num_gpus:
        options.pop("deepspeed")
    return cli_options(options)
