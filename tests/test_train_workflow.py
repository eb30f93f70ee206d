"""Config -> `tuna train` invocation, and a real Snakemake run of the train rule."""

import json

import pytest
import yaml
from tiny_llama import save_tiny_checkpoint
from workflow_run import ROOT, planned_jobs, snakemake, write_config

from tuna import config as tuna_config
from tuna.errors import TunaError


def config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def plan(cfg):
    return tuna_config.load(cfg)


def test_per_model_overrides_merge_over_defaults():
    cfg = config()
    assert plan(cfg).train("tuna").lr == 1e-6
    assert plan(cfg).train("tuna_p").lr == 1e-5  # the default: config.yaml does not set it
    assert plan(cfg).train("tuna").batch_size == cfg["train"]["batch_size"]


def test_data_file_follows_the_models_data():
    cfg = config()
    cfg["prms"] = {"prm": {"backbone": "alpaca"}}
    cfg["models"].update(sft={"init": "alpaca", "data": "instructions", "train": {"objective": "mle"}},
                         prm={"init": "alpaca", "data": "prm_rank:tuna_p"},
                         last={"init": "alpaca", "data": {"set": "prob_rank", "last": 4}})
    assert [plan(cfg).train_input(m) for m in ("tuna_p", "tuna_c", "tuna", "sft", "prm", "last")] == [
        "results/prob_rank/ranked.jsonl", "results/ctx_rank/alpaca/ranked.jsonl",
        "results/ctx_rank/tuna_p/ranked.jsonl", "results/data/instructions.jsonl",
        "results/ctx_rank/tuna_p/prm_ranked.jsonl", "results/train_data/last.jsonl",
    ]
    assert plan(cfg).mixtures() == ["last"]
    assert plan(cfg).mixture_args("last") == "--part results/prob_rank/ranked.jsonl last:4 --seed 42"


def test_cpu_runs_tuna_train_and_gpus_run_deepspeed():
    cfg = config()
    cfg["train"]["deepspeed"] = "zero3"
    options = plan(cfg).train_options("tuna_p")
    assert plan(cfg).train_launcher("tuna_p") == "tuna train"
    assert "--deepspeed" not in options and "--num-gpus" not in options
    assert "--lr 1e-05" in options and "--no-gradient-checkpointing" in options
    cfg["models"]["tuna_p"]["train"] = {"num_gpus": 8, "deepspeed": "zero3", "gradient_checkpointing": True}
    gpu = plan(cfg)
    assert gpu.train_launcher("tuna_p") == "deepspeed --num_gpus 8 --master_port 30495 --module tuna.cli.train"
    assert "--deepspeed zero3" in gpu.train_options("tuna_p")
    assert "--gradient-checkpointing" in gpu.train_options("tuna_p")
    cfg["models"]["tuna"]["train"] = {"num_gpus": 8, "deepspeed": "zero3"}
    assert plan(cfg).train_launcher("tuna") != gpu.train_launcher("tuna_p")  # own rendezvous port
    cfg["models"]["tuna_p"]["train"] = {"num_gpus": 2, "deepspeed": None}
    with pytest.raises(TunaError, match="models.tuna_p.train: num_gpus > 1 trains with DeepSpeed; set deepspeed"):
        plan(cfg)


def test_max_examples_reaches_only_that_models_train_command():
    cfg = config()
    cfg["models"]["tuna_p"]["train"] = {"max_examples": 13}
    assert "--max-examples 13" in plan(cfg).train_options("tuna_p")
    assert "--max-examples" not in plan(cfg).train_options("tuna_c")  # null: all, no option
    cfg["models"]["tuna_p"]["train"] = {"max_examples": 0}
    with pytest.raises(TunaError, match="models.tuna_p.train.max_examples"):
        plan(cfg)


def without_gguf_providers(node):
    """The default config with its llama.cpp-on-the-source-GGUF providers run by transformers instead."""
    if isinstance(node, dict):
        if node.get("quant") == "source":
            return {"kind": "hf", "model": node["model"]}
        return {key: without_gguf_providers(value) for key, value in node.items()}
    return node


@pytest.mark.slow
def test_snakemake_trains_a_declared_model(tmp_path):
    """Import an HF checkpoint, prepare the demo data, train `sft` on it with the MLE objective."""
    source = save_tiny_checkpoint(tmp_path / "tiny_source")
    cfg = without_gguf_providers(config())
    cfg["models"]["alpaca"] = {"import": str(source), "template": "chat"}
    cfg["data"]["held_out"] = 0  # every instruction trains: the counts below are of the whole data
    cfg["models"]["sft"] = {"init": "alpaca", "data": "instructions",
                            "train": {"objective": "mle", "batch_size": 4, "lr": 1e-3}}
    write_config(tmp_path, cfg)
    snakemake(tmp_path, "checkpoints/sft")
    stamp = json.loads((tmp_path / "checkpoints/sft/provenance.json").read_text())
    assert stamp["params"]["objective"] == "mle" and stamp["params"]["lr"] == 1e-3
    assert stamp["steps"] == cfg["data"]["limit"] // 4
    limit = cfg["data"]["limit"]
    assert f"{limit} of {limit} examples kept" in (tmp_path / "logs/train/sft.log").read_text()
    assert planned_jobs(tmp_path, "checkpoints/sft") == {}

    cfg["models"]["sft"]["train"]["max_examples"] = 4  # a data-amount point: re-trains sft, nothing upstream
    write_config(tmp_path, cfg)
    assert planned_jobs(tmp_path, "checkpoints/sft") == {"train": 1}
    snakemake(tmp_path, "checkpoints/sft")
    stamp = json.loads((tmp_path / "checkpoints/sft/provenance.json").read_text())
    assert stamp["params"]["max_examples"] == 4 and stamp["steps"] == 1
    assert stamp["data"]["kept"] == 4 and stamp["data"]["beyond max_examples"] == limit - 4
    log = (tmp_path / "logs/train/sft.log").read_text()
    assert f"4 of {limit} examples kept (" in log and f"beyond max_examples: {limit - 4})" in log
