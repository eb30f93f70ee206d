"""LoRA (peft) on a tiny llama: only the adapters train, the checkpoint handed on is the base with the
adapter merged in, a killed run resumes, DeepSpeed ZeRO-2/3 with 2 CPU ranks train as plain torch,
QLoRA is refused in one line without CUDA, and a Tuna_p -> Tuna chain runs through Snakemake."""

import json
import re
import subprocess

import pytest
import torch
import yaml
from safetensors.torch import load_file
from test_train_deepspeed import free_port
from test_train_trainer import kill_once_saved, ranked_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna, tuna_process
from workflow_run import ROOT, snakemake, write_config

from tuna import config as tuna_config
from tuna.errors import TunaError
from tuna.records import Instruction, write_jsonl

LORA = "{r: 4, alpha: 8, dropout: 0}"
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")  # all-linear, not lm_head


def assert_base_plus_adapter(init, out, scale=8 / 4):
    """The checkpoint's weights are the init's with the saved adapter merged in (W + alpha/r B A) on the
    adapted layers, and the init's everywhere else."""
    adapter = load_file(out / "adapter" / "adapter_model.safetensors")
    base, merged = load_file(init / "model.safetensors"), load_file(out / "model.safetensors")
    assert sorted(merged) == sorted(base)
    for name, weight in base.items():
        module = name.removesuffix(".weight")
        if not module.endswith(TARGETS):  # embeddings, norms, the LM head: untouched
            assert torch.equal(merged[name], weight), name
            continue
        a, b = (adapter[f"base_model.model.{module}.lora_{x}.weight"] for x in "AB")
        assert b.abs().max() > 0, name  # B starts at zero: training moved it
        torch.testing.assert_close(merged[name], weight + scale * b @ a, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("lora") / "init")


def test_only_the_adapters_train_and_the_checkpoint_is_the_base_with_the_adapter_merged(tmp_path, init):
    from peft import PeftModel
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from transformers import AutoModelForCausalLM

    data, held_out = ranked_file(tmp_path / "ranked.jsonl", 10), tmp_path / "held_out.jsonl"
    write_jsonl(held_out, [Instruction(id=f"x{i}", instruction="?") for i in (8, 9)])
    out = tmp_path / "out"
    result = tuna("train", "--init", init, "--data", data, "--held-out", held_out, "-o", out, "--lora", LORA,
                  "--lr", 1e-2, "--batch-size", 2, "--epochs", 2, "--warmup-steps", 0)

    adapter = load_file(out / "adapter" / "adapter_model.safetensors")
    config = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["task_type"]) == (4, 8, "CAUSAL_LM")
    trainable = sum(t.numel() for t in adapter.values())
    assert f"LoRA r 4: {trainable:,} of " in result.output
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["trainable parameters"] == trainable and stamp["params"]["lora"]["r"] == 4

    assert_base_plus_adapter(init, out)

    ids = torch.randint(0, 400, (2, 16))
    with torch.no_grad():
        logits = AutoModelForCausalLM.from_pretrained(out)(ids).logits
        expected = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(init), out / "adapter")(ids).logits
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-5)

    # metrics, TensorBoard and the held-out validation as for full fine-tuning
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 9)) and rows[-1]["loss"] < rows[0]["loss"]
    events = EventAccumulator(str(out))
    events.Reload()
    assert {"train/loss", "validation/pair_accuracy", "validation/nll"} <= set(events.Tags()["scalars"])
    validation = json.loads((out / "validation.json").read_text())
    assert validation["examples"] == 2 and validation["after"]["nll"] != validation["before"]["nll"]


