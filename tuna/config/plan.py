"""The plan of a config: the model graph, each model's data and settings, providers and files.

Built once by tuna.config.load; the Snakemake rules, `tuna cost estimate`, `tuna
check-config` and the report read it, so nothing re-derives a path or re-states a default.
"""

from __future__ import annotations

import shlex
from functools import cached_property
from importlib import resources

import yaml
from pydantic import ValidationError

from tuna.config import checks
from tuna.config import settings as s
from tuna.config.arguments import cli_options, launcher, repeat_option, training_options
from tuna.config.layout import Layout, beta_suffix, set_token, superni_set
from tuna.config.models import FORMAT_FIELDS, DataPart, ExternalModel, ImportedModel, ModelSpec, TrainedModel
from tuna.config.providers import API_OPTIONS, ResolvedProvider, api_limits, resolve
from tuna.config.report_spec import ReportSpec, report_spec
from tuna.errors import TunaError

# The preference data sets `export_preferences` writes of a ranking (results/preferences/{set}/{export}):
# `tuna export-preferences` options of each.
PREFERENCE_EXPORTS = {"pairwise": {"format": "pairwise", "pairs": "all"},
                      "best_vs_rest": {"format": "pairwise", "pairs": "best-vs-rest"},
                      "listwise": {"format": "listwise"}}


def train_settings(top: dict, model: str, spec: TrainedModel, source: str) -> s.Train:
    """`train:` overridden by `models.M.train`; an error names the key it came from."""
    merged = {**top, **spec.train}
    try:
        return s.Train.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = error["loc"][0] if error["loc"] else None
        where = ("models", model, "train") if key is None or key in spec.train else ("train",)
        raise TunaError(f"{source}: {s.one_line(exc, where)}") from None


