"""The training loop on a tiny llama: it learns, micro-batching is exact, a killed run resumes exactly."""

import importlib.util
import json
import os
import signal
import subprocess
import time

import pytest
import torch
from safetensors.torch import load_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.config.settings import Train
from tuna.train.backends import optimizer_and_schedule
from tuna.train.trainer import step_batches

WORDS = "one two three four five red green blue the quick brown fox jumps over lazy dog".split()


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "init")


def ranked_file(path, n, counts=(4,)):
    """n ranked examples, shortest candidate first; example i has counts[i % len(counts)] candidates."""
    rows = []
    for i in range(n):
        candidates = [" ".join(WORDS[(i + k) % 7:(i + k) % 7 + 2 + 3 * k])  # different lengths
                      for k in range(counts[i % len(counts)])]
        rows.append({"id": f"x{i}", "instruction": f"Say {WORDS[i % len(WORDS)]}.", "input": "",
                     "output": " ".join(WORDS[i % 5:i % 5 + 3]), "source": "prob",
                     "candidates": [{"text": text, "n_tokens": 1} for text in candidates]})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def losses(out, key="loss"):
    return [step[key] for step in json.loads((out / "provenance.json").read_text())["log"]]


def test_training_lowers_the_loss_and_saves_a_loadable_checkpoint(tmp_path, init):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = ranked_file(tmp_path / "ranked.jsonl", 8)
    out = tmp_path / "out"
    tuna("train", "--init", init, "--data", data, "-o", out, "--lr", "1e-2", "--epochs", 5, "--batch-size", 4,
         "--warmup-steps", 0)
    history = losses(out)
    assert len(history) == 10
    assert sum(history[-2:]) < 0.8 * sum(history[:2])
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["params"]["lr"] == 1e-2 and stamp["params"]["template"] == "chat"
    assert stamp["inputs"][0]["sha256"] and stamp["data"]["kept"] == 8
    model = AutoModelForCausalLM.from_pretrained(out)
    assert AutoTokenizer.from_pretrained(out).eos_token == "<|im_end|>"
    assert not torch.equal(model.lm_head.weight, load_file(init / "model.safetensors")["lm_head.weight"])
    assert not (tmp_path / "out.state").exists()