@pytest.mark.slow  # three `tuna train` processes
def test_a_killed_lora_run_resumes_to_the_same_adapter(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 12)
    common = ["tuna", "train", "--init", str(init), "--data", str(data), "--batch-size", "1", "--epochs", "2",
              "--lr", "1e-2", "--lora", LORA, "--save-every", "3"]
    subprocess.run([*common, "-o", str(tmp_path / "straight")], check=True, capture_output=True)
    out = tmp_path / "resumed"
    step = kill_once_saved([*common, "-o", str(out)], tmp_path / "resumed.state")
    saved = next((tmp_path / "resumed.state").glob("step*/state.pt"))
    assert not any("base_layer" in name for name in torch.load(saved, weights_only=True)["model"])  # adapters only
    resumed = subprocess.run([*common, "-o", str(out), "--resume"], capture_output=True, text=True, check=True)
    assert f"resuming after step {step}" in resumed.stderr
    for name in ("model.safetensors", "adapter/adapter_model.safetensors"):
        straight, again = load_file(tmp_path / "straight" / name), load_file(out / name)
        assert all(torch.equal(straight[key], again[key]) for key in straight), name
    logs = [json.loads((d / "provenance.json").read_text())["log"] for d in (tmp_path / "straight", out)]
    assert [row["loss"] for row in logs[0]] == [row["loss"] for row in logs[1]]


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["zero2", "zero3"])
def test_lora_under_deepspeed_with_2_cpu_ranks_trains_as_plain_lora(tmp_path, init, stage):
    """ZeRO-3 partitions the frozen base while loading and gathers only the adapters to save them."""
    data = ranked_file(tmp_path / "ranked.jsonl", 11, counts=(4, 3, 2))
    args = ["--init", str(init), "--data", str(data), "--batch-size", "4", "--epochs", "1", "--lr", "1e-3",
            "--warmup-steps", "1", "--lora", LORA]
    tuna_process("train", *args, "-o", tmp_path / "plain")
    launch = ["deepspeed", "--num_accelerators", "2", "--master_port", str(free_port()), "--module", "tuna.cli.train",
              *args, "--deepspeed", stage, "-o", str(tmp_path / stage)]
    result = subprocess.run(launch, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    plain, ranks = (json.loads((tmp_path / d / "provenance.json").read_text()) for d in ("plain", stage))
    assert ranks["params"]["world_size"] == 2 and ranks["trainable parameters"] == plain["trainable parameters"]
    for key in ("loss", "rank", "mle", "grad_norm", "lr"):  # step 1 as plain; then Adam moves float noise
        assert ranks["log"][0][key] == pytest.approx(plain["log"][0][key], rel=1e-5, abs=1e-9), key
        torch.testing.assert_close([r[key] for r in ranks["log"]], [r[key] for r in plain["log"]], rtol=1e-3, atol=1e-4)
    assert_base_plus_adapter(init, tmp_path / stage)
    # Adam moves an element by up to about lr per step whatever its gradient's size, so one whose
    # gradient is float noise (reduced over ranks in another order) may move either way: the
    # adapters agree to the lrs' sum (the losses and gradient norms above agree to 1e-3).
    expected, got = (load_file(tmp_path / d / "adapter" / "adapter_model.safetensors") for d in ("plain", stage))
    assert sorted(got) == sorted(expected)
    moves = sum(row["lr"] for row in plain["log"])
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=0, atol=moves)


@pytest.mark.parametrize("lora, message", [
    ("{r: 0}", "Invalid value for '--lora': r: Input should be greater than or equal to 1"),
    ("[1, 2]", "Invalid value for '--lora': '[1, 2]' is not a YAML mapping (e.g. '{r: 16}')"),
    ("{target_modules: [nowhere]}", "lora.target_modules ['nowhere']: "),
])
def test_lora_errors_are_one_line(tmp_path, init, lora, message):
    data = ranked_file(tmp_path / "ranked.jsonl", 4)
    result = tuna("train", "--init", init, "--data", data, "-o", tmp_path / "o", "--lora", lora,
                  code=2 if message.startswith("Invalid value") else 1)
    assert message in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_qlora_is_refused_without_cuda_in_one_line(tmp_path, init):
    data = ranked_file(tmp_path / "ranked.jsonl", 4)
    result = tuna("train", "--init", init, "--data", data, "-o", tmp_path / "o", "--lora", "{quantize: 4bit}",
                  code=1)
    assert not (tmp_path / "o").exists()
    assert result.output == ("Error: lora.quantize 4bit (QLoRA) needs a CUDA GPU and none is visible here; train "
                             "with lora.quantize: null (LoRA on the unquantized base) or on a GPU\n")

    # In the workflow: a job that asks for no GPU runs on a CPU, so the plan refuses it before any job.
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["train"]["lora"] = {"quantize": "4bit"}
    with pytest.raises(TunaError, match=r"^config: train.lora.quantize: 4bit \(QLoRA\) needs a CUDA GPU and this job "
                                        r"asks for none: set num_gpus: 1"):
        tuna_config.load(cfg)
    cfg["models"]["tuna"]["train"] = {"lora": {"quantize": "4bit"}, "num_gpus": 1}
    cfg["train"].pop("lora")
    gpu = tuna_config.load(cfg)  # one GPU, plain torch: planned
    assert gpu.train_launcher("tuna") == "tuna train" and '"quantize":"4bit"' in gpu.train_options("tuna")
    cfg["models"]["tuna"]["train"]["num_gpus"] = 0
    with pytest.raises(TunaError, match=r"^config: models.tuna.train.lora.quantize: 4bit \(QLoRA\) needs a CUDA GPU"):
        tuna_config.load(cfg)
    cfg["models"]["tuna"]["train"].update(num_gpus=2, deepspeed="zero3")
    with pytest.raises(TunaError, match="lora.quantize .QLoRA. trains with plain torch on one GPU: set deepspeed: null"):
        tuna_config.load(cfg)


