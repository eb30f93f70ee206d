"""Every config key, its type, its default and its meaning: the one place they are written.

Each section of a workflow config is a pydantic model; a field's docstring is its
documentation (config/README.md's key tables are generated from these, see
tuna.config.docs) and its default is the default everywhere (the rules, `tuna cost
estimate`, `tuna check-config`, the report and the `tuna` command's options read them).
Defaults are the paper's values where the paper states one (Sec. 2-3, Table 7).

The enumerations (provider kinds, templates, quantizations, ...) are defined here once
and imported by the modules that use them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tuna import hub
from tuna.errors import TunaError

ProviderKind = Literal["openai", "llamacpp", "hf", "vllm"]
Template = Literal["chat", "alpaca", "alpaca_newline"]
ApiStyle = Literal["completions", "chat"]
ConstraintStyle = Literal["auto", "json_schema", "grammar"]
DType = Literal["auto", "float32", "bfloat16", "float16"]
Device = Literal["cpu", "cuda"]
Quant = Literal["source", "f32", "f16", "bf16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"]
Objective = Literal["rank", "rrhf", "listmle", "dpo", "simpo", "mle"]  # tuna.train.objectives
RankReduction = Literal["sum", "gap_mean"]
MleTarget = Literal["original", "all"]
LrSchedule = Literal["cosine", "linear"]
LastBatch = Literal["keep", "drop"]
Precision = Literal["fp32", "bf16", "fp16"]
DeepSpeedStage = Literal["zero2", "zero2_offload", "zero3", "zero3_offload"]
LoraQuantize = Literal["4bit"]
Truncated = Literal["score", "last"]
Benchmark = Literal["superni", "lmentry", "vicuna"]  # in the order of Table 1
VicunaStyle = Literal["pairwise", "review"]
VicunaQuestions = Literal["demo", "vicuna"]
PreferenceFormat = Literal["listwise", "pairwise"]  # preference data in and out (tuna.preferences)
Pairs = Literal["all", "best-vs-rest"]  # which pairs a pairwise export writes
Shots = Literal[0, 2]  # Super-NI: positive examples in the prompt
VicunaOrders = Literal["both", "model_first"]
AlpacaMulSource = Literal["prob_rank", "released_prob"]

# The keys that belong to some objectives only (tuna.train.objectives); `mle_weight` and `mle_target` apply to every one.
OBJECTIVE_KEYS = {"margin": "rank", "rank_reduction": "rank", "dpo_beta": "dpo", "simpo_beta": "simpo",
                  "simpo_gamma": "simpo", "listmle_temperature": "listmle"}

PROVIDER_KINDS = get_args(ProviderKind)
TEMPLATES = get_args(Template)
API_STYLES = get_args(ApiStyle)
CONSTRAINT_STYLES = get_args(ConstraintStyle)
DTYPES = get_args(DType)
DEVICES = get_args(Device)
QUANTS = get_args(Quant)
PRECISIONS = get_args(Precision)
DEEPSPEED_STAGES = get_args(DeepSpeedStage)
TRUNCATED_RULES = get_args(Truncated)
BENCHMARKS = get_args(Benchmark)
VICUNA_STYLES = get_args(VicunaStyle)
PREFERENCE_FORMATS = get_args(PreferenceFormat)
PAIRS = get_args(Pairs)
SUPERNI_SHOTS = get_args(Shots)

DEFAULT_QUANT = "q8_0"
API_FAILURE_BUDGET = 0.02  # `max_failed` of an openai provider unless set: endpoints drop a few calls
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


def _hub_syntax(location: str) -> str:
    """An `hf:` location must parse (tuna.hub) when the config loads; paths are checked by the jobs that read them."""
    if hub.is_hub(location):
        try:
            hub.parse(location)
        except TunaError as exc:
            raise ValueError(exc.message) from None
    return location


# A file or directory: a path, or a Hub repository or file (`hf:ORG/NAME[@REVISION][/FILE]`).
Location = Annotated[str, AfterValidator(_hub_syntax)]


class Section(BaseModel):
    """A config section: unknown keys are errors, values are read-only once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def default(section: type[Section], key: str):
    """The default of `section.key` (for the `tuna` command's options)."""
    return section.model_fields[key].default


def doc(section: type[Section], key: str) -> str:
    """The documentation of `section.key` (for the `tuna` command's --help)."""
    return section.model_fields[key].description or ""


