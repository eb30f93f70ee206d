"""How a model is made (`models:`), and the data algebra of what a trained model learns from.

A model is imported (a GGUF, an HF directory), trained (`init` + `data` + `train`), an
external endpoint that is only evaluated, or an alias: another name of a declared model
(the paper's Table 1 "Tuna_c (PRM)" is Appendix D's "Tuna_c (PRM-3B-52K)"), made and
evaluated once, shown under both names. A trained model's `data` is one data set, a
slice of one, or a concatenation (a mixture) of several:

    data: prob_rank                                   # one set
    data: {set: prob_rank, last: 39000}               # a slice: first K, last K or range [a, b)
    data: {set: prob_rank, beta: 0.9}                 # Eq. 3 with the model's own beta (Table 5)
    data: [{set: ctx_rank:alpaca, first: 13000}, {set: prob_rank, last: 39000}]   # a mixture
    data: {set: preferences, path: uf.jsonl, format: listwise,                     # preference data
           fields: {prompt: instruction, completions: completions.*.response,      # from elsewhere
                    scores: completions.*.overall_score}}                          # (tuna.preferences)
    data: {set: prm_rank:alpaca, prm: prm_3b, last: 39000}   # a proxy ranking model's ranks, sliced

Ranked sets train with the ranking objective; supervised sets (`instructions`,
`alpaca_mul`) with plain MLE; a mixture holds one kind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pydantic import Field, field_validator, model_validator

from tuna.config.settings import AlpacaMulSource, Location, PreferenceFormat, ProviderSpec, Section, Template


@dataclass(frozen=True)
class SetTraits:
    """What a data set is: ranked or supervised, and what it needs."""

    kind: str  # `ranked` (the ranking objective) or `supervised` (plain MLE)
    needs_model: bool = False  # named after a model: `ctx_rank:M`
    scored: bool = False  # ranked by Eq. 3, so it takes a `beta`
    teacher: bool = False  # made from the teacher's responses
    judge: bool = False  # made from the judge's ranks
    ordered: bool = True  # each candidate at a rank position of its own (Table 4); preference data may tie


DATA_SETS = {
    "prob_rank": SetTraits("ranked", scored=True, teacher=True),
    "ctx_rank": SetTraits("ranked", needs_model=True, judge=True),
    "prm_rank": SetTraits("ranked", needs_model=True, judge=True),
    "released_prob": SetTraits("ranked", scored=True),
    "released_judge": SetTraits("ranked"),
    "instructions": SetTraits("supervised"),
    "alpaca_mul": SetTraits("supervised", teacher=True),
    "preferences": SetTraits("ranked", ordered=False),
}
# The fields of PreferenceFields each format reads.
FORMAT_FIELDS = {"listwise": ("prompt", "input", "output", "completions", "scores", "ranks"),
                 "pairwise": ("prompt", "input", "output", "chosen", "rejected")}
HUB_PREFIX = "hf:"  # a Hub data set id (hf:ORG/NAME): not supported yet for preference data
SET_PATTERN = re.compile(r"^(?P<name>[a-z_]+)(?::(?P<model>[a-z][a-z0-9_]*))?$")


class PreferenceFields(Section):
    """Where each value sits in a row of `preferences` data: a dotted path into the row's JSON (`a.b`; `a.0`, `a.-1`: a list's first, last item). In `completions`, `scores` and `ranks` one `*` walks a list (`completions.*.response`). A text may be a string or TRL's conversational form (a list of `{role, content}` messages: the prompt's one user turn, a response's last assistant turn)."""

    prompt: str = "prompt"
    """The instruction."""
    input: str | None = None
    """The instruction's input (Alpaca's context), if the data has one."""
    output: str | None = None
    """A reference response, the target of the MLE term (Eq. 6); `null`: none, so a model training on the data sets `train.mle_weight: 0` (or trains with `objective: rrhf`, whose cross-entropy is on the best-ranked response)."""
    completions: str = "completions"
    """`listwise`: the responses (UltraFeedback: `completions.*.response`). Empty ones are left out and counted."""
    scores: str | None = "scores"
    """`listwise`: each response's score, higher is better (UltraFeedback: `completions.*.overall_score`); equal scores form one rank group (a tie). `null` with no `ranks`: the responses are listed best first."""
    ranks: str | None = None
    """`listwise`: each response's rank, lower is better, equal ranks tied; used instead of `scores`."""
    chosen: str = "chosen"
    """`pairwise`: the preferred response."""
    rejected: str = "rejected"
    """`pairwise`: the other response."""

    @model_validator(mode="after")
    def _stars(self):
        for name, path in self:
            if path is None:
                continue
            if not all(path.split(".")):
                raise ValueError(f"{name}: '{path}' is not a dotted path (a.b.c)")
            stars = path.split(".").count("*")
            if stars > (1 if name in ("completions", "scores", "ranks") else 0):
                raise ValueError(f"{name}: '{path}': " + ("one '*' at most" if stars > 1 else
                                 "'*' walks a list only in completions, scores and ranks"))
        return self