def test_micro_batches_pad_and_accumulate_exactly(tmp_path, init):
    """Rows padded to the longest packed row, ragged candidate counts and accumulated gradients
    change nothing (the per-example losses; the released ones pool over a micro-batch by design)."""
    data = ranked_file(tmp_path / "ranked.jsonl", 10, counts=(4, 3, 2))
    results = []
    for micro in (1, 2, 4):
        out = tmp_path / f"micro{micro}"
        tuna("train", "--init", init, "--data", data, "-o", out, "--lr", "1e-3", "--batch-size", 4,
             "--micro-batch-size", micro, "--epochs", 2, "--warmup-steps", 0)
        results.append([losses(out, key) for key in ("loss", "grad_norm", "pair_accuracy", "margin")])
    assert len(results[0][0]) == 6  # per epoch steps of 4, 4 and the last 2 examples
    torch.testing.assert_close(results[1], results[0], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(results[2], results[0], rtol=1e-5, atol=1e-7)


def test_an_example_with_3_ranked_candidates_is_trained_on(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 4, counts=(4, 4, 3, 4))
    out = tmp_path / "out"
    result = tuna("train", "--init", init, "--data", data, "-o", out, "--batch-size", 4, "--lr", "1e-3")
    assert "4 of 4 examples kept; candidates per example: 4: 3, 3: 1" in result.output
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["candidates per example"] == {"4": 3, "3": 1} and stamp["data"]["kept"] == 4
    assert stamp["examples used"] == 4 and stamp["steps"] == 1


def test_the_last_partial_batch_is_trained_on_with_the_cosine_schedule(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 10)
    out = tmp_path / "keep"
    result = tuna("train", "--init", init, "--data", data, "-o", out, "--batch-size", 4, "--lr", "1e-3",
                  "--warmup-steps", 0)
    assert "training 3 steps of 4 examples (the last of an epoch: 2), 10 examples in all" in result.output
    stamp = json.loads((out / "provenance.json").read_text())
    assert (stamp["steps"], stamp["examples used"]) == (3, 10)
    # cosine over 3 steps: lr * (1 + cos(pi * s / 3)) / 2 for s = 0, 1, 2
    assert [row["lr"] for row in stamp["log"]] == pytest.approx([1e-3, 0.75e-3, 0.25e-3])

    out = tmp_path / "drop"
    result = tuna("train", "--init", init, "--data", data, "-o", out, "--batch-size", 4, "--lr", "1e-3",
                  "--warmup-steps", 0, "--last-batch", "drop", "--lr-schedule", "linear")
    assert "2 examples that do not fill a last batch are not used" in result.output
    stamp = json.loads((out / "provenance.json").read_text())
    assert (stamp["steps"], stamp["examples used"]) == (2, 8)
    assert [row["lr"] for row in stamp["log"]] == pytest.approx([1e-3, 0.5e-3])


def test_step_metrics_are_saved_as_jsonl_csv_and_tensorboard_events(tmp_path, init):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = ranked_file(tmp_path / "ranked.jsonl", 8)
    out = tmp_path / "out"
    result = tuna("train", "--init", init, "--data", data, "-o", out, "--batch-size", 2, "--lr", "1e-3",
                  "--warmup-steps", 0)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    for row in rows:
        assert 0 <= row["pair_accuracy"] <= 1 and row["grad_norm"] > 0 and 0 < row["lr"] <= 1e-3
        assert row["tokens_per_s"] > row["examples_per_s"] > 0
        assert row["loss"] == pytest.approx(row["rank"] + row["mle"])
    assert rows == json.loads((out / "provenance.json").read_text())["log"]
    csv = (out / "metrics.csv").read_text().splitlines()
    assert csv[0].split(",") == list(rows[0]) and len(csv) == 5
    events = EventAccumulator(str(out))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert tags == {"train/loss", "train/L_rank", "train/L_MLE", "train/pair_accuracy", "train/mean_margin",
                    "train/grad_norm", "train/lr", "speed/tokens_per_s", "speed/examples_per_s"}
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx([row["loss"] for row in rows])
    assert [e.step for e in events.Scalars("train/grad_norm")] == [1, 2, 3, 4]
    assert "pair_accuracy" in result.output and "grad_norm" in result.output  # the log line of each step


def test_wandb_is_only_used_when_asked_for(tmp_path, init):
    """Never required (every other test trains without it); asked for without the package: one line."""
    if importlib.util.find_spec("wandb"):
        pytest.skip("wandb is installed here")
    data = ranked_file(tmp_path / "ranked.jsonl", 4)
    result = tuna("train", "--init", str(init), "--data", str(data), "-o", str(tmp_path / "o"),
                  "--batch-size", "4", "--wandb-project", "tuna-test", code=1)
    assert "--wandb-project needs the wandb package" in result.output


def kill_once_saved(command: list[str], state) -> int:
    """Start a training command, SIGKILL it once it has saved resumable state; the step it saved."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (state / "tuna_state.json").exists():
        assert process.poll() is None, "the run ended before it saved any state"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return json.loads((state / "tuna_state.json").read_text())["step"]


@pytest.mark.slow  # three `tuna train` processes
def test_killed_run_resumes_to_the_same_weights(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 20)
    common = ["tuna", "train", "--init", str(init), "--data", str(data), "--batch-size", "1", "--epochs", "2",
              "--lr", "1e-3", "--save-every", "3"]
    subprocess.run([*common, "-o", str(tmp_path / "straight")], check=True, capture_output=True)

    out, state = tmp_path / "resumed", tmp_path / "resumed.state"
    saved_step = kill_once_saved([*common, "-o", str(out)], state)
    assert not out.exists()
    assert 3 <= saved_step < 40

    resumed = subprocess.run([*common, "-o", str(out), "--resume"], capture_output=True, text=True, check=True)
    assert f"resuming after step {saved_step}" in resumed.stderr
    straight, again = load_file(tmp_path / "straight" / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(straight[name], again[name]) for name in straight)
    assert losses(out) == losses(tmp_path / "straight")
    assert not state.exists()


def test_resume_refuses_state_of_another_run(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 4)
    state = tmp_path / "state"
    state.mkdir()
    (state / "tuna_state.json").write_text(json.dumps({"step": 1, "tag": "step1", "fingerprint": "other", "history": []}))
    result = tuna("train", "--init", str(init), "--data", str(data), "-o", str(tmp_path / "o"),
                  "--batch-size", "2", "--state-dir", str(state), "--resume", code=1)
    assert f"{state}: saved by a run with other data, init or settings" in result.output


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "4", "--micro-batch-size", "3"], "batch_size 4 is not a multiple of micro_batch_size 3"),
    (["--batch-size", "16", "--last-batch", "drop"], "4 usable examples x 1.0 epochs do not fill one batch of 16"),
    (["--precision", "fp16"], "precision fp16 needs DeepSpeed"),
])
def test_clear_errors(tmp_path, init, args, message):
    data = ranked_file(tmp_path / "ranked.jsonl", 4)
    result = tuna("train", "--init", str(init), "--data", str(data), "-o", str(tmp_path / "o"), *args,
                  code=1)
    assert message in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_cosine_and_linear_schedules_by_hand():
    parameter = torch.nn.Parameter(torch.zeros(1))
    lrs = {}
    for schedule_name in ("cosine", "linear"):
        optimizer, schedule = optimizer_and_schedule([parameter], Train(lr=1.0, warmup_steps=2,
                                                                        lr_schedule=schedule_name), total_steps=10)
        lrs[schedule_name] = []
        for _ in range(11):
            lrs[schedule_name].append(schedule.get_last_lr()[0])
            optimizer.step()
            schedule.step()
    # warm-up: 0, 0.5; then cosine (1 + cos(pi * (s - 2) / 8)) / 2, linear (10 - s) / 8
    cosine, linear = lrs["cosine"], lrs["linear"]
    assert cosine[:3] == pytest.approx([0.0, 0.5, 1.0]) and linear[:3] == pytest.approx([0.0, 0.5, 1.0])
    assert [cosine[s] for s in (3, 4, 6, 8, 10)] == pytest.approx([0.9619397662556434, 0.8535533905932737, 0.5,
                                                                 0.14644660940672627, 0.0])
    assert [linear[s] for s in (3, 4, 6, 8, 10)] == pytest.approx([0.875, 0.75, 0.5, 0.25, 0.0])


def test_step_batches_per_epoch():
    batches = step_batches(5, 2.4, batch_size=2, seed=3)
    assert [len(b) for b in batches] == [2, 2, 1, 2, 2, 1, 2]  # 5, 5, then 2 of the third epoch's shuffle
    first, second = sum(batches[:3], []), sum(batches[3:6], [])
    assert sorted(first) == sorted(second) == list(range(5)) and first != second
    assert batches == step_batches(5, 2.4, batch_size=2, seed=3)
    assert [len(b) for b in step_batches(5, 2.4, 2, seed=3, last_batch="drop")] == [2, 2, 2, 2, 2]
