"""Config checks and the small amount of logic the Snakefile needs (kept here to be tested).

The Snakefile stays declarative: it asks this module which file a provider needs,
which arguments a `tuna` command takes, and whether the config makes sense.
"""

from __future__ import annotations

import re
import shlex
import zlib
from pathlib import Path

import jsonschema
import yaml

from tuna.errors import TunaError

SCHEMA = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_QUANT = "q8_0"


def load_schema(path: Path = SCHEMA) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _key(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def validate_config(config: dict, schema: dict | None = None, source: str = "config") -> None:
    """Schema and cross-reference checks; raise TunaError with one line naming the key."""
    schema = schema or load_schema()
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        raise TunaError(f"{source}: {_key(error.absolute_path)}: {_schema_message(error)}")
    check_references(config, source)


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and error.context:
        error = min(error.context, key=lambda e: len(e.message))
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    return error.message


def check_references(config: dict, source: str = "config") -> None:
    """Every model named anywhere is declared, and the model graph has no cycle."""
    models = config["models"]
    declared = ", ".join(sorted(models))

    def must_exist(name: str, key: str) -> None:
        if name not in models:
            raise TunaError(f"{source}: {key}: unknown model '{name}' (declared: {declared})")

    for name, spec in models.items():
        if "init" in spec:
            must_exist(spec["init"], f"models.{name}.init")
        kind, _, sampler = spec.get("data", "").partition(":")
        if sampler:
            must_exist(sampler, f"models.{name}.data")
    model_order(models, source)
    for index, name in enumerate(config["evaluation"]["models"]):
        must_exist(name, f"evaluation.models.{index}")
    must_exist(config["evaluation"]["baseline"], "evaluation.baseline")
    must_exist(config["prm"]["backbone"], "prm.backbone")
    for key, spec in provider_specs(config):
        model = spec.get("model")
        if spec["kind"] == "openai" or model is None:
            continue
        if model in models:
            if spec.get("quant") == "source" and not str(models[model].get("import", "")).endswith(".gguf"):
                raise TunaError(f"{source}: {key}.quant: 'source' needs model '{model}' imported from a .gguf file")
        elif NAME.match(model) and not Path(model).exists():
            raise TunaError(f"{source}: {key}.model: unknown model '{model}' (declared: {declared})")


def provider_specs(config: dict):
    """(config key, provider spec) for every provider the config declares."""
    for section in ("teacher", "sampling", "judge"):
        yield f"{section}.provider", config[section]["provider"]
    evaluation = config["evaluation"]
    if "provider" in evaluation.get("generation", {}):
        yield "evaluation.generation.provider", evaluation["generation"]["provider"]
    if "judge" in evaluation.get("vicuna", {}):
        yield "evaluation.vicuna.judge", evaluation["vicuna"]["judge"]


def model_dependencies(spec: dict) -> list[str]:
    """Models whose checkpoints must exist before this model can be made."""
    deps = [spec["init"]] if "init" in spec else []
    _, _, sampler = spec.get("data", "").partition(":")
    return deps + ([sampler] if sampler and sampler not in deps else [])


def model_order(models: dict, source: str = "config") -> list[str]:
    """Models in an order where each comes after the models it needs; reject cycles."""
    order, visiting = [], set()

    def visit(name: str, chain: tuple) -> None:
        if name in order:
            return
        if name in visiting:
            raise TunaError(f"{source}: models: cycle {' -> '.join(chain + (name,))}")
        visiting.add(name)
        for dep in model_dependencies(models[name]):
            visit(dep, chain + (name,))
        visiting.discard(name)
        order.append(name)

    for name in models:
        visit(name, ())
    return order


def imported_models(config: dict, gguf: bool) -> list[str]:
    """Names of models imported from a GGUF file (gguf=True) or from an HF directory."""
    return [
        name for name, spec in config["models"].items()
        if "import" in spec and spec["import"].endswith(".gguf") == gguf
    ]


def trained_models(config: dict) -> list[str]:
    return [name for name, spec in config["models"].items() if "init" in spec]


def name_regex(names: list[str]) -> str:
    """A wildcard constraint matching exactly these names (nothing if the list is empty)."""
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


def model_template(config: dict, model: str) -> str:
    """A model's prompt template: its own, else the one of the model it was trained from."""
    spec = config["models"][model]
    if "template" in spec:
        return spec["template"]
    return model_template(config, spec["init"]) if "init" in spec else "chat"


def template_of(config: dict, spec: dict) -> str:
    """Prompt template for a provider: the declared model's, else chat (alpaca for raw completions)."""
    model = spec.get("model")
    if model in config["models"]:
        return model_template(config, model)
    if spec["kind"] == "openai" and spec.get("api", "completions") == "completions":
        return "alpaca"
    return spec.get("template", "chat")


def provider_location(config: dict, spec: dict) -> str | None:
    """The file or directory a local provider loads (None for an API)."""
    if spec["kind"] == "openai":
        return None
    model = spec["model"]
    if model in config["models"]:
        if spec["kind"] == "hf":
            return f"checkpoints/{model}"
        return f"checkpoints/{model}.{spec.get('quant', DEFAULT_QUANT)}.gguf"
    return model


def provider_args(config: dict, spec: dict) -> str:
    """The `tuna` options that select this provider (shell-quoted)."""
    location = provider_location(config, spec) or spec["model"]
    args = ["--provider", spec["kind"], "--model", location, "--template", template_of(config, spec)]
    for key in ("base_url", "api", "api_key_env", "constrain_with", "n_gpu_layers", "n_ctx"):
        if key in spec:
            args += [f"--{key.replace('_', '-')}", str(spec[key])]
    return shlex.join(args)


def with_model(spec: dict, model: str) -> dict:
    """A provider spec whose model defaults to `model` (self-sampling, evaluation)."""
    return {"model": model, **spec}


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
        else:
            args += [flag, str(value)]
    return shlex.join(args)


def prm_sampled_models(config: dict) -> set[str]:
    """Models whose samples a proxy ranking model re-ranks (so all instructions are sampled)."""
    return {spec["data"].split(":", 1)[1] for spec in config["models"].values()
            if spec.get("data", "").startswith("prm_rank:")}


def api_limits(config: dict) -> dict:
    """Per-job limits of OpenAI-compatible providers, as integer rule resources (0: unlimited).

    Resources rather than params: how hard an endpoint is pushed changes no output,
    so changing it must not re-run finished jobs (and everything downstream).
    Per-minute limits are split over the shards, which may all run at once.
    """
    api, shards = config["api"], config["data"]["shards"]

    def per_job(limit):
        return max(1, int(limit / shards)) if limit else 0

    return {
        "api_concurrency": api.get("concurrency", 32),
        "api_rpm": per_job(api.get("requests_per_minute")),
        "api_tpm": per_job(api.get("tokens_per_minute")),
        "api_timeout": max(1, round(api.get("timeout", 60))),
        "api_max_retries": api.get("max_retries", 6),
    }


VICUNA_PROMPT_FILES = {"pairwise": "vicuna_judge_prompts.jsonl", "review": "vicuna_prompt.jsonl"}


def vicuna_plan(config: dict) -> dict:
    """How Vicuna QA is judged: the judge, the style and the upstream files (None: tuna's demo set).

    The evaluation rules and `tuna cost estimate` both read it, so the estimate prices what runs.
    """
    vicuna = config["evaluation"].get("vicuna", {})
    style = vicuna.get("style", "pairwise")
    upstream = vicuna.get("questions", "demo") == "vicuna"
    return {"judge": vicuna.get("judge", config["judge"]["provider"]), "style": style,
            "questions": "resources/downloads/vicuna_question.jsonl" if upstream else None,
            "judge_prompts": f"resources/downloads/{VICUNA_PROMPT_FILES[style]}" if upstream else None}


def answer_max_tokens(config: dict, prompts: str) -> int:
    """Answer length cap of the evaluated models for a prompt set (`vicuna`, `superni_0shot`, ...)."""
    if prompts.startswith("superni"):
        return config["evaluation"].get("superni", {}).get("max_tokens", 128)
    return config["evaluation"].get("generation", {}).get("max_tokens", 256)


def price_args(config: dict, spec: dict) -> str:
    """--price-prompt/--price-completion for an API model listed in `prices:` (else nothing)."""
    price = config["prices"].get(spec.get("model")) if spec["kind"] == "openai" else None
    return cli_options({"price_prompt": price["prompt"], "price_completion": price["completion"]}) if price else ""


TRAIN_DATA = {
    "prob_rank": "results/prob_rank/ranked.jsonl",
    "ctx_rank": "results/ctx_rank/{}/ranked.jsonl",
    "prm_rank": "results/ctx_rank/{}/prm_ranked.jsonl",
    "instructions": "results/data/instructions.jsonl",
}


def train_settings(config: dict, model: str) -> dict:
    """The `train:` defaults overridden by `models.<model>.train`."""
    settings = {**config["train"], **config["models"][model].get("train", {})}
    if settings.get("num_gpus", 0) > 0 and not settings.get("deepspeed"):
        raise TunaError(f"models.{model}.train: num_gpus > 0 trains with DeepSpeed; set deepspeed "
                        "(zero2, zero2_offload, zero3 or zero3_offload)")
    return settings


def train_data(config: dict, model: str) -> str:
    """The file a trained model learns from, chosen by its `data` (prob_rank, ctx_rank:X, ...)."""
    kind, _, sampler = config["models"][model]["data"].partition(":")
    return TRAIN_DATA[kind].format(sampler)


def train_launcher(settings: dict, model: str) -> str:
    """`tuna train` on CPU (num_gpus 0), else one DeepSpeed rank per GPU.

    Each model gets its own rendezvous port (stable, derived from its name), so two
    training jobs that land on one node do not both claim DeepSpeed's default 29500.
    """
    gpus = settings.get("num_gpus", 0)
    port = 29500 + zlib.crc32(model.encode()) % 1000
    return f"deepspeed --num_gpus {gpus} --master_port {port} --module tuna.cli.train" if gpus else "tuna train"


def train_options(settings: dict) -> str:
    """The hyper-parameters as `tuna train` options (deepspeed only where it runs: num_gpus > 0)."""
    options = {key: value for key, value in settings.items() if key != "num_gpus"}
    if not settings.get("num_gpus", 0):
        options.pop("deepspeed", None)
    return cli_options(options)