def key_of(location) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def one_line(exc: ValidationError, prefix: tuple = ()) -> str:
    """The first validation error as `key.path: message`."""
    error = exc.errors()[0]
    location = [part for part in error["loc"] if not str(part).startswith("function-")]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key missing"
    return f"{key_of((*prefix, *location))}: {message}"


class ProviderSpec(Section):
    """Where a model runs (`teacher.provider`, `sampling.provider`, `judge.provider`, evaluation providers)."""

    kind: ProviderKind
    """`openai` (any OpenAI-compatible endpoint: OpenAI, `vllm serve`, `llama_cpp.server`), `llamacpp` (in-process llama.cpp on a GGUF), `hf` (transformers, batched), `vllm` (in-process vLLM on a checkpoint: continuous batching; install with `pip install -e '.[vllm]'` on a CPU, `pip install vllm` on GPUs)."""
    model: str | None = None
    """A declared model name (the workflow builds its checkpoint or GGUF first), a path, or the API model id for `openai`. Sampling and evaluation providers default to the model being sampled or evaluated."""
    quant: Quant = DEFAULT_QUANT
    """`llamacpp` on a declared model: which GGUF (`source`: the imported file; else an export: `f32`, `f16`, `q8_0`, `q4_k_m`, ...)."""
    api: ApiStyle = "completions"
    """`openai`: `completions` (prompt text, token log-probs) or `chat`."""
    base_url: str | None = None
    """`openai`: endpoint URL, e.g. `http://127.0.0.1:8000/v1` for vLLM or llama.cpp's server (default: `OPENAI_BASE_URL` or OpenAI)."""
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$")
    """`openai`: the environment variable holding the key. Keys are read from the environment only, never written to params, logs, caches or reports."""
    constrain_with: ConstraintStyle = "auto"
    """`openai`: how a constrained answer (`judge.constrained`) is asked for: `json_schema` (`response_format`; OpenAI, vLLM) or `grammar` (a GBNF grammar; `llama_cpp.server` on both endpoints). `auto`: `json_schema` on chat, `grammar` on completions."""
    n_gpu_layers: int = 0
    """`llamacpp`: layers offloaded to the GPU (-1: all; needs a CUDA build of llama-cpp-python)."""
    device: Device = "cpu"
    """`hf`, `vllm`: what the job asks the scheduler for: `cuda` requests GPUs (`vllm`: `tensor_parallel_size` of them, `hf`: one) and the GPU conda environment; the engine runs on the GPU it sees. (`llamacpp` uses a GPU when `n_gpu_layers` is not 0.)"""
    n_ctx: int = Field(4096, ge=256)
    """`llamacpp`, `vllm`: context window in tokens (prompt + answer)."""
    batch_size: int = Field(16, ge=1)
    """`hf`: sequences decoded together (left padded; each sample keeps its own seed)."""
    dtype: DType = "auto"
    """`vllm`: weight dtype (`auto`: the checkpoint's on a GPU, `float32` on a CPU, where bf16 is very slow)."""
    tensor_parallel_size: int = Field(1, ge=1)
    """`vllm`: GPUs one model is split over."""
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    """`vllm`: fraction of GPU memory for the weights and the KV cache."""
    kv_cache_gib: float | None = Field(None, gt=0)
    """`vllm`: KV cache size in GiB (`null`: on a CPU `$VLLM_CPU_KVCACHE_SPACE` or 1; on a GPU what `gpu_memory_utilization` leaves)."""
    max_failed: float | None = Field(None, ge=0, le=1)
    """Failure budget of a stage on this provider: the fraction of its calls that may fail (after the retries) before the stage exits non-zero, naming how many failed and the most common error. Under the budget, failed answers are kept in the output, marked, and never ranked or trained on; a rerun re-asks only them. `null`: 0.02 for `openai`, 0 for the local providers."""


def failure_budget(kind: str, max_failed: float | None) -> float:
    """A provider's `max_failed`, its default filled in (API endpoints fail now and then, local models do not)."""
    if max_failed is not None:
        return max_failed
    return API_FAILURE_BUDGET if kind == "openai" else 0.0


