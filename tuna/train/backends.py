"""Where the optimisation runs: plain torch (CPU or one GPU) or DeepSpeed ZeRO (many ranks).

Both expose the same small surface to the trainer (and the proxy ranking model's
training): load the model, wrap the scorer with AdamW (over the parameters that learn:
all, or a LoRA run's adapters) and the warmup schedule, learn from one micro-batch loss
at a time (a step of fewer micro-batches than a full one, an epoch's last, averages
over those it has), save/load resumable state (without frozen weights), and hand back
the full weights (or only those that learn) for saving.

DeepSpeed configs ship in tuna/train/deepspeed/{zero2,zero2_offload,zero3,zero3_offload}.json
and hold only the ZeRO settings; batch sizes and precision are filled in from the
training settings, so the config file never disagrees with them.
"""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn

from tuna.errors import TunaError
from tuna.train.checkpoint import DTYPES, load_model

DEEPSPEED_CONFIGS = Path(__file__).resolve().parent / "deepspeed"


def accumulation_steps(batch_size: int, micro_batch_size: int, world: int) -> int:
    """Micro-batches per rank per optimizer step (effective batch = micro x accumulation x ranks)."""
    if batch_size % (micro_batch_size * world):
        raise TunaError(f"batch_size {batch_size} is not a multiple of micro_batch_size {micro_batch_size} "
                        f"x {world} rank(s)")
    return batch_size // (micro_batch_size * world)


def deepspeed_config(name: str, settings, world: int) -> dict:
    """A shipped config (zero2, zero3, ..._offload) or a JSON path, with batch sizes and precision set."""
    path = DEEPSPEED_CONFIGS / f"{name}.json"
    if not path.exists():
        path = Path(name)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        shipped = ", ".join(sorted(p.stem for p in DEEPSPEED_CONFIGS.glob("*.json")))
        raise TunaError(f"deepspeed config {name!r}: not one of {shipped} nor a readable JSON file ({exc})") from exc
    config.update(
        train_batch_size=settings.batch_size,
        train_micro_batch_size_per_gpu=settings.micro_batch_size,
        gradient_accumulation_steps=accumulation_steps(settings.batch_size, settings.micro_batch_size, world),
        bf16={"enabled": settings.precision == "bf16"},
        fp16={"enabled": settings.precision == "fp16"},
    )
    return config


def optimizer_and_schedule(parameters, settings, total_steps: int):
    """AdamW (0.9, 0.999) with linear warmup, then cosine or linear decay to 0 (`lr_schedule`), as the
    HF Trainer's `cosine` and `linear` schedules the authors' released run chose from."""
    from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(parameters, lr=settings.lr, betas=(0.9, 0.999), weight_decay=settings.weight_decay)
    schedule = {"cosine": get_cosine_schedule_with_warmup, "linear": get_linear_schedule_with_warmup}
    return optimizer, schedule[settings.lr_schedule](optimizer, settings.warmup_steps, total_steps)


def trainable(module: nn.Module) -> list[nn.Parameter]:
    """The parameters that learn (all of them; with LoRA, the adapters)."""
    return [p for p in module.parameters() if p.requires_grad]


def peak_memory_gib(device: torch.device) -> float | None:
    """The most GPU memory torch held at once in this process (None on a CPU)."""
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


