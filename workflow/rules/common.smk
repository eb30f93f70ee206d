# Config validation and helpers shared by every rule file. The logic lives in
# tuna.workflow so it is unit-tested; this file only wires it into Snakemake.
import re

import yaml

from tuna import workflow as tw
from tuna.errors import TunaError

try:
    tw.validate_config(config, source="config")
except TunaError as exc:
    raise WorkflowError(exc.message) from None

with open(workflow.source_path("../downloads.yaml")) as _handle:
    DOWNLOADS = {**yaml.safe_load(_handle), **config.get("downloads", {})}

GGUF_MODELS = tw.imported_models(config, gguf=True)
HF_IMPORTED_MODELS = tw.imported_models(config, gguf=False)
IMPORTED_MODELS = GGUF_MODELS + HF_IMPORTED_MODELS
TRAINED_MODELS = tw.trained_models(config)
SHARDS = list(range(config["data"]["shards"]))

wildcard_constraints:
    shard=r"\d+",


def provider_input(spec):
    """Files a provider loads: a checkpoint or GGUF the workflow builds, or a user path."""
    location = tw.provider_location(config, spec)
    return [location] if location else []


def provider_args(spec):
    return tw.provider_args(config, spec)


def sampler_spec(model):
    """The provider a model samples itself with (contextual ranking)."""
    return tw.with_model(config["sampling"]["provider"], model)


def answer_spec(model):
    """The provider a model answers benchmark prompts with (evaluation)."""
    return tw.with_model(config["evaluation"].get("generation", {}).get("provider", {"kind": "llamacpp"}), model)


def resolve_source(location):
    """A config location (path or pkg:MODULE/FILE) as a path; a clear error if missing."""
    from tuna.sources import resolve

    try:
        return resolve(location)
    except TunaError as exc:
        raise WorkflowError(exc.message) from None


def instructions_source(wildcards):
    """The raw instruction file: none for the demo set, the download for Alpaca, else a path."""
    source = config["data"]["source"]
    if source == "demo":
        return []
    if source == "alpaca":
        return ["resources/downloads/alpaca_data.json"]
    return [source]


def conda_env(gpu):
    """envs/gpu.yaml (CUDA torch, CUDA llama.cpp, DeepSpeed ops) for GPU jobs, else envs/cpu.yaml."""
    return "../../envs/gpu.yaml" if gpu else "../../envs/cpu.yaml"


def uses_gpu(spec):
    """A provider that offloads to a GPU (llama.cpp layers) or runs transformers on one."""
    return spec.get("n_gpu_layers", 0) != 0