class Data(Section):
    """The instructions every stage works on."""

    source: str = Field("demo", min_length=1)
    """`demo` (tuna's own instructions, shipped in the package), `alpaca` (the 52K Alpaca data, downloaded and checksummed: `tuna/config/downloads.yaml`), or a path to a JSON array of `{instruction, input, output}` records."""
    limit: int | None = Field(None, ge=1)
    """Use only the first N instructions (`null`: all)."""
    shards: int = Field(1, ge=1)
    """Jobs each generation stage (teacher, self-sampling, judge) is split into; shard *k* takes instructions *i* with *i* mod `shards` = *k*. On a cluster, the shards run in parallel."""
    ctx_rank_limit: int | None = Field(13000, ge=0)
    """Only the first K instructions are self-sampled and judged for contextual ranking (the paper: 13,000 of 52K; `null`: all)."""
    held_out: float = Field(0, ge=0)
    """Instructions set aside for held-out evaluation (`evaluation.held_out`): a count (1, 2, ...) or a fraction of the source (below 1); 0: none. They are the ones whose seeded hash of the id is smallest over the whole source, chosen before `limit` (so the split does not move with `limit` or `shards`), appended after the `limit` training instructions so the teacher, judge and PRM rank them too, and never trained on by any model."""
    held_out_seed: int = 0
    """Seed of the held-out choice."""


class Lora(Section):
    """LoRA adapters (peft) on a frozen base (`lora:` of `train`, `models.M.train`, `prms.NAME`; `null`: full fine-tuning). Only the adapters train; the base stays in the training precision. The checkpoint handed on is the base with the adapters merged in (a plain transformers checkpoint); the adapter itself is kept beside it, in its `adapter/` folder (peft format)."""

    r: int = Field(16, ge=1)
    """Rank of each adapter."""
    alpha: float = Field(32, gt=0)
    """Scale: an adapter's update is multiplied by alpha / r."""
    dropout: float = Field(0.05, ge=0, lt=1)
    """Dropout on an adapter's input while training."""
    target_modules: list[str] | str = "all-linear"
    """Layers that get adapters: `all-linear` (every linear layer but the output head), a list of module names (`[q_proj, v_proj]`), or a regular expression peft matches against whole module names."""
    quantize: LoraQuantize | None = None
    """`4bit`: QLoRA, the frozen base held in 4-bit NF4 (bitsandbytes: `pip install -e ".[qlora]"`), on one CUDA GPU with plain torch (`num_gpus: 1`, `deepspeed: null`). The checkpoint handed on merges the adapter into the unquantized base."""


class Optimization(Section):
    """What every training job shares (`tuna train` and `tuna prm-train`): batches, schedule, precision, LoRA and where it runs (tuna.train.backends)."""

    epochs: float = Field(1.0, gt=0)
    """Passes over the data; may be fractional (the last epoch takes the first part of its shuffle). Each epoch is a seeded shuffle cut into batches; its last batch may be partial (`last_batch`)."""
    batch_size: int = Field(128, ge=1)
    """Effective batch = `micro_batch_size` x gradient accumulation x ranks."""
    micro_batch_size: int = Field(1, ge=1)
    """Examples per forward pass per rank."""
    warmup_steps: int = Field(2, ge=0)
    """Linear warm-up over these steps, then the `lr_schedule` decay to 0. As in the HF Trainer, the first step runs at lr 0, so a 2-step smoke run uses 0."""
    lr_schedule: LrSchedule = "cosine"
    """Decay after the warm-up: `cosine` (half a cosine to 0, the released run's `lr_scheduler_type`; the paper does not say) or `linear` (to 0)."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW weight decay."""
    last_batch: LastBatch = "keep"
    """An epoch's last batch when the examples do not fill it: `keep` trains on it as a shorter step (the released run: the HF Trainer's default; the paper does not say) or `drop` leaves its examples out. Steps and examples used are in the log and the checkpoint's `provenance.json`."""
    seed: int = 42
    """Data order and initialization seed (of a proxy ranking model's score head; also shuffles a mixture of data sets)."""
    precision: Precision = "fp32"
    """`fp32` (CPUs: bf16 is pathologically slow there), `bf16` or `fp16` on GPUs. Full fine-tuning with plain torch keeps fp32 weights and computes in this precision (autocast); DeepSpeed and LoRA hold the (frozen) weights in it."""
    gradient_checkpointing: bool = False
    """Trade compute for memory."""
    deepspeed: str | None = None
    """`null` (plain torch), `zero2`, `zero2_offload`, `zero3`, `zero3_offload` (configs in `tuna/train/deepspeed/`) or a DeepSpeed JSON file. Needed when `num_gpus` > 1."""
    num_gpus: int = Field(0, ge=0)
    """GPUs the job asks the scheduler for: 0 trains on the CPU, 1 with plain torch (`deepspeed: null`) or as one DeepSpeed rank, more as one DeepSpeed rank each."""
    lora: Lora | None = None
    """LoRA adapters instead of full fine-tuning (`lora: {}` for the defaults below; a model's `lora:` replaces this mapping whole); `null`: every weight trains."""
    save_every: int = Field(0, ge=0)
    """Write a resumable checkpoint every K optimizer steps (0: never); a killed job resumes from it."""

    @field_validator("deepspeed")
    @classmethod
    def _known_stage(cls, value: str | None) -> str | None:
        if value is not None and value not in DEEPSPEED_STAGES and not value.endswith(".json"):
            raise ValueError(f"'{value}': expected {', '.join(DEEPSPEED_STAGES)} or a DeepSpeed JSON file")
        return value

    @model_validator(mode="after")
    def _gpus_need_deepspeed(self):
        if self.num_gpus > 1 and not self.deepspeed:
            raise ValueError("num_gpus > 1 trains with DeepSpeed; set deepspeed (zero2, zero2_offload, zero3 or "
                             "zero3_offload), or num_gpus: 1 for plain torch on one GPU")
        if self.lora and self.lora.quantize and self.deepspeed:
            raise ValueError("lora.quantize (QLoRA) trains with plain torch on one GPU: set deepspeed: null, "
                             "num_gpus: 1")
        return self