class PlainBackend:
    """One process: CUDA if present, else CPU. Full fine-tuning keeps fp32 weights (bf16 compute via
    autocast); LoRA holds the frozen base in the training precision (QLoRA: 4-bit, CUDA only)."""

    kind, rank, world, is_main = "plain", 0, 1, True

    def __init__(self, settings):
        from tuna.train.lora import require_cuda_for

        if settings.precision == "fp16":
            raise TunaError("precision fp16 needs DeepSpeed (loss scaling); use bf16 or fp32 on plain torch")
        require_cuda_for(settings.lora)
        self.settings = settings
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def load_model(self, init: Path, causal_lm: bool = True) -> nn.Module:
        from tuna.train.lora import quantization

        lora = self.settings.lora
        if not lora:
            return load_model(init, torch.float32, causal_lm)
        dtype = DTYPES[self.settings.precision]
        quantized = quantization(lora, dtype)
        placed = {"quantization_config": quantized, "device_map": {"": self.device.index or 0}} if quantized else {}
        return load_model(init, dtype, causal_lm, **placed)

    def prepare(self, scorer: nn.Module, total_steps: int) -> None:
        accumulation_steps(self.settings.batch_size, self.settings.micro_batch_size, 1)  # checks the sizes
        self.module = scorer.to(self.device)
        self.optimizer, self.scheduler = optimizer_and_schedule(trainable(scorer), self.settings, total_steps)

    def autocast(self):
        dtype = DTYPES[self.settings.precision]
        return torch.autocast(self.device.type, dtype=dtype) if dtype != torch.float32 else nullcontext()

    def learn(self, loss: torch.Tensor, micro_batches: int, last: bool) -> float | None:
        """Accumulate one micro-batch's gradient, 1/micro_batches of the step's (the step's
        micro-batches over all ranks); step the optimizer after the last one and return the
        gradient's L2 norm (None before the last)."""
        (loss / micro_batches).backward()
        if not last:
            return None
        norm = torch.nn.utils.get_total_norm([p.grad for p in self.module.parameters() if p.grad is not None])
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm.item()

    @property
    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The sum over ranks."""
        return values

    def barrier(self) -> None:
        pass

    def close(self) -> None:
        pass

    def save_state(self, path: Path) -> None:
        """The weights that learn (a LoRA run's adapters, not its base), optimizer, schedule and RNG."""
        path.mkdir(parents=True, exist_ok=True)
        state = {"model": self.full_state_dict(trainable_only=True), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "rng": torch.get_rng_state()}
        torch.save(state, path / "state.pt")

    def load_state(self, path: Path) -> None:
        state = torch.load(path / "state.pt", map_location=self.device, weights_only=True)
        unexpected = self.module.load_state_dict(state["model"], strict=False).unexpected_keys
        if unexpected or set(state["model"]) != set(self.full_state_dict(trainable_only=True)):
            raise TunaError(f"{path}: holds other weights than this run trains; delete {path.parent} to start over")
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"].cpu())

    def full_state_dict(self, trainable_only: bool = False) -> dict:
        """Every weight, or only those that learn."""
        if trainable_only:
            return {name: p.detach() for name, p in self.module.named_parameters() if p.requires_grad}
        return self.module.state_dict()

    def peak_memory_gib(self) -> float | None:
        return peak_memory_gib(self.device)


class DeepSpeedBackend:
    """One rank of a `deepspeed` launch: ZeRO-2/3 (optionally CPU offload), gloo on CPU, NCCL on GPUs."""

    kind = "deepspeed"

    def __init__(self, settings):
        import deepspeed
        import torch.distributed as dist

        deepspeed.init_distributed()
        self.deepspeed, self.dist = deepspeed, dist
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        accelerator = deepspeed.get_accelerator()
        accelerator.set_device(local_rank)
        self.device = torch.device(accelerator.device_name(local_rank))
        self.settings = settings
        self.config = deepspeed_config(settings.deepspeed, settings, self.world)
        self.stage3 = self.config.get("zero_optimization", {}).get("stage") == 3

    def load_model(self, init: Path, causal_lm: bool = True) -> nn.Module:
        if not self.stage3:
            return load_model(init, DTYPES[self.settings.precision], causal_lm)
        from transformers.integrations import HfDeepSpeedConfig
        from transformers.integrations.deepspeed import unset_hf_deepspeed_config

        hf_config = HfDeepSpeedConfig(self.config)  # while it lives, from_pretrained partitions as it loads (zero.Init)
        try:
            return load_model(init, DTYPES[self.settings.precision], causal_lm)
        finally:
            del hf_config
            unset_hf_deepspeed_config()  # later loads (the LoRA merge on rank 0) are whole, and no collective

    def prepare(self, scorer: nn.Module, total_steps: int) -> None:
        optimizer, schedule = optimizer_and_schedule(trainable(scorer), self.settings, total_steps)
        self.engine, *_ = self.deepspeed.initialize(model=scorer, optimizer=optimizer, lr_scheduler=schedule,
                                                    config=self.config)
        self.module = self.engine

    def autocast(self):
        return nullcontext()  # the engine holds the weights in the training precision

    def learn(self, loss: torch.Tensor, micro_batches: int, last: bool) -> float | None:
        """DeepSpeed divides by its fixed accumulation steps and averages over ranks: the loss is
        rescaled so a step of fewer micro-batches (an epoch's last) averages over those it has.
        The boundary is set here, not counted by DeepSpeed, so a short step ends at `last`, where
        the engine has the global gradient norm (over all ranks' shards)."""
        full = self.engine.gradient_accumulation_steps() * self.world
        self.engine.set_gradient_accumulation_boundary(last)
        self.engine.backward(loss * (full / micro_batches))
        self.engine.step()
        norm = self.engine.get_global_grad_norm() if last else None
        return None if norm is None else float(norm)

    @property
    def lr(self) -> float:
        return self.engine.get_lr()[0]

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The sum over ranks."""
        values = values.to(self.device)
        self.dist.all_reduce(values)
        return values.cpu()

    def barrier(self) -> None:
        self.dist.barrier()

    def close(self) -> None:
        """Tear the engine and the process group down while Python still runs: left to exit,
        their threads were sometimes destroyed unjoined ("terminate called without an active
        exception", exit code 250 after a finished run)."""
        self.engine.destroy()
        self.dist.barrier()
        self.dist.destroy_process_group()

    def save_state(self, path: Path) -> None:
        """Without frozen weights (a LoRA run's base comes from its init checkpoint again)."""
        self.engine.save_checkpoint(str(path.parent), tag=path.name, exclude_frozen_parameters=True)

    def load_state(self, path: Path) -> None:
        loaded, _ = self.engine.load_checkpoint(str(path.parent), tag=path.name, load_module_strict=False)
        if loaded is None:
            raise TunaError(f"{path}: DeepSpeed could not load this state; delete {path.parent} to start over")

    def full_state_dict(self, trainable_only: bool = False) -> dict | None:
        """All weights, or only those that learn, on rank 0 (gathered from the shards under ZeRO-3,
        a collective); None on other ranks."""
        if self.stage3:
            return self.engine._zero3_consolidated_16bit_state_dict(exclude_frozen_parameters=trainable_only)
        return self.engine.module_state_dict(exclude_frozen_parameters=trainable_only) if self.is_main else None

    def peak_memory_gib(self) -> float | None:
        return peak_memory_gib(self.device)
