"""What jobs ask a cluster for (tuna/config/resources.py), and the two profiles that combine on a run."""

import re
import subprocess
from types import SimpleNamespace

import pytest
import yaml
from workflow_run import ROOT

from tuna import config as tuna_config
from tuna.config import resources as tr


def config(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def jobs(cfg) -> tr.ClusterJobs:
    return tr.ClusterJobs(tuna_config.load(cfg))


def model(name):
    return SimpleNamespace(model=name)


def test_parameters_are_read_from_the_gguf_header_and_the_safetensors_headers(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    cfg = config()
    assert jobs(cfg).parameters("tuna") == 134_515_008  # SmolLM2-135M, as gguf.GGUFReader counts it
    checkpoint = tmp_path / "hf"
    checkpoint.mkdir()
    save_file({"a": np.zeros((3, 4), np.float32), "b": np.zeros(5, np.float16)}, checkpoint / "model-1.safetensors")
    save_file({"c": np.zeros((2, 2, 2), np.float32)}, checkpoint / "model-2.safetensors")
    (tmp_path / "truncated.gguf").write_bytes(b"GGUF\x03\x00\x00\x00\x01")
    cfg["models"].update(hf={"import": str(checkpoint)}, gone={"import": str(tmp_path / "elsewhere")},
                         bad={"import": str(tmp_path / "truncated.gguf")})
    assert jobs(cfg).parameters("hf") == 12 + 5 + 8
    assert jobs(cfg).parameters("gone") == jobs(cfg).parameters("bad") == tr.UNKNOWN_PARAMETERS  # the paper's 7B


def test_cpu_training_asks_for_cpus_and_no_gpu_gpu_training_for_its_gpus_with_cpus_per_gpu():
    cfg = config()
    cpu = jobs(cfg).train(model("tuna_p"))
    assert cpu.resources() == {"mem_mb": 5000, "runtime": 1440, "gpu": 0, "cpus_per_task": 2}
    cfg["models"]["alpaca"]["import"] = "/not/here.gguf"  # sized as 7B
    cfg["train"] = {**cfg["train"], "num_gpus": 8, "deepspeed": "zero3"}
    gpu = jobs(cfg).train(model("tuna_p"))
    assert gpu.resources() == {"mem_mb": 92000, "runtime": 1440, "gpu": 8, "cpus_per_gpu": 8}
    assert gpu.threads == 64
    cfg["train"]["deepspeed"] = "zero3_offload"  # the optimizer state lives in host memory
    assert jobs(cfg).train(model("tuna_p")).mem_mb == 176000


def test_a_lora_job_asks_for_its_frozen_base_and_adapters_not_16_bytes_per_parameter():
    cfg = config()
    cfg["models"]["alpaca"]["import"] = "/not/here.gguf"  # sized as 7B
    full = jobs(cfg).train(model("tuna_p"))
    assert full.mem_mb == 142000  # 1.25 x 16 bytes x 7B + 2 GB
    cfg["train"] = {**cfg["train"], "lora": {}}  # r 16 on the CPU: fp32 base, its merge copy, adapters
    assert jobs(cfg).train(model("tuna_p")).mem_mb == 73000
    cfg["train"].update(num_gpus=1, precision="bf16")  # one GPU: the host holds a bf16 copy to merge into
    one_gpu = jobs(cfg).train(model("tuna_p")).resources()
    assert one_gpu == {"mem_mb": 23000, "runtime": 1440, "gpu": 1, "cpus_per_gpu": 8}
    assert "tuna train" == tuna_config.load(cfg).train_launcher("tuna_p")  # plain torch on the one GPU
    cfg["train"]["lora"] = {"quantize": "4bit"}
    assert jobs(cfg).train(model("tuna_p")).mem_mb == 23000  # 4-bit on the GPU; the merge is bf16


def test_proxy_ranking_models_ask_for_gpus_as_their_training_settings_say():
    cfg = config("paper.yaml")
    paper = jobs(cfg)
    job = SimpleNamespace(model="alpaca", prm="prm_7b")
    assert paper.prm_train(job).resources() == {"mem_mb": 92000, "runtime": 1440, "gpu": 8, "cpus_per_gpu": 8}
    assert paper.prm_rank(job).resources() == {"mem_mb": 36000, "runtime": 480, "gpu": 1, "cpus_per_gpu": 8}
    one = SimpleNamespace(model="alpaca", prm="prm_3b")
    assert paper.prm_train(one).resources()["gpu"] == 1
    assert tuna_config.load(cfg).prm_launcher("alpaca", "prm_3b") == "tuna prm-train"
    assert tuna_config.load(cfg).prm_launcher("alpaca", "prm_7b").startswith("deepspeed --num_gpus 8 ")
    cfg["prms"] = {"prm_7b": {"backbone": "llama"}, "prm_3b": {"backbone": "stablelm_3b"}}  # the CPU
    assert jobs(cfg).prm_train(job).resources() == {"mem_mb": 142000, "runtime": 1440, "gpu": 0, "cpus_per_task": 8}
    assert jobs(cfg).prm_rank(job).resources()["gpu"] == 0


def test_providers_ask_for_gpus_only_when_they_offload_layers_or_run_on_cuda():
    cfg = config()
    local = jobs(cfg).sampler(model("alpaca"))  # llama.cpp on the q8_0 export
    assert local.resources() == {"mem_mb": 2000, "runtime": 480, "gpu": 0, "cpus_per_task": 2}
    cfg["sampling"]["provider"]["n_gpu_layers"] = -1
    offloaded = jobs(cfg).sampler(model("alpaca")).resources()
    assert offloaded["gpu"] == 1 and offloaded["cpus_per_gpu"] == tr.CPUS_PER_GPU and "cpus_per_task" not in offloaded
    cfg["sampling"]["provider"] = {"kind": "vllm"}  # vLLM's CPU build
    assert jobs(cfg).sampler(model("alpaca")).resources()["gpu"] == 0
    cfg["sampling"]["provider"] = {"kind": "vllm", "device": "cuda", "tensor_parallel_size": 2}
    split = jobs(cfg).sampler(model("alpaca")).resources()
    assert split["gpu"] == 2 and split["cpus_per_gpu"] == tr.CPUS_PER_GPU
    cfg["evaluation"]["generation"]["provider"] = {"kind": "hf", "device": "cuda"}
    assert tuna_config.load(cfg).answerer("alpaca").gpus == 1
    cfg["judge"]["provider"] = {"kind": "openai", "model": "gpt-4", "api": "chat"}
    api = jobs(cfg).judge(model("alpaca"))
    assert api.resources() == {"mem_mb": 2000, "runtime": 240, "gpu": 0, "cpus_per_task": 1}


def test_the_two_profiles_share_no_key_so_neither_silently_overrides_the_other():
    workflow_profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    cluster_profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert not set(workflow_profile) & set(cluster_profile)
    partitions = yaml.safe_load((ROOT / "profiles" / "slurm" / cluster_profile["slurm-partition-config"]).read_text())
    assert partitions["partitions"]["cpu"]["max_gpu"] == 0 < partitions["partitions"]["gpu"]["max_gpu"]


def dry_run_resources(tmp_path, configfile) -> dict[str, set[str]]:
    """rule -> the distinct `resources:` lines of `snakemake -n --profile profiles/slurm`."""
    result = subprocess.run(
        ["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--configfile", str(configfile), "-n",
         "--profile", str(ROOT / "profiles" / "slurm")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    planned = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", result.stdout, re.M)
    by_rule = {}
    for rule, resources in planned:
        if rule != "all":  # a target without a command: nothing is submitted
            by_rule.setdefault(rule, set()).add(resources)
    return by_rule


@pytest.mark.slow
def test_the_offline_default_fits_a_2_cpu_node_and_the_paper_asks_for_gpus_only_where_it_uses_them(tmp_path):
    for rule, lines in dry_run_resources(tmp_path, ROOT / "config" / "config.yaml").items():
        for line in lines:
            values = dict(item.split("=", 1) for item in line.split(", "))
            assert values["gpu"] == "0" and int(values["cpus_per_task"]) <= 2 and int(values["mem_mb"]) <= 8000, rule
    (tmp_path / "alpaca-7b").mkdir()
    paper = tmp_path / "paper.yaml"
    paper.write_text((ROOT / "config" / "paper.yaml").read_text().replace("/models/alpaca-7b", str(tmp_path / "alpaca-7b")))
    gpu_rules = set()
    for rule, lines in dry_run_resources(tmp_path, paper).items():
        for line in lines:
            values = dict(item.split("=", 1) for item in line.split(", "))
            if values["gpu"] != "0":
                gpu_rules.add(rule)
                assert "cpus_per_task" not in values and int(values["cpus_per_gpu"]) == tr.CPUS_PER_GPU, rule
    assert gpu_rules == {"train", "sample", "generate_answers", "prm_train", "prm_rank"}