class Train(Optimization):
    """Training hyper-parameters (Eq. 4-6; Table 7): `train:` for every trained model, `models.M.train` per model."""

    objective: Objective = "rank"
    """What the ranked candidates are trained with (`tuna/train/objectives/`), each plus λ x the MLE term of Eq. 6 (`mle_weight`): `rank`, Tuna's ranking loss (Eq. 4-6); `rrhf`, RRHF (Yuan et al., 2023): hinge on every ranked pair of length-normalised log-probs, no margin, plus λ x the cross-entropy of the best-ranked response (in place of the original's, so no original is needed); `listmle`, the Plackett-Luce likelihood of the whole ranking (ListMLE, Xia et al., 2008), ties per Breslow; `dpo`, DPO (Rafailov et al., 2023) on every ranked pair against the frozen init checkpoint's log-probs (the workflow computes them once: `results/reference/{model}.jsonl`); `simpo`, SimPO (Meng et al., 2024) on every ranked pair, no reference. `mle`: plain instruction tuning (Eq. 2). The ranking objectives train on every example with at least 2 ranked candidates, whatever their number (counted per number in the log and the checkpoint's `provenance.json`); candidates tied in one rank group form no pair."""
    margin: float = Field(0.1, ge=0)
    """*m* of Eq. 4, per rank of distance (objective `rank`)."""
    mle_weight: float = Field(1.0, ge=0)
    """λ of Eq. 6: the weight of the MLE term of the original response added to any objective (`rrhf`: of its cross-entropy of the best-ranked response, 1 in RRHF)."""
    rank_reduction: RankReduction = "sum"
    """Objective `rank`: `sum` over each example's ranked pairs as in Eq. 4 (averaged over examples), or `gap_mean`, the released code: for each rank gap the mean hinge over all pairs of that gap in the micro-batch, summed over gaps."""
    dpo_beta: float = Field(0.1, gt=0)
    """Objective `dpo`: β, the strength of the implicit KL penalty towards the reference (DPO's default 0.1)."""
    simpo_beta: float = Field(2.0, gt=0)
    """Objective `simpo`: β, the scale of the length-normalised log-prob reward (SimPO: 2.0-2.5)."""
    simpo_gamma: float = Field(1.0, ge=0)
    """Objective `simpo`: γ, the target reward margin (SimPO: γ/β about 0.5)."""
    listmle_temperature: float = Field(1.0, gt=0)
    """Objective `listmle`: the Plackett-Luce scores are the length-normalised log-probs divided by this."""
    mle_target: MleTarget = "original"
    """`original`: the MLE term on the original (Alpaca) response as in Eq. 6 (averaged over examples), or `all`, the released code: the token-mean cross-entropy over every token of every response (candidates and original) of the micro-batch. With `rank_reduction: gap_mean` the loss is the released code's at any `micro_batch_size` (it depends on it: the released run had 16 examples per GPU)."""
    lr: float = Field(1e-5, gt=0)
    """Peak learning rate of AdamW, betas (0.9, 0.999) (Table 7: 1e-5; 5e-6 for mix-Tuna-104K; 1e-6 for Tuna and Tuna_cp from Tuna_p)."""
    max_length: int = Field(512, ge=16)
    """Longest prompt + response + EOS in tokens (the released run's `model_max_length`; the paper does not say): a longer response is cut (and loses its EOS), a prompt that fills it skips the example; counted in the log."""
    max_examples: int | None = Field(None, ge=1)
    """Train on the first K usable examples of the training data (file order, after the bad-data rules, before shuffling); `null`: all. Those left out are counted in the log and in the checkpoint's `provenance.json`. To train on a slice of a data set, prefer a `data:` slice (`first`, `last`, `range`)."""
    validate_held_out: bool = True
    """With a held-out split: score the held-out examples of the training data (never trained on) before the first step and after the last: agreement with the data's ranking and NLL of the references, and the paired change, in the checkpoint's `validation.json` and TensorBoard (`validation/*`)."""

    @property
    def uses_original(self) -> bool:
        """Whether the loss reads the original response: objective mle, or Eq. 6's MLE term of any ranking
        objective but rrhf (whose cross-entropy is on the best-ranked response)."""
        return self.objective == "mle" or (self.mle_weight > 0 and self.objective != "rrhf")

    @field_validator("mle_target")
    @classmethod
    def _rrhf_has_its_own_target(cls, value, info: ValidationInfo):
        if value != "original" and info.data.get("objective") == "rrhf":
            raise ValueError("objective rrhf's cross-entropy is on the best-ranked response; mle_target is the "
                             "other objectives' MLE term of the original response")
        return value

    @field_validator(*OBJECTIVE_KEYS)
    @classmethod
    def _only_for_its_objective(cls, value, info: ValidationInfo):
        """A key of one objective set to other than its default for another objective is a mistake."""
        owner = OBJECTIVE_KEYS[info.field_name]
        objective = info.data.get("objective", cls.model_fields["objective"].default)
        if value != cls.model_fields[info.field_name].default and objective != owner:
            raise ValueError(f"a key of objective {owner}, but the objective is {objective}")
        return value


