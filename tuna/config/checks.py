"""The checks of a plan before any job runs: model references and cycles, what each data set
needs, evaluation and held-out settings, providers. Each failure is one TunaError naming
the config file and key."""

from __future__ import annotations

import re
from pathlib import Path

from tuna.config import settings as s
from tuna.config.models import DataPart, ImportedModel, TrainedModel
from tuna.config.report_spec import OWN_TABLES


def check(plan) -> None:
    """References, cycles, and what each data set needs, before any job runs."""
    config = plan.config
    for name, spec in plan.models.items():
        if isinstance(spec, TrainedModel):
            plan.must_be_model(spec.init, f"models.{name}.init", (ImportedModel, TrainedModel))
            _check_data(plan, name, spec)
            own = {"lora", "num_gpus"} & set(spec.train)
            _check_gpu_for_qlora(plan, plan.train(name), f"models.{name}.train" if own else "train")
    plan.order()
    for name, target in plan.aliases.items():
        plan.must_be_model(target, f"models.{name}.alias")
    for index, name in enumerate(config.evaluation.models):
        plan.must_be_model(plan.canonical(name), f"evaluation.models.{index}")
    for table, models in config.evaluation.tables.items():
        if not re.match(s.NAME_PATTERN, table) or table in OWN_TABLES:
            raise plan.error(f"evaluation.tables.{table}", "a table name matches "
                              f"{s.NAME_PATTERN} and is not one of the report's own tables")
        for index, name in enumerate(models):
            if plan.canonical(name) not in plan.eval_models:
                raise plan.error(f"evaluation.tables.{table}.{index}", f"'{name}' is not an evaluated model")
    if plan.eval_models:
        plan.must_be_model(plan.baseline, "evaluation.baseline")
    for name, prm in config.prms.items():
        plan.must_be_model(prm.backbone, f"prms.{name}.backbone", (ImportedModel, TrainedModel))
        _check_gpu_for_qlora(plan, prm, f"prms.{name}")
    for index, name in enumerate(config.evaluation.held_out.models or []):
        plan.must_be_model(name, f"evaluation.held_out.models.{index}", (ImportedModel, TrainedModel))
    for name, location in config.evaluation.held_out.nll_data.items():
        key = f"evaluation.held_out.nll_data.{name}"
        if not re.match(s.NAME_PATTERN, name):
            raise plan.error(key, f"an NLL data set's name matches {s.NAME_PATTERN}")
        if location.startswith("download:") and location.removeprefix("download:") not in plan.downloads:
            raise plan.error(key, f"unknown download '{location.removeprefix('download:')}' "
                              f"(declared: {', '.join(sorted(plan.downloads))})")
    for index, ranking in enumerate(config.evaluation.held_out.rankings):
        try:
            DataPart(set=ranking)
        except ValueError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise plan.error(f"evaluation.held_out.rankings.{index}", message) from None
    for key, spec in _providers(plan):
        if spec is not None:  # a missing one is named by the checks of what needs it
            _check_provider(plan, key, spec)
    if "vicuna" in plan.benchmarks and plan.judged_models() and not (
            config.evaluation.vicuna.judge or config.judge.provider):
        raise plan.error("judge.provider", "Vicuna QA is evaluated: set judge.provider or evaluation.vicuna.judge")


def _check_gpu_for_qlora(plan, settings: s.Optimization, key: str) -> None:
    """QLoRA's 4-bit kernels need CUDA: a job that asks for no GPU runs on a CPU."""
    if settings.lora and settings.lora.quantize and not settings.num_gpus:
        raise plan.error(f"{key}.lora.quantize", f"{settings.lora.quantize} (QLoRA) needs a CUDA GPU and this "
                         "job asks for none: set num_gpus: 1, or lora.quantize: null (LoRA on a CPU)")


