"""DeepSpeed: the shipped ZeRO configs are valid, and 2 ranks on the CPU accelerator train like plain torch."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest
import torch
from safetensors.torch import load_file
from test_train_trainer import ranked_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna_process

from tuna.config.settings import Train
from tuna.errors import TunaError
from tuna.train.backends import DEEPSPEED_CONFIGS, deepspeed_config

SHIPPED = ["zero2", "zero2_offload", "zero3", "zero3_offload"]


def test_shipped_configs_are_valid_deepspeed_configs():
    from deepspeed.runtime.config import DeepSpeedConfig

    assert sorted(p.stem for p in DEEPSPEED_CONFIGS.glob("*.json")) == SHIPPED
    for name in SHIPPED:
        config = DeepSpeedConfig(deepspeed_config(name, Train(batch_size=8, micro_batch_size=2, precision="bf16"), 1))
        assert config.zero_optimization_stage == int(name[4])
        assert (config.train_batch_size, config.train_micro_batch_size_per_gpu) == (8, 2)
        assert config.gradient_accumulation_steps == 4
        assert config.bfloat16_config.enabled and not config.float16_config.enabled
        assert (config.zero_config.offload_optimizer is not None) == name.endswith("offload")


def test_batch_and_config_errors():
    with pytest.raises(TunaError, match="batch_size 8 is not a multiple of micro_batch_size 2 x 3 rank"):
        deepspeed_config("zero2", Train(batch_size=8, micro_batch_size=2), 3)
    with pytest.raises(TunaError, match="deepspeed config 'zero5': not one of zero2, zero2_offload, zero3, zero3_off"):
        deepspeed_config("zero5", Train(), 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """A tiny llama with tied embeddings (like SmolLM2), its data, and the plain-torch run to match.

    11 examples with 4, 3 or 2 candidates in batches of 8 over 2 epochs: a full step, then a
    short one of 3 examples in 2 rounds where DeepSpeed is configured for 4 micro-batches per
    rank (the boundary comes early; rank 1 reruns a micro-batch with weight 0), twice."""
    workdir = tmp_path_factory.mktemp("ds")
    init = save_tiny_checkpoint(workdir / "init", tie_word_embeddings=True)
    data = ranked_file(workdir / "ranked.jsonl", 11, counts=(4, 3, 2))
    args = ["--init", str(init), "--data", str(data), "--batch-size", "8", "--epochs", "2", "--lr", "1e-4",
            "--warmup-steps", "1"]
    tuna_process("train", *args, "-o", workdir / "plain")
    return workdir, args


def log(out):
    return json.loads((out / "provenance.json").read_text())["log"]


def launch(args, config, out, *extra):
    return ["deepspeed", "--num_accelerators", "2", "--master_port", str(free_port()), "--module",
            "tuna.cli.train", *args, "--deepspeed", config, "-o", str(out), *extra]


def assert_matches_plain(workdir, out):
    plain, ranks = log(workdir / "plain"), log(out)
    assert len(ranks) == 4 and [s["lr"] for s in ranks] == [s["lr"] for s in plain]
    # Step 1 runs at lr 0, so step 2, the first short one, sees the same weights: its loss and
    # gradient must be the plain ones to float precision.
    for key in ("loss", "rank", "mle", "grad_norm"):
        assert ranks[1][key] == pytest.approx(plain[1][key], rel=1e-5), key
    torch.testing.assert_close([s["loss"] for s in ranks], [s["loss"] for s in plain], rtol=1e-4, atol=0)
    # reduced over ranks; margins are differences of v ~ -6, so float noise is absolute, not relative
    for key in ("rank", "mle", "pair_accuracy", "margin", "grad_norm"):
        torch.testing.assert_close([s[key] for s in ranks], [s[key] for s in plain], rtol=1e-3, atol=1e-4)
    assert (out / "metrics.jsonl").read_text().count("\n") == 4
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["params"]["world_size"] == 2 and stamp["params"]["backend"] == "deepspeed"
    assert (stamp["steps"], stamp["examples used"]) == (4, 22)
    assert stamp["candidates per example"] == {"4": 4, "3": 4, "2": 3}
    expected, got = load_file(workdir / "plain" / "model.safetensors"), load_file(out / "model.safetensors")
    assert sorted(got) == sorted(expected)
    init = load_file(workdir / "init" / "model.safetensors")
    assert max((expected[name] - init[name]).abs().max().item() for name in init) > 1e-4  # training moved them
    # ZeRO reduces gradients in another order, and Adam turns that float noise in near-zero
    # gradients into lr-sized moves (main's full steps on other data: 9e-6; here 3e-5): allow a
    # quarter of the largest possible move (the lrs of the 4 steps sum to 2e-4).
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=5e-5)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["zero2", "zero3", "zero3_offload"])
def test_two_ranks_give_the_plain_losses_and_weights(plain_run, config):
    workdir, args = plain_run
    result = subprocess.run(launch(args, config, workdir / config), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (result.stdout + result.stderr).count("step 1/4 loss") == 1  # rank 0 logs, once
    assert_matches_plain(workdir, workdir / config)


@pytest.mark.slow
def test_killed_zero3_run_resumes_from_its_sharded_state(plain_run):
    workdir, args = plain_run
    out, state = workdir / "resumed", workdir / "resumed.state"
    process = subprocess.Popen(launch(args, "zero3", out, "--save-every", "1"), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (state / "tuna_state.json").exists():
        assert process.poll() is None, "the run ended before it saved any state"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    step = json.loads((state / "tuna_state.json").read_text())["step"]
    result = subprocess.run(launch(args, "zero3", out, "--save-every", "1", "--resume"), capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"resuming after step {step}" in result.stdout + result.stderr
    assert_matches_plain(workdir, out)