def judge_reply(body: dict) -> str:
    """A judge that ranks the responses in reverse order of their numbers, in the Table 9 format."""
    n = len(set(re.findall(r"###Response (\d+):", body["prompt"])))
    return "\n".join(f"Response {k}: {k + 1}" for k in range(n)) + f"\nrank: {list(range(n - 1, -1, -1))}"


@pytest.mark.slow
def test_tuna_p_then_tuna_with_lora_through_snakemake(tmp_path):
    """Tuna_p trains with LoRA; its merged checkpoint samples itself (transformers), a judge (a real
    OpenAI-protocol server on loopback) ranks the samples, and Tuna trains from Tuna_p with LoRA."""
    from fault_server import FaultServer

    source = save_tiny_checkpoint(tmp_path / "tiny")
    with FaultServer(reply=judge_reply) as judge:
        config = {
            "data": {"source": "demo", "limit": 6, "shards": 1, "ctx_rank_limit": 6},
            "models": {"alpaca": {"import": str(source), "template": "chat"},
                       "tuna_p": {"init": "alpaca", "data": "prob_rank"},
                       "tuna": {"init": "tuna_p", "data": "ctx_rank:tuna_p", "train": {"lr": 1e-3}}},
            "train": {"batch_size": 2, "max_length": 64, "warmup_steps": 0, "lr": 1e-2, "lora": {"r": 4}},
            "teacher": {"provider": {"kind": "hf", "model": "alpaca"}, "n": 3, "max_tokens": 6},
            "sampling": {"provider": {"kind": "hf"}, "n": 3, "max_tokens": 6, "max_trials": 1},
            "judge": {"provider": {"kind": "openai", "model": "judge", "base_url": judge.url}, "max_tokens": 64},
            "evaluation": {"benchmarks": ["vicuna"], "models": ["alpaca"], "baseline": "alpaca"},
        }
        write_config(tmp_path, config)
        snakemake(tmp_path, "checkpoints/tuna")
    tuna_p, tuna = tmp_path / "checkpoints" / "tuna_p", tmp_path / "checkpoints" / "tuna"
    stamps = {d.name: json.loads((d / "provenance.json").read_text()) for d in (tuna_p, tuna)}
    assert all(stamp["params"]["lora"]["r"] == 4 for stamp in stamps.values())
    assert stamps["tuna"]["params"]["lr"] == 1e-3 and stamps["tuna"]["data"]["kept"] > 0
    assert json.loads((tuna / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        tuna_p.relative_to(tmp_path))  # Tuna's adapter is on Tuna_p's merged weights
    samples = (tmp_path / "results/ctx_rank/tuna_p/samples/0.jsonl").read_text().splitlines()
    assert len(samples) == 6 and all(json.loads(line)["model"] for line in samples)
    weights = {name: load_file(tmp_path / "checkpoints" / name / "model.safetensors") for name in ("alpaca", "tuna_p", "tuna")}
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(weights["tuna_p"][q], weights["alpaca"][q]) and not torch.equal(weights["tuna"][q],
                                                                                          weights["tuna_p"][q])
    embed = "model.embed_tokens.weight"
    assert torch.equal(weights["tuna"][embed], weights["alpaca"][embed])  # the base never trains