# The objectives that learn against a frozen reference's log-probs of the candidates (`tuna reference` makes them).
REFERENCE_OBJECTIVES = ("dpo",)
# The `train:` keys that decide which training examples DPO's frozen reference scores and how (tuna.train.reference):
# changing one re-makes the reference, changing another (lr, dpo_beta, ...) does not.
REFERENCE_KEYS = ("mle_weight", "mle_target", "max_length", "max_examples", "micro_batch_size", "precision")


class Teacher(Section):
    """Probabilistic ranking (Sec. 2.2): the teacher's N responses with token log-probs."""

    provider: ProviderSpec | None = None
    """Where the teacher runs (the paper: text-davinci-003); needed when a model trains on `prob_rank` or `alpaca_mul`."""
    n: int = Field(4, ge=1)
    """Responses per instruction."""
    temperature: float = Field(1.0, ge=0)
    """Sampling temperature."""
    max_tokens: int = Field(512, ge=1)
    """Longest response in tokens."""
    seed: int = 0
    """Base seed; each response gets its own, so requests are distinct and cacheable."""


class Scoring(Section):
    """Eq. 3: `s = log p(r|i) / |r|^beta`."""

    beta: float = Field(1.3, ge=0)
    """Length-penalty exponent of Eq. 3. Changing it re-runs scoring and what follows, never the teacher; a model's data may score with its own beta (Table 5)."""
    truncated: Truncated = "score"
    """Where responses cut by `max_tokens` go: `score` (the paper: pure Eq. 3 order) or `last` (after every complete response). Failed or empty responses are never ranked."""