class DataPart(Section):
    """One data set, whole or sliced."""

    set: str
    """`prob_rank` (teacher responses ranked by Eq. 3), `ctx_rank:M` (M's samples ranked by the judge), `prm_rank:M` (M's samples of every instruction ranked by a proxy ranking model; slice it for a part), `released_prob` / `released_judge` (the authors' released probabilistic / GPT-4 ranks, see `released`), `instructions` (the instruction data itself, plain MLE), `alpaca_mul` (the original response and each teacher response as its own instruction-response pair, plain MLE), `preferences` (preference data from elsewhere: `path`, `format`, `fields`)."""
    first: int | None = Field(None, ge=1)
    """Keep the first K records (in the set's stable order: the instructions' order)."""
    last: int | None = Field(None, ge=1)
    """Keep the last K records."""
    range: tuple[int, int] | None = None
    """Keep records a (inclusive) to b (exclusive), 0-based."""
    beta: float | None = Field(None, ge=0)
    """`prob_rank`, `released_prob`: score with this Eq. 3 beta instead of `scoring.beta`."""
    prm: str | None = None
    """`prm_rank:M`: which of `prms` ranks (default: the first declared)."""
    path: str | None = Field(None, min_length=1)
    """`preferences`: the file of preference data from elsewhere, JSON Lines or a JSON array (or `download:NAME` for an entry of `downloads`), imported as ranked records (`tuna import-preferences`)."""
    format: PreferenceFormat | None = None
    """`preferences`: `listwise` (a prompt and several responses, scored or ranked: UltraFeedback) or `pairwise` (a prompt, a chosen and a rejected response: HH-RLHF). Pairs of one prompt become one ranking when together they order its responses (see README)."""
    fields: PreferenceFields | None = None
    """`preferences`: where the values sit in each row (`models.M.data.fields`; default: TRL's column names)."""
    of: AlpacaMulSource | None = None
    """`alpaca_mul`: whose teacher responses: `prob_rank` (the teacher's, the default) or `released_prob` (the authors' released text-davinci-003 responses)."""

    @field_validator("set")
    @classmethod
    def _known_set(cls, value: str) -> str:
        match = SET_PATTERN.match(value)
        if not match or match["name"] not in DATA_SETS:
            raise ValueError(f"unknown data set '{value}' (expected one of: prob_rank, ctx_rank:M, prm_rank:M, "
                             "released_prob, released_judge, instructions, alpaca_mul, preferences)")
        needs_model = DATA_SETS[match["name"]].needs_model
        if needs_model != bool(match["model"]):
            raise ValueError(f"'{match['name']}' {'needs' if needs_model else 'takes no'} model name "
                             f"({match['name']}{':M' if needs_model else ''})")
        return value

    @model_validator(mode="after")
    def _one_slice(self):
        if sum(x is not None for x in (self.first, self.last, self.range)) > 1:
            raise ValueError("at most one of first, last, range")
        if self.range is not None and not 0 <= self.range[0] < self.range[1]:
            raise ValueError(f"range {list(self.range)} must be [a, b) with 0 <= a < b")
        if self.beta is not None and not self.traits.scored:
            raise ValueError("beta applies to prob_rank and released_prob only")
        if self.prm is not None and self.name != "prm_rank":
            raise ValueError("prm applies to prm_rank only")
        self._check_preferences()
        if self.of is not None and self.name != "alpaca_mul":
            raise ValueError("of applies to alpaca_mul only")
        return self

    def _check_preferences(self) -> None:
        given = [key for key in ("path", "format", "fields") if getattr(self, key) is not None]
        if self.name != "preferences":
            if given:
                raise ValueError(f"{given[0]} applies to preferences only")
            return
        for key in ("path", "format"):
            if getattr(self, key) is None:
                raise ValueError(f"preferences needs {key}" + (": listwise or pairwise" if key == "format" else ""))
        if self.path.startswith(HUB_PREFIX):
            raise ValueError(f"path: {self.path}: Hub data sets ({HUB_PREFIX}ORG/NAME) are not supported yet; "
                             "give a JSON Lines or JSON file")
        if self.fields is not None:
            wrong = [key for key in PreferenceFields.model_fields
                     if key in self.fields.model_fields_set and key not in FORMAT_FIELDS[self.format]]
            if wrong:
                raise ValueError(f"fields.{wrong[0]} does not apply to {self.format} data")
            if {"scores", "ranks"} <= self.fields.model_fields_set and self.fields.scores and self.fields.ranks:
                raise ValueError("fields: give scores or ranks, not both")

    @property
    def mapping(self) -> PreferenceFields:
        """`preferences`: the field mapping, defaults filled in."""
        return self.fields or PreferenceFields()

    @property
    def import_name(self) -> str:
        """`preferences`: the imported set's own name: the file's stem and a hash of the whole spec, so two
        mappings of one file are two sets."""
        spec = json.dumps({"path": self.path, "format": self.format, "fields": self.mapping.model_dump()},
                          sort_keys=True)
        stem = re.sub(r"[^a-z0-9]+", "_", PurePath(self.path).stem.lower()).strip("_") or "data"
        return f"{stem}_{hashlib.sha256(spec.encode()).hexdigest()[:8]}"

    @property
    def name(self) -> str:
        return self.set.partition(":")[0]

    @property
    def model(self) -> str | None:
        return self.set.partition(":")[2] or None

    @property
    def traits(self) -> SetTraits:
        """What the set is and needs (Alpaca-Mul needs the teacher only when it takes prob_rank's responses)."""
        traits = DATA_SETS[self.name]
        if self.name == "alpaca_mul":
            return dataclasses.replace(traits, teacher=self.responses_of == "prob_rank")
        return traits

    @property
    def kind(self) -> str:
        return self.traits.kind

    @property
    def responses_of(self) -> str:
        """`alpaca_mul`: the ranked set whose responses it takes."""
        return self.of or "prob_rank"

    @property
    def sliced(self) -> bool:
        return self.first is not None or self.last is not None or self.range is not None

    def slice_arg(self) -> str:
        """How `tuna mix-data` takes this part's slice: all, first:K, last:K or range:A:B."""
        if self.first is not None:
            return f"first:{self.first}"
        if self.last is not None:
            return f"last:{self.last}"
        if self.range is not None:
            return f"range:{self.range[0]}:{self.range[1]}"
        return "all"

    def set_label(self) -> str:
        """The whole data set's name for reports: `prob_rank(beta 0.9)`, `prm_rank:alpaca(prm_7b)`."""
        if self.name == "preferences":
            return f"preferences({PurePath(self.path).name})"
        return (self.set + (f"(beta {self.beta})" if self.beta is not None else "") + (f"({self.prm})" if self.prm else "")
                + (f"({self.of})" if self.of else ""))

    def label(self) -> str:
        """This part's name for reports, with its slice: `prob_rank[last 39000]`."""
        return self.set_label() + ("" if not self.sliced else f"[{self.slice_arg().replace(':', ' ', 1)}]")


