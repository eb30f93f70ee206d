"""profiles/slurm as shipped, on a real one-node SLURM with 2 GPUs (tests/slurm_cluster.py): the
offline default's checkpoints/tuna_p goes through sbatch, a scancelled training job resumes from
its saved state when Snakemake resubmits it, a rerun submits nothing, a job the node can never
satisfy stops the run with SLURM's reason, and a 2-GPU DeepSpeed training job runs once, on the
`gpu` partition, holding 2 GPUs, with one DeepSpeed rank per GPU."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import slurm_cluster
import yaml
from tiny_llama import save_tiny_checkpoint
from workflow_run import ROOT, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = slurm_cluster.install()
    if reason:
        pytest.skip(reason)
    with slurm_cluster.cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


def slurm_snakemake(workdir, env, *args) -> list[str]:
    """The command a user runs (`--profile profiles/slurm`), polling SLURM every few seconds."""
    return ["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "--configfile",
            str(workdir / "config.yaml"), "--profile", str(ROOT / "profiles" / "slurm"),
            "--slurm-init-seconds-before-status-checks", "3", *args]


def jobs(env, since: set[str] = frozenset()) -> list[tuple[str, str, str]]:
    """(job id, state, comment = rule_<name>...) of every job SLURM still remembers (not in `since`)."""
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%T|%k"], env=env, capture_output=True, text=True,
                         check=True).stdout
    return [job for job in (tuple(line.split("|")) for line in out.splitlines()) if job[0] not in since]


def job_ids(env) -> set[str]:
    return {job for job, _, _ in jobs(env)}


def rule_of(comment: str) -> str:
    return comment.split("_wildcards_")[0].removeprefix("rule_")


def cancel_training_once_it_saved(workdir, env, run: subprocess.Popen) -> str:
    """scancel the running train job as soon as its first save_every state is on disk."""
    state = workdir / "checkpoints" / "tuna_p.state" / "tuna_state.json"
    while run.poll() is None:
        if state.exists():
            running = [job for job, status, comment in jobs(env) if comment.startswith("rule_train") and status == "RUNNING"]
            if running:
                subprocess.run(["scancel", running[0]], env=env, check=True)
                return running[0]
        time.sleep(0.5)
    raise AssertionError("the run ended before training saved a state")


@pytest.mark.timeout(2400)  # minutes on an idle 2-core machine, half an hour on one loaded 7x
def test_offline_default_runs_through_sbatch_and_training_resumes_after_scancel(slurm, tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["train"]["save_every"] = 1
    config["teacher"]["max_tokens"] = 16  # shorter answers: the same jobs in a quarter of the teacher's time
    write_config(tmp_path, config)
    earlier = job_ids(slurm)
    output = tmp_path / "snakemake.out"
    with output.open("w") as out, subprocess.Popen(slurm_snakemake(tmp_path, slurm, "checkpoints/tuna_p"), env=slurm,
                                                   stdout=out, stderr=subprocess.STDOUT) as run:
        try:
            cancelled = cancel_training_once_it_saved(tmp_path, slurm, run)
            run.wait(timeout=1500)
        finally:
            run.kill()  # a no-op once it has ended; on a failure the fixture cancels its jobs
    assert run.returncode == 0, output.read_text()

    submitted = jobs(slurm, since=earlier)
    rules = sorted(rule_of(comment) for _, _, comment in submitted)
    assert rules == ["import_model_gguf", "prepare_data", "score", "teacher", "teacher", "train", "train"]
    assert [(job, state) for job, state, comment in submitted if state != "COMPLETED"] == [(cancelled, "CANCELLED")]
    assert "resuming after step" in (tmp_path / "logs" / "train" / "tuna_p.log").read_text()
    assert not (tmp_path / "checkpoints" / "tuna_p.state").exists()
    assert (tmp_path / "checkpoints" / "tuna_p" / "model.safetensors").is_file()
    data = config["data"]
    assert len((tmp_path / "results" / "prob_rank" / "ranked.jsonl").read_text().splitlines()) == data["limit"] + data["held_out"]
    validation = json.loads((tmp_path / "checkpoints" / "tuna_p" / "validation.json").read_text())
    assert validation["examples"] == data["held_out"]  # measured before the cancel, kept through the resume
    assert validation["before"]["pair_accuracy"] is not None and validation["after"]["nll"] > 0
    for log in ("prepare_data.log", "import_model_gguf/alpaca.log", "teacher/0.log", "teacher/1.log",
                "score.log", "train/tuna_p.log"):
        assert (tmp_path / "logs" / log).is_file(), log
    assert len(list((tmp_path / "logs" / "slurm").rglob("*.log"))) == len(submitted)  # SLURM's logs, all kept

    rerun = subprocess.run(slurm_snakemake(tmp_path, slurm, "checkpoints/tuna_p"), env=slurm, capture_output=True,
                           text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
    assert len(jobs(slurm, since=earlier)) == len(submitted)


def test_a_job_the_node_cannot_satisfy_stops_the_run_with_slurms_reason(slurm, tmp_path):
    write_config(tmp_path, yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    result = subprocess.run(
        slurm_snakemake(tmp_path, slurm, "results/data/instructions.jsonl", "--retries", "0",
                        "--set-resources", "prepare_data:mem_mb=100000000"),
        env=slurm, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "Requested node configuration is not available" in result.stdout + result.stderr


@pytest.mark.timeout(1200)
def test_a_2_gpu_training_job_runs_once_on_the_gpu_partition_with_2_gpus_and_2_deepspeed_ranks(slurm, tmp_path):
    """On this CPU machine DeepSpeed's launcher starts its 2 ranks on the CPU accelerator; on a GPU
    node the same command line gives each rank one of the job's GPUs."""
    config = {"data": {"source": "demo", "limit": 8, "held_out": 0},
              "models": {"base": {"import": str(save_tiny_checkpoint(tmp_path / "tiny"))},
                         "sft": {"init": "base", "data": "instructions"}},
              "train": {"objective": "mle", "num_gpus": 2, "deepspeed": "zero2", "batch_size": 4, "max_length": 128,
                        "warmup_steps": 0},
              "evaluation": {"models": ["base"], "baseline": "base"}}
    write_config(tmp_path, config)
    earlier = job_ids(slurm)
    # The plan asks for 2 GPUs and 8 CPUs per GPU; this node has 2 CPUs, so the user's override:
    override = ["--set-resources", "train:cpus_per_gpu=1"]
    plan = subprocess.run(slurm_snakemake(tmp_path, slurm, "checkpoints/sft", "-n"), env=slurm, capture_output=True,
                          text=True, check=True)
    train_plan = (plan.stdout + plan.stderr).split("rule train:")[-1].split("\n\n")[0]
    assert "gpu=2" in train_plan and "cpus_per_gpu=8" in train_plan and "cpus_per_task" not in train_plan, train_plan
    run = subprocess.run(slurm_snakemake(tmp_path, slurm, "checkpoints/sft", "--verbose", *override), env=slurm,
                         capture_output=True, text=True, timeout=1100, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    [sbatch] = [line for line in (run.stdout + run.stderr).splitlines() if "sbatch call:" in line and "rule_train" in line]
    assert "--gpus=2" in sbatch and "--cpus-per-gpu=1" in sbatch and "ntasks" not in sbatch, sbatch

    submitted = jobs(slurm, since=earlier)
    assert sorted(rule_of(comment) for _, _, comment in submitted) == ["import_model_hf", "prepare_data", "train"]
    [train] = [job for job, _, comment in submitted if rule_of(comment) == "train"]
    details = subprocess.run(["scontrol", "show", "job", train], env=slurm, capture_output=True, text=True,
                             check=True).stdout
    assert "JobState=COMPLETED" in details and "Partition=gpu" in details
    assert "TresPerJob=gres:gpu:2" in details  # 2 GPUs for the job, not per task
    assert "NumTasks=1" in details and "NtasksPerTRES" not in details  # one task: the job runs once
    stamp = json.loads((tmp_path / "checkpoints" / "sft" / "provenance.json").read_text())
    assert stamp["job"]["SLURM_JOB_ID"] == train
    assert stamp["job"]["SLURM_GPUS_ON_NODE"] == "2" and stamp["job"]["SLURM_NTASKS"] == "1"
    assert stamp["params"]["world_size"] == 2 and stamp["params"]["backend"] == "deepspeed"  # a rank per GPU
    [slurm_log] = (tmp_path / "logs" / "slurm").rglob(f"{train}.log")
    assert re.search(r"deepspeed --num_gpus 2 --master_port \d+ --module tuna.cli.train", slurm_log.read_text())