class Plan:
    def __init__(self, config: s.Config, models: dict[str, ModelSpec], source: str, aliases: dict[str, str] | None = None):
        self.config = config
        self.models = models  # what the workflow makes or evaluates
        self.aliases = aliases or {}  # another name -> the declared model it stands for
        self.source = source
        self.layout = Layout(config.root)

    # -- the model graph -------------------------------------------------------------
    def error(self, key: str, message: str) -> TunaError:
        return TunaError(f"{self.source}: {key}: {message}")

    def must_be_model(self, name: str, key: str, kinds=(ImportedModel, TrainedModel, ExternalModel)) -> None:
        if name in self.aliases:
            raise self.error(key, f"'{name}' is an alias of '{self.aliases[name]}': name '{self.aliases[name]}' here")
        if name not in self.models:
            raise self.error(key, f"unknown model '{name}' (declared: {', '.join(sorted(self.models))})")
        if not isinstance(self.models[name], kinds):
            raise self.error(key, f"'{name}' is an external endpoint: it has no checkpoint to train or sample from")

    def imported(self, gguf: bool | None = None) -> list[str]:
        return [n for n, m in self.models.items() if isinstance(m, ImportedModel) and gguf in (None, m.gguf)]

    def trained(self) -> list[str]:
        return [n for n, m in self.models.items() if isinstance(m, TrainedModel)]

    def referenced(self) -> list[str]:
        """Trained models whose objective learns against a frozen reference (dpo): the init checkpoint's
        log-probs of their training candidates, made once by `tuna reference` (Layout.reference)."""
        return [n for n in self.trained() if self.train(n).objective in s.REFERENCE_OBJECTIVES]

    def dependencies(self, name: str) -> list[str]:
        """Models whose checkpoints must exist before this model can be made."""
        spec = self.models[name]
        if not isinstance(spec, TrainedModel):
            return []
        deps = [spec.init] + [part.model for part in spec.data if part.model]
        deps += [self.prm(part).backbone for part in spec.data if part.name == "prm_rank"]
        return list(dict.fromkeys(deps))

    def order(self) -> list[str]:
        """Models in an order where each comes after the models it needs; cycles rejected."""
        order, visiting = [], set()

        def visit(name: str, chain: tuple) -> None:
            if name in order:
                return
            if name in visiting:
                raise self.error("models", f"cycle {' -> '.join(chain + (name,))}")
            visiting.add(name)
            for dep in self.dependencies(name):
                visit(dep, chain + (name,))
            visiting.discard(name)
            order.append(name)

        for name in self.models:
            visit(name, ())
        return order

    def template(self, model: str) -> str:
        """A model's prompt template: its own, else the one of the model it was trained from."""
        spec = self.models[model]
        if spec.template is not None:
            return spec.template
        return self.template(spec.init)

    # -- training data ---------------------------------------------------------------
    def train(self, model: str) -> s.Train:
        return self._train_settings[model]

    @cached_property
    def _train_settings(self) -> dict[str, s.Train]:
        return {name: train_settings(self.config.train, name, self.models[name], self.source)
                for name in self.trained()}

    def prm_name(self, part: DataPart) -> str:
        return part.prm or next(iter(self.config.prms), "")

    def prm(self, part: DataPart) -> s.Prm:
        return self.config.prms[self.prm_name(part)]

    def set_file(self, part: DataPart) -> str:
        """The file holding a whole data set."""
        L = self.layout
        beta = None if part.beta is None or part.beta == self.config.scoring.beta else part.beta
        if part.name == "alpaca_mul":
            return self.set_file(DataPart(set=part.responses_of))
        if part.name == "prob_rank":
            return L.prob_ranked(beta_suffix(beta))
        if part.name == "released_prob":
            return L.released("prob", beta_suffix(beta))
        if part.name == "released_judge":
            return L.released("judge")
        if part.name == "ctx_rank":
            return L.ctx_ranked(part.model)
        if part.name == "prm_rank":
            return L.prm_ranked(part.model, self.prm_name(part))
        if part.name == "preferences":
            return L.imported_preferences(part.import_name)
        return L.instructions()

    def train_input(self, model: str) -> str:
        """The file `tuna train` reads: the set itself, or the mixture built for the model."""
        single = self.models[model].single_set
        return self.set_file(single) if single else self.layout.train_data(model)

    def mixtures(self) -> list[str]:
        """Trained models whose data is a slice, a mixture or Alpaca-Mul (built by `tuna mix-data`)."""
        return [m for m in self.trained() if self.models[m].single_set is None]

    def mixture_args(self, model: str) -> str:
        spec = self.models[model]
        parts = [arg for part in spec.data for arg in ("--part", self.set_file(part), part.slice_arg())]
        mul = any(part.name == "alpaca_mul" for part in spec.data)
        return shlex.join(parts) + (" --alpaca-mul" if mul else "") + f" --seed {self.train(model).seed}"

    # -- preference data in and out -------------------------------------------------
    def preference_imports(self) -> dict[str, DataPart]:
        """Preference data from elsewhere that models train on, by import name (results/preferences/imported/)."""
        return {part.import_name: part for part in self.all_parts() if part.name == "preferences"}

    def preference_file(self, part: DataPart) -> str:
        """The file an import of preference data reads (the one place its `path` is resolved: a path or
        `download:NAME` now; Hub ids, `hf:ORG/NAME`, once they land)."""
        return self.located(part.path)

    def import_args(self, part: DataPart) -> str:
        """`tuna import-preferences` options of a preferences part: its format and every field it reads."""
        fields = [f"{key}={getattr(part.mapping, key) or ''}" for key in FORMAT_FIELDS[part.format]]
        return cli_options({"format": part.format}) + " " + repeat_option("--field", fields)

    def ranked_sets(self) -> dict[str, DataPart]:
        """Every ranking data set the workflow can make, by its name in a path (`ctx_rank:M` written
        `ctx_rank-M`, a PRM's ranks `prm_rank-M`, or `prm_rank-M-PRM` for one not declared first, imported
        preference data `preferences-NAME`): what `export_preferences` exports."""
        config, parts = self.config, []
        if config.teacher.provider is not None:
            parts.append(DataPart(set="prob_rank"))
        parts += [DataPart(set=f"released_{kind}") for kind in ("prob", "judge") if getattr(config.released, kind)]
        if config.judge.provider is not None:
            parts += [DataPart(set=f"ctx_rank:{model}") for model in self.sampled_models()]
        default_prm = next(iter(config.prms), None)
        parts += [DataPart(set=f"prm_rank:{model}", prm=None if prm == default_prm else prm)
                  for model, prm in self.prm_jobs()]
        sets = {set_token(part.set) + (f"-{part.prm}" if part.prm else ""): part for part in parts}
        return sets | {f"preferences-{name}": part for name, part in self.preference_imports().items()}

    def set_template(self, part: DataPart) -> str:
        """The prompt format of a ranking's responses: the model that wrote them (the teacher's for prob_rank),
        Alpaca's for the authors' released data, chat (conversations) for preference data from elsewhere."""
        if part.model:
            return self.template(part.model)
        if part.name == "prob_rank":
            return self.teacher().template
        return "alpaca" if part.name.startswith("released_") else "chat"

    def export_args(self, ranking: str, export: str) -> str:
        """`tuna export-preferences` options of one export of a ranking data set."""
        return cli_options({**PREFERENCE_EXPORTS[export], "template": self.set_template(self.ranked_sets()[ranking])})

    def all_parts(self) -> list[DataPart]:
        return [part for m in self.trained() for part in self.models[m].data]

    def scoring_betas(self, name: str) -> dict[str, float]:
        """Extra Eq. 3 scorings of `prob_rank` or `released_prob`: file suffix -> beta."""
        default = self.config.scoring.beta
        return {beta_suffix(p.beta): p.beta for p in self.all_parts()
                if p.name == name and p.beta is not None and p.beta != default}

    def sampled_models(self) -> list[str]:
        """Models that sample themselves for contextual ranking (named by ctx_rank:M or prm_rank:M)."""
        return list(dict.fromkeys(p.model for p in self.all_parts() if p.model))

    def prm_jobs(self) -> list[tuple[str, str]]:
        """(sampled model, PRM name) of every proxy ranking model the data needs."""
        return list(dict.fromkeys((p.model, self.prm_name(p)) for p in self.all_parts() if p.name == "prm_rank"))

    def samples_all(self, model: str) -> bool:
        """A PRM ranks this model's samples beyond the judged ones, so it samples every instruction."""
        return any(m == model for m, _ in self.prm_jobs())

    # -- providers -------------------------------------------------------------------
    def resolve(self, spec: s.ProviderSpec, model: str | None = None) -> ResolvedProvider:
        """A provider spec, with `model` filled in for self-sampling and evaluation."""
        return resolve(spec, model, self)

    def teacher(self) -> ResolvedProvider:
        return self.resolve(self.config.teacher.provider)

    def judge(self) -> ResolvedProvider:
        return self.resolve(self.config.judge.provider)

    def sampler(self, model: str) -> ResolvedProvider:
        return self.resolve(self.config.sampling.provider, model)

    def answerer(self, model: str) -> ResolvedProvider:
        spec = self.models[model]
        if isinstance(spec, ExternalModel):
            return self.resolve(spec.endpoint.model_copy(update={"model": spec.endpoint.model or model}))
        return self.resolve(self.config.evaluation.generation.provider, model)

    def vicuna_judge(self) -> ResolvedProvider:
        return self.resolve(self.config.evaluation.vicuna.judge or self.config.judge.provider)

    def api_limits(self) -> dict[str, int]:
        return api_limits(self.config)

    @staticmethod
    def api_options() -> str:
        return API_OPTIONS

    # -- stages ----------------------------------------------------------------------
    @property
    def shards(self) -> list[int]:
        return list(range(self.config.data.shards))

    def instructions_source(self) -> list[str]:
        """The raw instruction file: none for the demo set, the download for Alpaca, else a path."""
        source = self.config.data.source
        if source == "demo":
            return []
        return [self.layout.download("alpaca_data.json")] if source == "alpaca" else [source]

    @cached_property
    def downloads(self) -> dict[str, s.Download]:
        """Upstream files by name: tuna's pinned list (tuna/config/downloads.yaml) and the config's `downloads`."""
        packaged = yaml.safe_load(resources.files("tuna.config").joinpath("downloads.yaml").read_text("utf-8"))
        return {**{name: s.Download(**spec) for name, spec in packaged.items()}, **self.config.downloads}

    def located(self, location: str) -> str:
        """A user-given file: `download:NAME` -> where the download lands, else the path itself."""
        if location.startswith("download:"):
            return self.layout.download(location.removeprefix("download:"))
        return location

    def released_source(self, kind: str) -> str:
        return self.located(getattr(self.config.released, kind))

    def uses_teacher(self) -> bool:
        return any(p.traits.teacher for p in self.all_parts())

    def train_launcher(self, model: str) -> str:
        return launcher(self.train(model), "train", "tuna.cli.train", model)

    def train_options(self, model: str) -> str:
        return training_options(self.train(model))

    def prm_launcher(self, model: str, prm: str) -> str:
        """`tuna prm-train` for the proxy ranking model `prm` trained on `model`'s judged samples."""
        return launcher(self.config.prms[prm], "prm-train", "tuna.cli.prm", f"prm-{model}-{prm}")

    def prm_options(self, prm: str) -> str:
        return training_options(self.config.prms[prm], exclude={"backbone", "rank_batch_size"})

    def reference_options(self, model: str) -> str:
        """The training keys that pick and tokenize the examples, as `tuna reference` options."""
        return cli_options(self.train(model).model_dump(include=set(s.REFERENCE_KEYS)))

    # -- evaluation ------------------------------------------------------------------
    @property
    def eval_models(self) -> list[str]:
        """The models evaluated: `evaluation.models` (an alias stands for its model), else every declared one."""
        named = self.config.evaluation.models or list(self.models)
        return list(dict.fromkeys(self.aliases.get(name, name) for name in named))

    def canonical(self, name: str) -> str:
        """The declared model a name stands for (itself, unless it is an alias)."""
        return self.aliases.get(name, name)

    @property
    def baseline(self) -> str:
        return self.config.evaluation.baseline

    @property
    def benchmarks(self) -> list[str]:
        return list(self.config.evaluation.benchmarks)

    def judged_models(self) -> list[str]:
        """Evaluated models judged against the baseline on Vicuna QA."""
        return [m for m in self.eval_models if m != self.baseline] if "vicuna" in self.benchmarks else []

    def answer_sets(self) -> list[str]:
        """The prompt sets evaluated models answer (`vicuna`, `superni_0shot`, ...)."""
        shots = self.config.evaluation.superni.shots
        sets = {"vicuna": ["vicuna"], "superni": [superni_set(k) for k in shots], "lmentry": ["lmentry"]}
        return [name for benchmark in self.benchmarks for name in sets[benchmark]]

    def answer_max_tokens(self, prompts: str) -> int:
        evaluation = self.config.evaluation
        return evaluation.superni.max_tokens if prompts.startswith("superni") else evaluation.generation.max_tokens

    def vicuna_files(self) -> dict[str, str | None]:
        """The upstream question and judge-prompt files (None: tuna's demo set)."""
        vicuna = self.config.evaluation.vicuna
        if vicuna.questions != "vicuna":
            return {"questions": None, "judge_prompts": None}
        return {"questions": self.layout.download("vicuna_question.jsonl"),
                "judge_prompts": self.layout.download(f"vicuna_{vicuna.style}_prompts.jsonl")}

    def results(self) -> list[str]:
        """Every benchmark result file of the evaluation grid."""
        return [self.layout.result(m, b) for m in self.eval_models for b in self.benchmarks
                if not (b == "vicuna" and m == self.baseline)]

    # -- held-out evaluation ---------------------------------------------------------
    def held_out_models(self) -> list[str]:
        """Models whose held-out agreement and NLL are evaluated (none without a held-out split
        or NLL data)."""
        held_out = self.config.evaluation.held_out
        if not (self.config.data.held_out or held_out.nll_data):
            return []
        return list(self.eval_models if held_out.models is None else held_out.models)

    def agreement_rankings(self) -> dict[str, str]:
        """Ranking data set (`ctx_rank:M`) -> its file (none without a held-out split)."""
        if not self.config.data.held_out:
            return {}
        return {ranking: self.set_file(DataPart(set=ranking))
                for ranking in self.config.evaluation.held_out.rankings}

    def nll_data(self) -> dict[str, str]:
        """NLL data set name -> its file (a download's place under resources/, or the path given)."""
        return {name: self.located(location) for name, location in self.config.evaluation.held_out.nll_data.items()}

    def held_out_max_length(self, model: str) -> int:
        """The max_length a model is scored with: its own training's, else the `train:` default."""
        return (self.train(model) if model in self.trained() else s.Train(**self.config.train)).max_length

    def prm_agreements(self) -> dict[tuple[str, str], str]:
        """(sampled model, PRM) -> the PRM's held-out agreement with the judge (with a held-out split)."""
        return {job: self.layout.prm_agreement(*job) for job in self.prm_jobs()} if self.config.data.held_out else {}

    def held_out_results(self) -> list[str]:
        """Every held-out agreement and NLL result file, and each proxy ranking model's agreement."""
        L, split = self.layout, bool(self.config.data.held_out)
        files = [path for m in self.held_out_models()
                 for path in [L.agreement(m, r) for r in self.agreement_rankings()]
                 + ([L.nll(m)] if split and self.config.evaluation.held_out.nll else [])
                 + [L.nll(m, name) for name in self.nll_data()]]
        return files + list(self.prm_agreements().values())

    def report_spec(self) -> ReportSpec:
        """What the report shows and every file it reads (tuna.config.report_spec)."""
        return report_spec(self)

    # -- checks ----------------------------------------------------------------------
    def check(self) -> None:
        """References, cycles, and what each data set needs, before any job runs (tuna.config.checks)."""
        checks.check(self)

    def set_size(self, part: DataPart) -> int | None:
        """Records in a data set when the config fixes it (one per instruction used: the `limit`
        training ones and a held-out count; a held-out fraction depends on the source), else None."""
        held_out = self.config.data.held_out
        limit = self.config.data.limit
        limit = None if limit is None or 0 < held_out < 1 else limit + int(held_out)
        judged = self.config.data.ctx_rank_limit
        if part.name == "prob_rank" or part.name == "instructions":
            return limit
        if part.name == "ctx_rank":  # the first ctx_rank_limit training instructions and the held-out ones
            if judged is None or 0 < held_out < 1:
                return limit if judged is None else None
            return min(judged, self.config.data.limit or judged) + int(held_out)
        if part.name == "prm_rank":  # the PRM ranks every instruction its model sampled
            return limit
        return None
