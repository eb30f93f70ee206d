"""Sweeps a config evaluates: groups of models that differ in one setting only.

The report draws them (the lambda and data-amount plots, Table 5's beta choice); the
plan finds them, so a sweep is a set of config entries, not an option of the report.
"""

from __future__ import annotations

from tuna.config.models import ImportedModel, TrainedModel


def settings_sweeps(plan, key: str, applies=lambda settings: True) -> dict[str, dict]:
    """Groups of evaluated trained models with the same init, data and training settings
    except `key`, at two or more values of it: label (init+data) -> {model: value}.

    Unset (null) settings count as absent. Models whose settings fail `applies` are
    never part of a sweep.
    """
    groups: dict[tuple, dict] = {}
    for model in plan.eval_models:
        spec = plan.models[model]
        if not isinstance(spec, TrainedModel):
            continue
        settings = plan.train(model).model_dump()
        if not applies(settings):
            continue
        rest = tuple(sorted((k, repr(v)) for k, v in settings.items() if k != key and v is not None))
        data = "+".join(part.label() for part in spec.data)
        groups.setdefault((spec.init, data, rest), {})[model] = settings.get(key)
    return _sweeps(groups)


def _sweeps(groups: dict[tuple, dict]) -> dict[str, dict]:
    """The groups (keyed by init, data, ...) whose models take two or more values: label -> {model: value}."""
    sweeps = {}
    for (init, data, *_), values in groups.items():
        if len(set(values.values())) > 1:
            label = f"{init}+{data}"
            sweeps[label if label not in sweeps else f"{label}#{len(sweeps) + 1}"] = values
    return sweeps


def mle_weight_sweeps(plan) -> dict[str, dict[str, float]]:
    """Lambda (train.mle_weight) sweeps: label -> {model: lambda} (ranking objective only)."""
    sweeps = settings_sweeps(plan, "mle_weight", lambda settings: settings["objective"] == "rank")
    return {label: {model: float(weight) for model, weight in weights.items()} for label, weights in sweeps.items()}


def data_sweeps(plan) -> dict[str, dict[str, int | None]]:
    """Data-amount (train.max_examples) sweeps: label -> {model: max_examples, None for all}.

    An evaluated imported init model is the sweep's 0 point (Alpaca in Fig. 3).
    """
    sweeps = settings_sweeps(plan, "max_examples")
    for points in sweeps.values():
        init = plan.models[next(iter(points))].init
        if init in plan.eval_models and isinstance(plan.models[init], ImportedModel):
            points[init] = 0
    return sweeps


def beta_sweeps(plan) -> dict[str, dict[str, float]]:
    """Table 5's Eq. 3 beta sweeps: groups of held-out-evaluated trained models with the same
    init, training settings and data except the beta of their one Eq. 3-scored part
    (`scoring.beta` where the part sets none), at two or more betas: label -> {model: beta}."""
    held_out = plan.config.evaluation.held_out
    if not ((plan.config.data.held_out and held_out.nll) or held_out.nll_data):
        return {}  # no NLL to choose by
    groups: dict[tuple, dict] = {}
    for model in plan.held_out_models():
        spec = plan.models[model]
        scored = [p for p in spec.data if p.traits.scored] if isinstance(spec, TrainedModel) else []
        if len(scored) != 1:
            continue
        data = "+".join(part.model_copy(update={"beta": None}).label() for part in spec.data)
        settings = repr(sorted(plan.train(model).model_dump().items()))
        beta = plan.config.scoring.beta if scored[0].beta is None else scored[0].beta
        groups.setdefault((spec.init, data, settings), {})[model] = float(beta)
    return _sweeps(groups)