class Sampling(Section):
    """Contextual ranking (Sec. 2.3): each model samples N mutually dissimilar responses of its own."""

    provider: ProviderSpec = ProviderSpec(kind="llamacpp")
    """Where each model samples itself; `model` defaults to the model being sampled (llama.cpp on its `q8_0` GGUF export)."""
    n: int = Field(4, ge=1)
    """Samples per instruction."""
    temperature: float = Field(1.0, ge=0)
    """Temperature of the first draw."""
    temperature_step: float = Field(0.1, ge=0)
    """Added to the temperature each time a too-similar sample is redrawn."""
    max_trials: int = Field(3, ge=1)
    """Draws per slot before the least similar draw is kept."""
    tau: float = Field(0.8, gt=0, le=1)
    """ROUGE-L F1 that makes two samples too similar."""
    max_tokens: int = Field(512, ge=1)
    """Longest sample in tokens."""
    seed: int = 0
    """Base seed of the draws."""


class Judge(Section):
    """The judge that ranks self samples with the Table 9 prompt (and judges Vicuna QA unless `evaluation.vicuna.judge` says otherwise)."""

    provider: ProviderSpec | None = None
    """The judge model (the paper: GPT-4); needed when a model trains on `ctx_rank:M` or `prm_rank:M`, or Vicuna QA is evaluated."""
    max_tokens: int = Field(2048, ge=1)
    """Longest judge answer in tokens (the authors' released `gpt-eval.py`: 2048; a Table 9 answer holds the judge's own reference response, and an answer cut short cannot be parsed)."""
    retries: int = Field(2, ge=0)
    """Re-asks (at temperature 0.7) of an answer that cannot be parsed. Every attempt is kept in the judged file; every unusable answer also goes to the quarantine file, and an instruction with none usable is counted and never ranked."""
    constrained: bool = False
    """Constrain the answer (llama.cpp grammar / JSON schema) so small local judges return a parseable ranking."""
    system_prompt: str | None = "You are a professional and experienced data annotator."
    """The ranking judge's system prompt (the released `gpt-eval.py`'s; the paper gives none): a chat template's system turn, or the text before an Alpaca prompt. `null`: none. The Vicuna QA judge uses the system prompts of its judge-prompt file."""
    max_unranked: float | None = Field(None, ge=0, le=1)
    """Fraction of the instructions (Vicuna QA: of the judged question orders) that may be left without a usable verdict after the re-asks before the stage exits non-zero with one line (the judged and quarantine files are written first, every attempt in them). `null`: as `max_failed`: 0.02 for an `openai` judge, 0 for a local one."""


class Prm(Optimization):
    """A proxy ranking model (Sec. 2.4): trained on the judge's ranks of a model's samples, it ranks the rest. It trains through the backends of `tuna train`, so the keys it shares with `train` (batches, schedule, precision, GPUs, DeepSpeed, LoRA, `save_every`) mean the same here, with the defaults below; one example is one judged instruction with all its ranked responses."""

    backbone: str
    """Declared model whose checkpoint the ranker starts from (the paper: StableLM-3B, LLaMA-7B); a linear head on the last hidden state of each response's last token scores `prompt + response` (all responses of an instruction in one shared-prompt forward)."""
    lr: float = Field(1e-5, gt=0)
    """Peak learning rate of the ranker (pairwise logistic loss over every better/worse pair of each judged ranking, averaged per instruction)."""
    max_length: int = Field(1024, ge=16)
    """Longest prompt + response + EOS in tokens (a longer response is cut; a prompt that fills it leaves the instruction out, counted in the log)."""
    rank_batch_size: int = Field(16, ge=1)
    """Instructions whose responses `prm-rank` scores in one forward pass (no gradients, so more than `micro_batch_size` fit)."""


class ApiLimits(Section):
    """Limits of every OpenAI-compatible provider (resources, not params: changing them re-runs nothing)."""

    concurrency: int = Field(32, ge=1)
    """Requests in flight at once per job."""
    requests_per_minute: float | None = Field(None, gt=0)
    """Requests per minute over all shards (`null`: no limit); split over the shards."""
    tokens_per_minute: float | None = Field(None, gt=0)
    """Tokens per minute over all shards (`null`: no limit); split over the shards."""
    timeout: float = Field(60, gt=0)
    """Seconds before a request is abandoned and retried."""
    max_retries: int = Field(6, ge=0)
    """Retries on 429, 5xx, time-outs and dropped connections (401/404 stop at once)."""


class Price(Section):
    """USD per 1K tokens of one API model."""

    prompt: float = Field(ge=0)
    """USD per 1K prompt tokens."""
    completion: float = Field(ge=0)
    """USD per 1K completion tokens."""


