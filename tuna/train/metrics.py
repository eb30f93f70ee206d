"""Per-step training metrics as files a researcher can open or watch.

Each optimizer step gives one row (loss, L_rank, L_MLE, in-batch pair accuracy and
mean margin, gradient norm, learning rate, tokens/s, examples/s). While training, the
rows go to TensorBoard event files in `<state dir>/tensorboard` (rewritten from the
saved history on resume, so a resumed run shows each step once); the finished
checkpoint holds `metrics.jsonl`, `metrics.csv` and its own event files, so
`tensorboard --logdir checkpoints` shows every trained model. Weights & Biases is used
only when a project is named (and the package installed). Only the main rank writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from tuna.errors import TunaError

# Row key -> TensorBoard tag.
TAGS = {
    "loss": "train/loss", "rank": "train/L_rank", "mle": "train/L_MLE", "pair_accuracy": "train/pair_accuracy",
    "margin": "train/mean_margin", "grad_norm": "train/grad_norm", "lr": "train/lr",
    "tokens_per_s": "speed/tokens_per_s", "examples_per_s": "speed/examples_per_s",
}
# Validation (tuna.train.validation) key -> TensorBoard tag, at step 0 and the last step.
VALIDATION_TAGS = {
    "pair_accuracy": "validation/pair_accuracy", "kendall_tau": "validation/kendall_tau",
    "spearman": "validation/spearman", "mean_margin": "validation/mean_margin", "nll": "validation/nll",
}


def write_events(directory: Path, rows: list[dict], validation: dict[int, dict] | None = None):
    """A TensorBoard writer on `directory` that has written `rows` and the `validation`
    results by step (kept open for more)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(directory))
    for row in rows:
        add_row(writer, row)
    for step, result in (validation or {}).items():
        add_scalars(writer, VALIDATION_TAGS, result, step)
    writer.flush()
    return writer


def add_row(writer, row: dict) -> None:
    add_scalars(writer, TAGS, row, row["step"])


def add_scalars(writer, tags: dict[str, str], values: dict, step: int) -> None:
    for key, tag in tags.items():
        if values.get(key) is not None:
            writer.add_scalar(tag, values[key], step)


def save_metrics(directory: Path, rows: list[dict], validation: dict[int, dict] | None = None) -> None:
    """metrics.jsonl, metrics.csv and TensorBoard events of a finished run into `directory`."""
    with open(directory / "metrics.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    pd.DataFrame(rows).to_csv(directory / "metrics.csv", index=False)
    write_events(directory, rows, validation).close()


class LiveMetrics:
    """The running view of a training run: TensorBoard events (and W&B when asked for)."""

    def __init__(self, directory: Path, history: list[dict], config: dict, wandb_project: str | None = None,
                 run_name: str = ""):
        shutil.rmtree(directory, ignore_errors=True)
        self.writer = write_events(directory, history)
        self.wandb = None
        if wandb_project:
            try:
                import wandb
            except ImportError:
                raise TunaError("--wandb-project needs the wandb package (pip install wandb); "
                                "leave it unset to log to TensorBoard only") from None
            self.wandb = wandb.init(project=wandb_project, name=run_name, config=config)

    def add(self, row: dict) -> None:
        add_row(self.writer, row)
        self.writer.flush()
        if self.wandb is not None:
            self.wandb.log({TAGS[k]: v for k, v in row.items() if k in TAGS and v is not None}, step=row["step"])

    def add_validation(self, step: int, result: dict) -> None:
        add_scalars(self.writer, VALIDATION_TAGS, result, step)
        self.writer.flush()
        if self.wandb is not None:
            self.wandb.log({tag: result[k] for k, tag in VALIDATION_TAGS.items() if result.get(k) is not None},
                           step=step)

    def close(self) -> None:
        self.writer.close()
        if self.wandb is not None:
            self.wandb.finish()
