# The config's plan (tuna.config) is the one owner of validation, defaults, the model
# graph and every artifact path; the rules only read it. L is the path layout.
# Names: a rule is named after the `tuna` command it runs (`eval-nll` -> eval_nll), with a
# suffix when several rules run one command (eval_nll_data); its log folder is its name
# (logs/{rule}/...). Its `code` param is the fingerprint of the tuna code that command runs
# (tuna.code_fingerprint), so a job re-runs when that code changes, not on a docstring edit.
import os

from tuna import config as tuna_config
from tuna.code_fingerprint import fingerprint
from tuna.config import cli_options, repeat_option
from tuna.config.layout import cost_of, set_token, superni_set
from tuna.config.settings import SUPERNI_SHOTS
from tuna.config.models import ExternalModel
from tuna.errors import TunaError
from tuna.hub import is_hub, pin
from tuna.config.resources import LIGHT, ClusterJobs, resources_of, threads_of

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


def code_of(command):
    """A rule's `code` param: the fingerprint of the tuna code `tuna COMMAND` runs, worded so that
    Snakemake's rerun reason ("Params have changed ... before: ... now: ...") says what changed."""
    return f"code of tuna {command}: {fingerprint(command)}"


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
    """The model's source file, as an input when it exists (so a changed file re-imports); a Hub
    model's is its commit, pinned in the rule's params."""
    from tuna.sources import find

    location = PLAN.models[wildcards.model].import_
    path = None if is_hub(location) else find(location)
    return [str(path)] if path else []


def prm_settings(wildcards):
    """The settings of the proxy ranking model a prm_train/prm_rank job makes."""
    return PLAN.config.prms[wildcards.prm]


def optional(path):
    """[path], or nothing for a file that is not needed (None)."""
    return [path] if path else []


def judged_held_out(first):
    """The held-out split, judged beyond the first `data.ctx_rank_limit` instructions (for held-out agreement)."""
    return [L.held_out()] if first is not None and PLAN.config.data.held_out else []


def held_out_option(input):
    return f"--held-out {input.held_out}" if input.held_out else ""


def superni_tokenizer(model):
    """What measures a model's Super-NI token budget, and the files it is read from: the GGUF or
    checkpoint the model answers with; for a model answering through an API, its checkpoint
    if the workflow makes one, else `evaluation.superni.tokenizer` (a file or a hub id)."""
    answerer = PLAN.answerer(model)
    if answerer.location:
        return answerer.location, answerer.inputs
    if not isinstance(PLAN.models[model], ExternalModel):
        return L.checkpoint(model), [L.checkpoint(model)]
    tokenizer = PLAN.config.evaluation.superni.tokenizer
    return pin(tokenizer), planned_input(tokenizer)


def prompt_file(wildcards):
    """Super-NI prompts are each model's own (its tokenizer measures the budget); the others are shared."""
    if wildcards.prompts.startswith("superni"):
        return L.model_prompts(wildcards.model, wildcards.prompts)
    return L.eval_prompts(wildcards.prompts)