class Download(Section):
    """Where an upstream file comes from, and its pinned checksum."""

    url: str
    """The URL (pinned to a commit)."""
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    """sha256 of the file."""
    git_sha1: str | None = Field(None, pattern=r"^[0-9a-f]{40}$")
    """git blob sha1 of the file (what GitHub stores)."""


class Released(Section):
    """The authors' released Tuna data (microsoft/LMOps), for the data sets `released_prob` and `released_judge`."""

    prob: str | None = None
    """The released probabilistic-ranking file: a path, or `download:NAME` for an entry of `downloads`."""
    judge: str | None = None
    """The released GPT-4 ranking file: a path, or `download:NAME` for an entry of `downloads`."""


class BenchmarkGeneration(Section):
    """How evaluated models answer benchmark prompts (greedy)."""

    provider: ProviderSpec = ProviderSpec(kind="llamacpp")
    """Where each evaluated model answers; `model` defaults to the model evaluated."""
    max_tokens: int = Field(512, ge=1)
    """Longest answer to a Vicuna QA or LMentry prompt."""


class Vicuna(Section):
    """Vicuna QA: a judge compares each model with the baseline (both answer orders by default)."""

    questions: VicunaQuestions = "vicuna"
    """`vicuna` (the 80 questions, downloaded) or `demo` (tuna's own few, shipped)."""
    style: VicunaStyle = "review"
    """`review` (two 1-10 scores, the Vicuna reviewer prompts) or `pairwise` (`[[A]]`/`[[B]]`/`[[C]]`)."""
    judge: ProviderSpec | None = None
    """The Vicuna judge (default: `judge.provider`)."""
    orders: VicunaOrders = "both"
    """`both`: each question judged with either answer first, a verdict that changes with the order is a tie, and the position consistency (how often the orders agree) is reported; `model_first`: one order, the evaluated model as Assistant 1 / A and the baseline as Assistant 2 / B (recorded in the result; the paper does not say, its 4-8% ties suggest one order)."""


class SuperNI(Section):
    """Super-NaturalInstructions (119 test tasks), ROUGE-L (and BERTScore)."""

    shots: list[Shots] = list(SUPERNI_SHOTS)
    """Positive examples in the prompt: 0 and/or 2."""
    instances_per_task: int = Field(100, ge=1)
    """Test instances per task."""
    max_tokens: int = Field(128, ge=1)
    """Longest answer in tokens."""
    max_source_length: int = Field(1024, ge=0)
    """Tk-Instruct's token budget of a prompt, in the evaluated model's tokens: positive examples only while the prompt fits, then the prompt is cut to it (`0`: no budget)."""
    tokenizer: Location = "hf:openai-community/gpt2"
    """Tokenizer measuring the budget of models that answer through an API and have no checkpoint in the workflow: a GGUF file, a transformers directory or a Hugging Face Hub repository `hf:ORG/NAME[@REVISION]` (Tk-Instruct measured GPT-3's prompts with GPT-2's tokenizer; its files are fetched on first use)."""
    bertscore_model: str | None = "roberta-large"
    """BERTScore model: a hub id bert-score knows (the paper: `roberta-large`, downloaded on first use), a local transformers directory (give `bertscore_layers`), or `null` for no BERTScore."""
    bertscore_layers: int | None = Field(None, ge=0)
    """BERTScore representation layer (`null`: bert-score's tuned layer, 17 for roberta-large)."""


class Bootstrap(Section):
    """The paired bootstrap behind every delta's 95% interval and p-value in the report."""

    resamples: int = Field(10_000, ge=100)
    """Resamples of the paired per-instance scores."""
    seed: int = 0
    """Seed of the resampling."""


class LMentry(Section):
    """LMentry (25 tasks), the LMentry score."""

    limit_per_task: int | None = Field(None, ge=1)
    """Prompts per task (`null`: all)."""


