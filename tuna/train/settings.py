"""Training hyper-parameters, importable without torch (the CLI takes its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass

OBJECTIVES = ("rank", "mle")
RANK_REDUCTIONS = ("sum", "gap_mean")
MLE_TARGETS = ("original", "all")
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Settings:
    """Training hyper-parameters (the `train:` config keys); defaults are config/config.yaml's."""

    objective: str = "rank"
    margin: float = 0.1
    mle_weight: float = 1.0
    rank_reduction: str = "sum"
    mle_target: str = "original"
    lr: float = 1e-5
    epochs: float = 1.0
    batch_size: int = 8
    micro_batch_size: int = 1
    warmup_steps: int = 2
    weight_decay: float = 0.0
    max_length: int = 384
    max_examples: int | None = None
    seed: int = 42
    precision: str = "fp32"
    gradient_checkpointing: bool = False
    deepspeed: str | None = None
    save_every: int = 0

    def loss(self):
        from tuna.train.loss import TunaLoss

        return TunaLoss(self.objective, self.margin, self.mle_weight, self.rank_reduction, self.mle_target)
