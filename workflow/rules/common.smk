# The config's plan (tuna.config) is the one owner of validation, defaults, the model
# graph and every artifact path; the rules only read it. L is the path layout.
import os

from tuna import config as tuna_config
from tuna.config import cli_options, repeat_option
from tuna.config.layout import cost_of
from tuna.errors import TunaError
from tuna.resources import LIGHT, ClusterJobs, resources_of, threads_of

try:
    PLAN = tuna_config.load(config, source=CONFIG_SOURCE)
except TunaError as exc:
    raise WorkflowError(exc.message) from None

L = PLAN.layout
SHARDS = PLAN.shards
API_LIMITS = PLAN.api_limits()
API_OPTIONS = PLAN.api_options()
# What each job asks a cluster for (threads, mem_mb, runtime, GPUs), from the plan.
JOBS = ClusterJobs(PLAN)


wildcard_constraints:
    shard=r"\d+",


def names(values):
    """A wildcard constraint matching exactly these names (nothing if there are none)."""
    return "|".join(re.escape(str(v)) for v in values) if values else "(?!x)x"


def conda_env(gpu):
    """envs/gpu.yaml (CUDA torch, CUDA llama.cpp, DeepSpeed ops) for GPU jobs, else envs/cpu.yaml."""
    return "../../envs/gpu.yaml" if gpu else "../../envs/cpu.yaml"


def planned_input(path):
    """A user-given file as an input when it exists, or when the workflow downloads it; a
    missing one is left to the job, which fails naming it (so a plan never needs it)."""
    return [path] if path.startswith(L.download("")) or os.path.exists(path) else []


def import_source(wildcards):
    """The model's source file, as an input when it exists (so a changed file re-imports)."""
    from tuna.sources import resolve

    try:
        return planned_input(str(resolve(PLAN.models[wildcards.model].import_)))
    except TunaError:
        return []


def prm_settings(wildcards):
    """The settings of the proxy ranking model a prm_train/prm_rank job makes."""
    return PLAN.config.prms[wildcards.prm]


def optional(path):
    """[path], or nothing for a file that is not needed (None)."""
    return [path] if path else []