class HeldOut(Section):
    """Held-out evaluation without generation, on the held-out split (`data.held_out` > 0): does the model prefer what the ranking preferred, and how likely are the reference responses?"""

    models: list[str] | None = None
    """Declared models evaluated (`null`: `evaluation.models`)."""
    rankings: list[str] = ["prob_rank"]
    """Data sets whose held-out ranks each model's length-normalised log-likelihoods are compared with (`tuna eval-agreement`): `prob_rank`, `ctx_rank:M`, `prm_rank:M`, ... (each has held-out ranks: the teacher and the judge rank the held-out split too). Result: `results/{model}/agreement_{ranking}.json` (`:` written as `-`)."""
    nll: bool = True
    """Also the token-level NLL of the held-out reference responses (`tuna eval-nll`, Table 5): `results/{model}/nll.json`."""
    nll_data: dict[str, Location] = {}
    """More instruction-response files whose NLL every evaluated model gets, held-out split or not (Appendix A: LIMA's training set): name -> a path, `download:NAME` (an entry of `downloads`) or a file on the Hugging Face Hub (`hf:datasets/GAIR/lima/train.jsonl`; LIMA is gated: HF_TOKEN). An Alpaca-format `.json`, instruction jsonl, or LIMA's `train.jsonl` (`{"conversations": [q, a, ...]}`: the first turn pair). Result: `results/{model}/nll_{name}.json`; Table 5 picks beta by the first one."""


class Evaluation(Section):
    """Which models are evaluated on which benchmarks, and against which baseline."""

    benchmarks: list[Benchmark] = ["vicuna", "superni", "lmentry"]
    """Any of `vicuna`, `superni`, `lmentry` (Super-NI and LMentry are downloaded)."""
    models: list[str] = Field(default_factory=list)
    """Declared models to evaluate (default: every declared model)."""
    baseline: str = "alpaca"
    """The declared model every delta and Vicuna comparison is against."""
    tables: dict[str, list[str]] = {}
    """More tables of the report in Table 1's layout, each over its own evaluated models: name -> models (e.g. the paper's `table3`, `table8`; deltas against `baseline`)."""
    paper_numbers: bool = False
    """Show the paper's published numbers (Li et al. 2023; `tuna/data/paper_results.yaml`) beside the measured ones in Table 1 and the extra tables: for each model with a row in the paper (by its name in `config/paper.yaml`), the paper's label, numbers, deltas against the baseline and whether each delta lies in the measured 95% interval; Table 1 also lists the rows the paper quotes from other papers, with their source."""
    generation: BenchmarkGeneration = BenchmarkGeneration()
    """Answering benchmark prompts."""
    vicuna: Vicuna = Vicuna()
    """Vicuna QA."""
    superni: SuperNI = SuperNI()
    """Super-NaturalInstructions."""
    lmentry: LMentry = LMentry()
    """LMentry."""
    held_out: HeldOut = HeldOut()
    """Held-out ranking agreement and NLL."""
    bootstrap: Bootstrap = Bootstrap()
    """Uncertainty of the deltas against the baseline."""


class Human(Section):
    """Human labelling, as the paper prices it in Table 6."""

    usd_per_comparison: float = Field(0.25, ge=0)
    """USD per pairwise comparison by an annotator."""
    comparisons_per_example: int = Field(6, ge=1)
    """Comparisons to rank N=4 responses (all pairs)."""


class Config(Section):
    """A whole workflow config; every section is optional and filled from its defaults."""

    root: str = ""
    """Directory (relative to the working directory) that holds this experiment's `results/`, `checkpoints/` and `logs/`, so two experiments never share artifacts (`""`: the working directory itself). Downloads under `resources/` are shared."""
    data: Data = Data()
    """The instructions."""
    models: dict[str, dict[str, Any]] = Field(min_length=1)
    """Model name -> how it is made (see `models`)."""
    train: dict[str, Any] = {}
    """Defaults of every trained model (see `train`)."""
    teacher: Teacher = Teacher()
    """Probabilistic ranking's teacher."""
    scoring: Scoring = Scoring()
    """Eq. 3."""
    sampling: Sampling = Sampling()
    """Self-sampling for contextual ranking."""
    judge: Judge = Judge()
    """The ranking (and default Vicuna) judge."""
    prms: dict[str, Prm] = {}
    """Proxy ranking models by name (used by `prm_rank:M` data)."""
    api: ApiLimits = ApiLimits()
    """API limits."""
    prices: dict[str, Price] = {}
    """API model id -> USD per 1K tokens."""
    downloads: dict[str, Download] = {}
    """Overrides and additions to `tuna/config/downloads.yaml` (name -> url and checksum)."""
    released: Released = Released()
    """The authors' released data files."""
    evaluation: Evaluation = Evaluation()
    """Benchmarks."""
    human: Human = Human()
    """Human labelling prices (Table 6)."""
