"""What each job asks a cluster for (threads, memory, runtime, GPUs), derived from the config.

The rules declare these (through ClusterJobs, one Job per rule and wildcards, read from
the config's Plan) so a CPU config requests no GPU, a GPU config requests exactly
the GPUs it uses, for the job as a whole (`gpu`, which the SLURM executor turns into
--gpus=N, with `cpus_per_gpu` into --cpus-per-gpu; one task, so the job runs once and
DeepSpeed or vLLM inside it starts one worker per GPU), and memory follows the model:
its parameter count is read from the imported GGUF or safetensors checkpoint when that
is on this machine (a Hub model: in the Hub cache), else taken as 7B (the paper's size).
A profile's `set-resources`/`set-threads` override any of it. Small models (the offline
default) get 2 threads, so every job fits a 2-CPU node.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tuna.config.models import ImportedModel, TrainedModel
from tuna.config.providers import ResolvedProvider
from tuna.errors import TunaError
from tuna.sources import find

UNKNOWN_PARAMETERS = 7_000_000_000  # LLaMA-7B: a model whose files are not on this machine
SMALL_MODEL = 1_000_000_000  # below this a model gains little from more than 2 threads
CPUS_PER_GPU = 8
# Bytes per parameter of each GGUF type `tuna export` writes (block scales included).
GGUF_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 1.0625, "q6_k": 0.82, "q5_k_m": 0.69,
              "q4_k_m": 0.6, "q4_0": 0.5625}
MB = 1_000_000


@dataclass(frozen=True)
class Job:
    threads: int
    mem_mb: int
    runtime: int  # minutes
    gpu: int = 0

    def resources(self) -> dict:
        """The Snakemake `resources:` of the job.

        CPUs are a resource too (not only `threads`, which Snakemake caps at the cores of
        the machine it runs on): cpus_per_task for a CPU job, cpus_per_gpu for a GPU job
        (the SLURM executor prefers cpus_per_task whenever it is set).
        """
        cpus = {"cpus_per_gpu": self.threads // self.gpu} if self.gpu else {"cpus_per_task": self.threads}
        return {"mem_mb": self.mem_mb, "runtime": self.runtime, "gpu": self.gpu, **cpus}


def _mb(nbytes: float) -> int:
    """Bytes as MB, rounded up to a whole GB so the requests read plainly."""
    return 1000 * math.ceil(nbytes / MB / 1000)


# Jobs that read and write records (downloads, prompts, ranking, scores, the report).
LIGHT = Job(threads=1, mem_mb=4000, runtime=60)


# GGUF metadata value types -> bytes (8 is a string, 9 an array).
_GGUF_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _skip_gguf_value(handle, kind: int) -> None:
    if kind == 8:
        handle.seek(struct.unpack("<Q", handle.read(8))[0], 1)
    elif kind == 9:
        item, count = struct.unpack("<IQ", handle.read(12))
        if item in _GGUF_SCALARS:
            handle.seek(count * _GGUF_SCALARS[item], 1)
        else:
            for _ in range(count):
                _skip_gguf_value(handle, item)
    else:
        handle.seek(_GGUF_SCALARS[kind], 1)


def _gguf_parameters(path: Path) -> int:
    """Sum of the tensor sizes in a GGUF header. gguf.GGUFReader would decode every metadata
    array (2.6 s for the vocabulary of a 135M model), too slow for each Snakemake start."""
    with path.open("rb") as handle:
        try:
            magic, _version, n_tensors, n_kv = struct.unpack("<4sIQQ", handle.read(24))
            if magic != b"GGUF":
                raise KeyError(magic)
            for _ in range(n_kv):
                _skip_gguf_value(handle, 8)  # the key
                _skip_gguf_value(handle, struct.unpack("<I", handle.read(4))[0])
            total = 0
            for _ in range(n_tensors):
                _skip_gguf_value(handle, 8)  # the name
                n_dims = struct.unpack("<I", handle.read(4))[0]
                total += math.prod(struct.unpack(f"<{n_dims}Q", handle.read(8 * n_dims)))
                handle.seek(12, 1)  # type, offset
        except (struct.error, KeyError):
            raise TunaError(f"{path}: not a readable GGUF header") from None
        return total


@lru_cache(maxsize=None)
def _file_parameters(path: Path) -> int:
    """Parameters stored in a GGUF file or an HF directory of safetensors (headers only)."""
    if path.is_file():
        return _gguf_parameters(path)
    from safetensors import safe_open

    total = 0
    for shard in sorted(path.glob("*.safetensors")):
        with safe_open(shard, "np") as handle:
            total += sum(math.prod(handle.get_slice(name).get_shape()) for name in handle.keys())
    return total or UNKNOWN_PARAMETERS


def cpu_threads(params: int) -> int:
    return 2 if params < SMALL_MODEL else 8


# Bytes per parameter of a frozen LoRA base held in each training precision (QLoRA: 4-bit NF4 blocks).
FROZEN_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0}
QLORA_BYTES = 0.55
# LoRA adapters as a fraction of the base's parameters at rank 16 (all linear layers of LLaMA-7B: 40M of
# 6.7B, 0.6%); they train with fp32 weights, gradients and Adam moments (16 bytes each).
ADAPTER_FRACTION_AT_R16 = 0.006


def training(settings, params: int) -> Job:
    """A training job (`train` or a proxy ranking model's) by what holds memory on the host.

    Full fine-tuning on the CPU: fp32 weights, gradients and two Adam moments (16 bytes per
    parameter) plus activations. LoRA: the frozen base in the training precision (4-bit for
    QLoRA) plus the adapters' 16 bytes per parameter; at the end the main rank loads the base
    once more to merge the adapter into it. On GPUs (`num_gpus`, 8 CPUs each) the host keeps
    the 16 bytes per parameter only when ZeRO offloads them (`*_offload`), else a copy of the
    weights while loading, plus 8 GB per GPU.
    """
    gpus, lora = settings.num_gpus, settings.lora
    if lora:
        frozen = QLORA_BYTES if lora.quantize else FROZEN_BYTES[settings.precision]
        adapters = 16 * ADAPTER_FRACTION_AT_R16 * lora.r / 16 * params
        merge = FROZEN_BYTES[settings.precision] * params
        host = (frozen if not gpus else 0) * params + adapters + merge
    elif not gpus:
        return Job(threads=cpu_threads(params), mem_mb=_mb(1.25 * 16 * params + 2000 * MB), runtime=1440)
    else:
        host = (16 if "offload" in (settings.deepspeed or "") else 4) * params
    if not gpus:
        return Job(threads=cpu_threads(params), mem_mb=_mb(1.25 * host + 2000 * MB), runtime=1440)
    return Job(threads=CPUS_PER_GPU * gpus, mem_mb=_mb(host + gpus * 8000 * MB), runtime=1440, gpu=gpus)


class ClusterJobs:
    """What each rule's job asks for; every method takes the job's wildcards, so rules can use it
    as `threads: threads_of(JOBS.train)` and `resources: **resources_of(JOBS.train)`."""

    def __init__(self, plan):  # a tuna.config.plan.Plan (which builds report specs from this module)
        self.plan = plan

    def parameters(self, model: str) -> int:
        """A declared model's parameter count: that of the model it was trained from (via `init`)."""
        spec = self.plan.models.get(model)
        while isinstance(spec, TrainedModel):
            spec = self.plan.models[spec.init]
        path = find(spec.import_) if isinstance(spec, ImportedModel) else None
        try:
            return _file_parameters(path) if path else UNKNOWN_PARAMETERS
        except TunaError:
            return UNKNOWN_PARAMETERS

    def _gguf_bytes(self, provider: ResolvedProvider) -> float:
        """Size of the GGUF a llama.cpp provider loads."""
        model, quant = provider.spec.model, provider.spec.quant
        if model not in self.plan.models:  # a user's file
            path = Path(model or "").expanduser()
            return path.stat().st_size if model and path.is_file() else 2 * UNKNOWN_PARAMETERS
        if quant == "source":
            source = find(self.plan.models[model].import_)
            if source:
                return source.stat().st_size
            quant = "f16"
        return GGUF_BYTES[quant] * self.parameters(model)

    def provider(self, provider: ResolvedProvider) -> Job:
        """Generation: an API client; llama.cpp, the GGUF plus half again for the KV cache and
        buffers (one GPU if it offloads layers); transformers and vLLM, fp32 weights (their
        GPUs with `device: cuda`)."""
        if provider.is_api:
            return Job(threads=1, mem_mb=2000, runtime=240)
        params = self.parameters(provider.spec.model)
        weights = self._gguf_bytes(provider) if provider.spec.kind == "llamacpp" else 4 * params
        mem_mb = _mb(1.5 * weights + 1000 * MB)
        if provider.uses_gpu:
            return Job(threads=CPUS_PER_GPU * provider.gpus, mem_mb=mem_mb, runtime=240, gpu=provider.gpus)
        return Job(threads=cpu_threads(params), mem_mb=mem_mb, runtime=480)

    def teacher(self, wildcards) -> Job:
        return self.provider(self.plan.teacher())

    def judge(self, wildcards) -> Job:
        return self.provider(self.plan.judge())

    def vicuna_judge(self, wildcards) -> Job:
        return self.provider(self.plan.vicuna_judge())

    def sampler(self, wildcards) -> Job:
        return self.provider(self.plan.sampler(wildcards.model))

    def answerer(self, wildcards) -> Job:
        return self.provider(self.plan.answerer(wildcards.model))

    def train(self, wildcards) -> Job:
        return training(self.plan.train(wildcards.model), self.parameters(wildcards.model))

    def reference(self, wildcards) -> Job:
        """DPO's reference pass: a no-grad forward of the init checkpoint (fp32 weights), on one GPU
        when the model trains on GPUs."""
        params = self.parameters(wildcards.model)
        if self.plan.train(wildcards.model).num_gpus:
            return Job(threads=CPUS_PER_GPU, mem_mb=_mb(4 * params + 8000 * MB), runtime=480, gpu=1)
        return self._forward(params)

    def convert(self, wildcards) -> Job:
        """Import (GGUF/HF -> fp32 checkpoint) or export (checkpoint -> GGUF): two fp32 copies at most."""
        params = self.parameters(wildcards.model)
        return Job(threads=cpu_threads(params), mem_mb=_mb(8 * params + 1000 * MB), runtime=120)

    def prm_train(self, wildcards) -> Job:
        """A proxy ranking model trains as `train` does, on the GPUs its `num_gpus` asks for."""
        prm = self.plan.config.prms[wildcards.prm]
        return training(prm, self.parameters(prm.backbone))

    def prm_rank(self, wildcards) -> Job:
        """Scoring without gradients (`prm-rank`, and the PRM's held-out agreement): on one GPU when
        the PRM trains on GPUs (the host holds the weights while loading, fp32 at most, plus 8 GB),
        else on the CPU."""
        prm = self.plan.config.prms[wildcards.prm]
        params = self.parameters(prm.backbone)
        if not prm.num_gpus:
            return self._forward(params)
        return Job(threads=CPUS_PER_GPU, mem_mb=_mb(4 * params + 8000 * MB), runtime=480, gpu=1)

    def held_out(self, wildcards) -> Job:
        """Held-out agreement and NLL: forward passes of the model, no gradients."""
        return self._forward(self.parameters(wildcards.model))

    @staticmethod
    def _forward(params: int) -> Job:
        return Job(threads=cpu_threads(params), mem_mb=_mb(4 * params + 2000 * MB), runtime=480)


RESOURCES = ("mem_mb", "runtime", "gpu", "cpus_per_task", "cpus_per_gpu")


def resources_of(job_of) -> dict:
    """Snakemake `resources:` from job_of(wildcards) -> Job (a resource a job does not have is
    None, which Snakemake drops)."""
    return {name: (lambda wildcards, name=name: job_of(wildcards).resources().get(name)) for name in RESOURCES}


def threads_of(job_of):
    """Snakemake `threads:` from job_of(wildcards) -> Job."""
    return lambda wildcards: job_of(wildcards).threads
