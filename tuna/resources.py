"""What each job asks a cluster for (threads, memory, runtime, GPUs), derived from the config.

The rules declare these so a CPU config requests no GPU, a GPU config requests exactly
the GPUs it uses (with `cpus_per_gpu`, which the SLURM executor turns into
--cpus-per-gpu), and memory follows the model: its parameter count is read from the
imported GGUF or safetensors checkpoint when that is on this machine, else taken as
7B (the paper's size). A profile's `set-resources`/`set-threads` override any of it.
Small models (the offline default) get 2 threads, so every job fits a 2-CPU node.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tuna.errors import TunaError
from tuna.sources import resolve
from tuna.workflow import DEFAULT_QUANT, train_settings

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


def parameters(config: dict, model: str) -> int:
    """A declared model's parameter count: that of the model it was imported as (via `init`)."""
    spec = config["models"][model]
    while "init" in spec:
        spec = config["models"][spec["init"]]
    try:
        return _file_parameters(resolve(spec["import"]))
    except TunaError:
        return UNKNOWN_PARAMETERS


def cpu_threads(params: int) -> int:
    return 2 if params < SMALL_MODEL else 8


def _gguf_bytes(config: dict, spec: dict) -> float:
    """Size of the GGUF a llama.cpp provider loads."""
    model = spec["model"]
    if model not in config["models"]:  # a user's file
        path = Path(model).expanduser()
        return path.stat().st_size if path.is_file() else 2 * UNKNOWN_PARAMETERS
    quant = spec.get("quant", DEFAULT_QUANT)
    if quant == "source":
        try:
            return resolve(config["models"][model]["import"]).stat().st_size
        except TunaError:
            quant = "f16"
    return GGUF_BYTES[quant] * parameters(config, model)


def provider_job(config: dict, spec: dict) -> Job:
    """A job that generates with a provider: an API client, llama.cpp (GPU if it offloads layers), or transformers.

    llama.cpp: the GGUF plus half again for the KV cache and buffers; transformers: fp32 weights.
    """
    if spec["kind"] == "openai":
        return Job(threads=1, mem_mb=2000, runtime=240)
    model = spec["model"]
    params = parameters(config, model) if model in config["models"] else UNKNOWN_PARAMETERS
    weights = _gguf_bytes(config, spec) if spec["kind"] == "llamacpp" else 4 * params
    mem_mb = _mb(1.5 * weights + 1000 * MB)
    if spec.get("n_gpu_layers", 0) != 0:
        return Job(threads=CPUS_PER_GPU, mem_mb=mem_mb, runtime=240, gpu=1)
    return Job(threads=cpu_threads(params), mem_mb=mem_mb, runtime=480)


def train_job(config: dict, model: str) -> Job:
    """Training: fp32 weights, gradients and two Adam moments (16 bytes per parameter) plus activations.

    On GPUs (`num_gpus` DeepSpeed ranks) the host keeps those 16 bytes only when ZeRO offloads
    them (`*_offload`), else a fp32 copy while loading; plus 8 GB per rank.
    """
    settings = train_settings(config, model)
    params, gpus = parameters(config, model), settings.get("num_gpus", 0)
    if gpus:
        host = (16 if "offload" in (settings.get("deepspeed") or "") else 4) * params
        return Job(threads=CPUS_PER_GPU * gpus, mem_mb=_mb(host + gpus * 8000 * MB), runtime=1440, gpu=gpus)
    return _cpu_training(params)


def _cpu_training(params: int) -> Job:
    return Job(threads=cpu_threads(params), mem_mb=_mb(1.25 * 16 * params + 2000 * MB), runtime=1440)


def convert_job(config: dict, model: str) -> Job:
    """Import (GGUF/HF -> fp32 checkpoint) or export (checkpoint -> GGUF): two fp32 copies at most."""
    params = parameters(config, model)
    return Job(threads=cpu_threads(params), mem_mb=_mb(8 * params + 1000 * MB), runtime=120)


def prm_train_job(config: dict) -> Job:
    """The proxy ranking model trains its backbone on CPU, like `train_job` without GPUs."""
    return _cpu_training(parameters(config, config["prm"]["backbone"]))


def prm_rank_job(config: dict) -> Job:
    params = parameters(config, config["prm"]["backbone"])
    return Job(threads=cpu_threads(params), mem_mb=_mb(4 * params + 2000 * MB), runtime=480)


RESOURCES = ("mem_mb", "runtime", "gpu", "cpus_per_task", "cpus_per_gpu")


def wildcard_resources(job_of) -> dict:
    """Snakemake `resources:` that depend on the wildcards, job_of(wildcards) -> Job
    (a resource a job does not have is None, which Snakemake drops)."""
    return {name: (lambda wildcards, name=name: job_of(wildcards).resources().get(name)) for name in RESOURCES}


def wildcard_threads(job_of):
    """Snakemake `threads:` that depend on the wildcards."""
    return lambda wildcards: job_of(wildcards).threads

