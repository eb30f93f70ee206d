"""What the report reads and draws, derived from the config as the rules that write
those files derive them (so the `report` rule can declare every file as an input and
re-run when any of them changes)."""

from __future__ import annotations

import shlex

from tuna import workflow as tw

RANKING_KINDS = ("prob_rank", "ctx_rank", "prm_rank")


def ranking_datasets(config: dict) -> dict[str, str]:
    """Every ranking data set a declared model trains on: data label -> file."""
    datasets = {}
    for name, spec in config["models"].items():
        if spec.get("data", "").partition(":")[0] in RANKING_KINDS:
            datasets.setdefault(spec["data"], tw.train_data(config, name))
    return datasets


def sampled_models(config: dict) -> list[str]:
    """Models that sample themselves for contextual ranking (ctx_rank:M, prm_rank:M)."""
    return list(dict.fromkeys(data.split(":", 1)[1] for data in ranking_datasets(config) if ":" in data))


def answer_sets(config: dict) -> list[str]:
    """The prompt sets evaluated models answer (results/{model}/answers/{set}.jsonl)."""
    evaluation = config["evaluation"]
    shots = evaluation.get("superni", {}).get("shots", [0, 2])
    sets = {"vicuna": ["vicuna"], "superni": [f"superni_{s}shot" for s in shots], "lmentry": ["lmentry"]}
    return [name for benchmark in evaluation["benchmarks"] for name in sets[benchmark]]


def judged_models(config: dict) -> list[str]:
    """Evaluated models judged against the baseline on Vicuna QA."""
    evaluation = config["evaluation"]
    if "vicuna" not in evaluation["benchmarks"]:
        return []
    return [m for m in evaluation["models"] if m != evaluation["baseline"]]


def cost_files(config: dict) -> list[tuple[str, str]]:
    """(stage, cost file) of every generating job the report's numbers depend on."""
    shards = range(config["data"]["shards"])
    files = []
    if "prob_rank" in ranking_datasets(config):
        files += [("teacher", f"results/prob_rank/teacher/{s}.cost.json") for s in shards]
    for model in sampled_models(config):
        files += [("self_sampling", f"results/ctx_rank/{model}/samples/{s}.cost.json") for s in shards]
        files += [("ranking_judge", f"results/ctx_rank/{model}/judged/{s}.cost.json") for s in shards]
    files += [("answers", f"results/{model}/answers/{name}.cost.json")
              for model in config["evaluation"]["models"] for name in answer_sets(config)]
    files += [("vicuna_judge", f"results/{model}/vicuna.cost.json") for model in judged_models(config)]
    return files


def quarantine_files(config: dict) -> list[str]:
    """The ranking judge's quarantined (unusable) answers, one file per shard."""
    return [f"results/ctx_rank/{model}/judged/{s}.quarantine.jsonl"
            for model in sampled_models(config) for s in range(config["data"]["shards"])]


def settings_sweeps(config: dict, key: str, applies=lambda settings: True) -> dict[str, dict]:
    """Groups of evaluated trained models with the same init, data and training settings
    except `key`, at two or more values of it: label (init+data) -> {model: value}.

    Unset (null) settings count as absent, so `deepspeed: null` equals no deepspeed key.
    Models whose settings fail `applies` are never part of a sweep.
    """
    groups: dict[tuple, dict] = {}
    for model in config["evaluation"]["models"]:
        spec = config["models"][model]
        if "init" not in spec:
            continue
        settings = tw.train_settings(config, model)
        if not applies(settings):
            continue
        rest = tuple(sorted((k, repr(v)) for k, v in settings.items() if k != key and v is not None))
        groups.setdefault((spec["init"], spec["data"], rest), {})[model] = settings.get(key)
    sweeps = {}
    for (init, data, _), values in groups.items():
        if len(set(values.values())) > 1:
            label = f"{init}+{data}"
            sweeps[label if label not in sweeps else f"{label}#{len(sweeps) + 1}"] = values
    return sweeps


def mle_weight_sweeps(config: dict) -> dict[str, dict[str, float]]:
    """Lambda (train.mle_weight) sweeps: label -> {model: lambda}.

    Only the ranking objective uses lambda, so models trained with objective mle are
    never part of a sweep.
    """
    sweeps = settings_sweeps(config, "mle_weight", lambda settings: settings["objective"] == "rank")
    return {label: {model: float(weight) for model, weight in weights.items()} for label, weights in sweeps.items()}


def data_sweeps(config: dict) -> dict[str, dict[str, int | None]]:
    """Data-amount (train.max_examples) sweeps: label -> {model: max_examples, None for all}."""
    return settings_sweeps(config, "max_examples")


def repeat_option(flag: str, values) -> str:
    """("--model", ["a", "b"]) -> "--model a --model b" (shell-quoted), for the rule's params."""
    return shlex.join(arg for value in values for arg in (flag, str(value)))
