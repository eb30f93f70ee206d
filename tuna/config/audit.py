"""`tuna check-config`: a config checked, and its resolved plan as one JSON document (`--json`).

What a reader needs to audit an experiment without reading code: every model's kind and
where it comes from, each data part as the workflow builds it (set, sampled model, slice,
beta, proxy ranking model, the file it is read from), the training hyper-parameters after
the defaults are filled in, the providers, and the evaluation grid. Everything is read from
the Plan, so it is what the rules run.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuna.config.loading import load_file
from tuna.config.models import DataPart, ExternalModel, ImportedModel, TrainedModel
from tuna.config.plan import Plan, ResolvedProvider
from tuna.config.settings import ProviderSpec


def check(config_file: Path, as_json: bool = False) -> str:
    """The config at `config_file` loaded and checked (a TunaError says what is wrong, and where):
    its resolved plan as JSON, or one line naming its models and aliases."""
    plan = load_file(config_file)
    if as_json:
        return json.dumps(resolved(plan), indent=2)
    aliases = f"; aliases: {', '.join(f'{a} = {t}' for a, t in plan.aliases.items())}" if plan.aliases else ""
    return f"{config_file}: ok ({len(plan.models)} models: {', '.join(plan.models)}{aliases})"


def resolved(plan: Plan) -> dict:
    config = plan.config
    return {
        "config": plan.source,
        "root": config.root,
        "data": config.data.model_dump(),
        "models": {**{name: model(plan, name) for name in plan.order()},
                   **{name: {"kind": "alias", "alias": target} for name, target in plan.aliases.items()}},
        "prms": {name: {**prm.model_dump(), "trained_on": [f"ctx_rank:{m}" for m, p in plan.prm_jobs() if p == name]}
                 for name, prm in config.prms.items()},
        "providers": providers(plan),
        "evaluation": evaluation(plan),
    }


def model(plan: Plan, name: str) -> dict:
    declared = plan.models[name]
    if isinstance(declared, ImportedModel):
        return {"kind": "imported", "source": declared.import_, "template": declared.template}
    if isinstance(declared, ExternalModel):
        return {"kind": "external", "endpoint": spec(declared.endpoint), "template": declared.template}
    assert isinstance(declared, TrainedModel)
    return {"kind": "trained", "init": declared.init, "template": plan.template(name),
            "objective": plan.train(name).objective, "data": [part(plan, p) for p in declared.data],
            "train_data": plan.train_input(name), "train": plan.train(name).model_dump()}


def part(plan: Plan, data: DataPart) -> dict:
    """One data part as the workflow builds it."""
    entry = {"set": data.name, "model": data.model, "slice": data.slice_arg(), "records": plan.set_size(data),
             "file": plan.set_file(data)}
    if data.name in ("prob_rank", "released_prob"):
        entry["beta"] = data.beta if data.beta is not None else plan.config.scoring.beta
    if data.name == "prm_rank":
        entry["prm"] = plan.prm_name(data)
        entry["prm_backbone"] = plan.prm(data).backbone
    if data.name == "alpaca_mul":
        entry["of"] = data.responses_of
    return entry


def spec(provider_spec: ProviderSpec) -> dict:
    """A provider as the config gives it: its kind and the keys that differ from the defaults."""
    return {"kind": provider_spec.kind, **provider_spec.model_dump(exclude_defaults=True)}


def provider(resolved_provider: ResolvedProvider) -> dict:
    """A provider as a job runs it: the file it loads and the prompt template."""
    return {**spec(resolved_provider.spec), "location": resolved_provider.location,
            "template": resolved_provider.template}


def providers(plan: Plan) -> dict:
    config = plan.config
    out = {}
    if config.teacher.provider is not None:
        out["teacher"] = {**provider(plan.teacher()), "settings": config.teacher.model_dump(exclude={"provider"})}
    out["sampling"] = {**spec(config.sampling.provider), "settings": config.sampling.model_dump(exclude={"provider"}),
                       "models": plan.sampled_models()}
    if config.judge.provider is not None:
        out["judge"] = {**provider(plan.judge()), "settings": config.judge.model_dump(exclude={"provider"})}
    return out


def evaluation(plan: Plan) -> dict:
    evaluation = plan.config.evaluation
    grid = {model: [b for b in plan.benchmarks if not (b == "vicuna" and model == plan.baseline)]
            for model in plan.eval_models}
    vicuna = evaluation.vicuna.model_dump(exclude={"judge"})
    if plan.judged_models():
        vicuna["judge"] = provider(plan.vicuna_judge())
    return {
        "baseline": plan.baseline,
        "benchmarks": plan.benchmarks,
        "grid": grid,
        "aliases": {alias: target for alias, target in plan.aliases.items() if target in grid},
        "tables": dict(evaluation.tables),
        "generation": {**evaluation.generation.model_dump(exclude={"provider"}),
                       "provider": spec(evaluation.generation.provider)},
        "vicuna": vicuna,
        "superni": evaluation.superni.model_dump(),
        "lmentry": evaluation.lmentry.model_dump(),
        "held_out": {"models": plan.held_out_models(), "rankings": list(plan.agreement_rankings()),
                     "nll": evaluation.held_out.nll, "nll_data": plan.nll_data()},
        "bootstrap": evaluation.bootstrap.model_dump(),
    }