class ImportedModel(Section):
    """A model made from a file: `import` a GGUF, an HF directory, `pkg:MODULE/FILE` or a Hub model `hf:ORG/NAME`."""

    import_: Location = Field(alias="import", min_length=1)
    """A `.gguf` file (dequantized to an fp32 checkpoint; the GGUF is kept as `checkpoints/{model}.source.gguf` for llama.cpp), an HF checkpoint directory, `pkg:MODULE/FILE` for a file inside an installed Python package, or a model on the Hugging Face Hub: `hf:ORG/NAME[@REVISION]` (a branch, tag or commit; the workflow imports the commit it points to when it plans and records it in the checkpoint's `provenance.json`, and re-imports when a branch moves) or `hf:ORG/NAME[@REVISION]/FILE.gguf`. A path that does not exist yet is planned anyway; the import job then names it."""
    template: Template = "chat"
    """Prompt format: `chat` (the model's own chat template) or `alpaca` (the Stanford Alpaca format the paper trained with)."""

    @property
    def gguf(self) -> bool:
        return self.import_.endswith(".gguf")


class TrainedModel(Section):
    """A model trained from another (`init`) on `data` with `train` settings."""

    init: str
    """The declared model it starts from (its checkpoint)."""
    data: list[DataPart]
    """What it learns from: one data set, a slice, or a list of them (concatenated, then shuffled with the model's seed); see the data algebra above."""
    train: dict[str, Any] = {}
    """Overrides of the `train` defaults for this model (e.g. `lr: 1.0e-6` for Tuna)."""
    template: Template | None = None
    """As for imported models; inherited from `init` when absent."""

    @field_validator("data", mode="before")
    @classmethod
    def _as_parts(cls, value):
        parts = value if isinstance(value, list) else [value]
        return [{"set": part} if isinstance(part, str) else part for part in parts]

    @field_validator("data")
    @classmethod
    def _one_kind(cls, parts: list[DataPart]) -> list[DataPart]:
        if not parts:
            raise ValueError("an empty mixture: name at least one data set")
        if len({part.kind for part in parts}) > 1:
            raise ValueError("a mixture holds ranked sets or supervised sets (instructions, alpaca_mul), not both")
        return parts

    @property
    def kind(self) -> str:
        return self.data[0].kind

    @property
    def single_set(self) -> DataPart | None:
        """The one whole data set the model trains on directly (None: a mixture or slice to build)."""
        part = self.data[0]
        return part if len(self.data) == 1 and not part.sliced and part.name != "alpaca_mul" else None


class ExternalModel(Section):
    """A baseline the project cannot train (LLaMA, PPO-sim, InstructGPT): only evaluated, through an endpoint."""

    endpoint: ProviderSpec
    """Where it answers benchmark prompts (e.g. `{kind: openai, model: ..., base_url: ...}`)."""
    template: Template = "chat"
    """Prompt format of its answers."""


class AliasModel(Section):
    """Another name of a declared model (the paper names one model twice): nothing is made or evaluated for it; `evaluation.models` and `evaluation.tables` may name it, and the resolved plan lists it (`evaluation.aliases`)."""

    alias: str
    """The declared model this name stands for."""


ModelSpec = ImportedModel | TrainedModel | ExternalModel
MODEL_CLASSES = {"import": ImportedModel, "init": TrainedModel, "endpoint": ExternalModel, "alias": AliasModel}


def model_class(spec: dict) -> type[Section]:
    """Which kind of model a `models.M` entry declares, by its keys."""
    found = [cls for key, cls in MODEL_CLASSES.items() if key in spec]
    if len(found) != 1:
        raise ValueError("declare exactly one of: import (a file), init + data (trained), endpoint (evaluated only), "
                         "alias (another name of a declared model)")
    return found[0]