def _check_data(plan, name: str, spec: TrainedModel) -> None:
    config = plan.config
    objective = plan.train(name).objective
    if spec.kind == "supervised" and objective != "mle":
        raise plan.error(f"models.{name}.data", f"{spec.data[0].set} is supervised data: set "
                          f"models.{name}.train.objective: mle")
    for index, part in enumerate(spec.data):
        key = f"models.{name}.data" + (f".{index}" if len(spec.data) > 1 else "")
        if part.model:
            plan.must_be_model(part.model, key, (ImportedModel, TrainedModel))
        if part.traits.teacher and config.teacher.provider is None:
            raise plan.error("teacher.provider", f"required by {key} ({part.set})")
        if part.traits.judge and config.judge.provider is None:
            raise plan.error("judge.provider", f"required by {key} ({part.set})")
        if part.name == "prm_rank":
            if not config.prms:
                raise plan.error(key, "prm_rank needs a proxy ranking model: declare one under prms")
            if part.prm is not None and part.prm not in config.prms:
                raise plan.error(f"{key}.prm", f"unknown proxy ranking model '{part.prm}' "
                                  f"(declared: {', '.join(config.prms)})")
        released = part.responses_of if part.name == "alpaca_mul" else part.name
        if released.startswith("released_") and getattr(config.released, released.split("_")[1]) is None:
            raise plan.error(key, f"{part.label()} needs released.{released.split('_')[1]} (a path or download:NAME)")
        if part.name == "preferences":
            _check_preferences(plan, name, part, key)
        size = plan.set_size(part)
        end = part.first or part.last or (part.range[1] if part.range else None)
        if size is not None and end is not None and end > size:
            raise plan.error(key, f"slice past the end: {part.label()} of a set of {size} records")

def _check_preferences(plan, name: str, part: DataPart, key: str) -> None:
    """A `download:NAME` path names a declared download. Preference data from elsewhere has no original
    response unless one is mapped, and training skips every example without one when the loss uses it
    (objective mle, or Eq. 6's MLE term of any ranking objective but rrhf: Train.uses_original)."""
    download = part.path.removeprefix("download:")
    if download != part.path and download not in plan.downloads:
        raise plan.error(f"{key}.path", f"unknown download '{download}' "
                          f"(declared: {', '.join(sorted(plan.downloads))})")
    train = plan.train(name)
    if part.mapping.output is None and train.uses_original:
        raise plan.error(f"{key}.fields.output", "the data has no original response for the MLE term "
                          f"(Eq. 6): map one, or set models.{name}.train.mle_weight: 0"
                          + ("" if train.objective == "mle" else " (objective rrhf needs none: its cross-entropy "
                                                                 "is on the best-ranked response)"))

def _providers(plan):
    config = plan.config
    if plan.uses_teacher():
        yield "teacher.provider", config.teacher.provider
    if plan.sampled_models():
        yield "sampling.provider", config.sampling.provider
        yield "judge.provider", config.judge.provider
    if plan.judged_models():
        yield ("evaluation.vicuna.judge" if config.evaluation.vicuna.judge else "judge.provider",
               config.evaluation.vicuna.judge or config.judge.provider)
    yield "evaluation.generation.provider", config.evaluation.generation.provider

def _check_provider(plan, key: str, spec: s.ProviderSpec) -> None:
    model = spec.model
    if spec.kind == "openai":
        if model is None:
            raise plan.error(f"{key}.model", "an openai provider names its API model id")
        return
    if model is None:
        return
    if model in plan.models:
        plan.must_be_model(model, f"{key}.model", (ImportedModel, TrainedModel))
        source = plan.models[model]
        if spec.kind == "llamacpp" and spec.quant == "source" and not (
                isinstance(source, ImportedModel) and source.gguf):
            raise plan.error(f"{key}.quant", f"'source' needs model '{model}' imported from a .gguf file")
    elif re.match(s.NAME_PATTERN, model) and not Path(model).exists():
        raise plan.error(f"{key}.model", f"unknown model '{model}' (declared: {', '.join(sorted(plan.models))})")
