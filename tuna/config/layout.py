"""Every artifact path of the workflow, spelled once.

Paths are relative to Snakemake's working directory. An experiment's outputs live under
its `root` (config key), so two configs never share results or checkpoints by accident;
upstream downloads (`resources/`) are pinned by checksum and shared by every experiment.
Arguments may be Snakemake wildcards (`"{model}"`), so rules and code use the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

VALIDATION_FILE = "validation.json"  # inside a trained checkpoint: what training did on the held-out examples


def _stem(path: str) -> str:
    return path.rsplit(".", 1)[0]


def cost_of(path: str) -> str:
    """`.../0.jsonl` -> `.../0.cost.json` (every generating job writes one beside its output)."""
    return _stem(path) + ".cost.json"


def set_token(data_set: str) -> str:
    """A data set's name as file names spell it: `ctx_rank:M` -> `ctx_rank-M` (no `:` in paths)."""
    return str(data_set).replace(":", "-")


def superni_set(shots) -> str:
    """The Super-NI prompt set (and its Table 1 column) of a shot count: `superni_2shot`."""
    return f"superni_{shots}shot"


def beta_suffix(beta) -> str:
    """'' for the config's own beta, else `_beta{beta}` (Table 5's per-model scorings)."""
    return "" if beta is None else f"_beta{beta}"


@dataclass(frozen=True)
class Layout:
    root: str = ""

    def _(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path}" if self.root else path

    # Shared, checksummed upstream data.
    @staticmethod
    def download(name: str) -> str:
        return f"resources/downloads/{name}"

    @staticmethod
    def superni_tasks() -> str:
        return "resources/superni/tasks"

    @staticmethod
    def lmentry_data() -> str:
        return "resources/lmentry/data"

    # Data and probabilistic ranking.
    def instructions(self) -> str:
        return self._("results/data/instructions.jsonl")

    def held_out(self) -> str:
        return self._("results/data/held_out.jsonl")

    def teacher(self, shard) -> str:
        return self._(f"results/prob_rank/teacher/{shard}.jsonl")

    def prob_ranked(self, suffix: str = "") -> str:
        return self._(f"results/prob_rank/ranked{suffix}.jsonl")

    def released(self, kind: str, suffix: str = "") -> str:
        return self._(f"results/released/{kind}_ranked{suffix}.jsonl")

    def released_judgements(self) -> str:
        return self._("results/released/judge_judgements.jsonl")

    def imported_preferences(self, name) -> str:
        """Preference data from elsewhere as ranked records (`set: preferences`; `name`: DataPart.import_name)."""
        return self._(f"results/preferences/imported/{name}.jsonl")

    def preferences(self, ranking, export) -> str:
        """A ranking data set as a preference data set in TRL's conventions (`ctx_rank:M` written `ctx_rank-M`;
        export: pairwise, best_vs_rest or listwise)."""
        return self._(f"results/preferences/{set_token(ranking)}/{export}")

    # Models.
    def checkpoint(self, model) -> str:
        return self._(f"checkpoints/{model}")

    def validation(self, model) -> str:
        return f"{self.checkpoint(model)}/{VALIDATION_FILE}"

    def gguf(self, model, quant) -> str:
        return self._(f"checkpoints/{model}.{quant}.gguf")

    def reference(self, model) -> str:
        """DPO's frozen reference: the init checkpoint's log-probs of the model's training candidates."""
        return self._(f"results/reference/{model}.jsonl")

    def train_data(self, model) -> str:
        return self._(f"results/train_data/{model}.jsonl")

    # Contextual ranking.
    def samples(self, model, shard) -> str:
        return self._(f"results/ctx_rank/{model}/samples/{shard}.jsonl")

    def judged(self, model, shard) -> str:
        return self._(f"results/ctx_rank/{model}/judged/{shard}.jsonl")

    def quarantine(self, model, shard) -> str:
        return self._(f"results/ctx_rank/{model}/judged/{shard}.quarantine.jsonl")

    def ctx_ranked(self, model) -> str:
        return self._(f"results/ctx_rank/{model}/ranked.jsonl")

    def prm(self, model, prm) -> str:
        return self._(f"results/ctx_rank/{model}/{prm}")

    def prm_ranked(self, model, prm) -> str:
        return self._(f"results/ctx_rank/{model}/{prm}_ranked.jsonl")

    # Evaluation and report.
    def eval_prompts(self, prompts) -> str:
        return self._(f"results/eval/prompts/{prompts}.jsonl")

    def model_prompts(self, model, prompts) -> str:
        """A model's own benchmark prompts (Super-NI: its tokenizer measures the budget)."""
        return self._(f"results/{model}/prompts/{prompts}.jsonl")

    def answers(self, model, prompts) -> str:
        return self._(f"results/{model}/answers/{prompts}.jsonl")

    def result(self, model, benchmark) -> str:
        return self._(f"results/{model}/{benchmark}.json")

    def agreement(self, model, ranking) -> str:
        """Held-out agreement of a model with a ranking data set (`ctx_rank:M`, or a wildcard of its token)."""
        return self._(f"results/{model}/agreement_{set_token(ranking)}.json")

    def nll(self, model, data: str = "") -> str:
        """NLL of the held-out reference responses, or of the NLL data set `data` (evaluation.held_out.nll_data)."""
        return self._(f"results/{model}/nll{'_' + data if data else ''}.json")

    def prm_agreement(self, model, prm) -> str:
        """Held-out agreement of a proxy ranking model with the judge's ranks of `model`'s samples."""
        return self._(f"results/ctx_rank/{model}/{prm}_agreement.json")

    def vicuna_judgements(self, model) -> str:
        return self._(f"results/{model}/vicuna_judgements.jsonl")

    def report(self, name: str) -> str:
        return self._(f"results/report/{name}")

    def log(self, name: str) -> str:
        return self._(f"logs/{name}.log")

    def benchmark(self, name: str) -> str:
        """What a heavy job used (Snakemake's `benchmark:` TSV: wall time, peak memory, CPU time), named as its log."""
        return self._(f"benchmarks/{name}.tsv")


# Directory names under results/ that a model's name must not take.
RESERVED_NAMES = ("data", "prob_rank", "released", "train_data", "ctx_rank", "eval", "report", "preferences",
                  "reference")
