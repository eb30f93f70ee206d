"""Real Snakemake runs: the DAG builds once and rebuilds exactly what changed."""

import json
import subprocess

import pytest
import yaml
from workflow_run import ROOT, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow

TARGETS = ("results/data/instructions.jsonl", "checkpoints/alpaca")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A workdir where the data and model-import stages have run once."""
    workdir = tmp_path_factory.mktemp("wf")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    source = workdir / "my_data.json"
    source.write_text(json.dumps([{"instruction": f"Count to {n}.", "input": "", "output": str(n)} for n in range(10)]))
    config["data"].update(source=str(source), limit=6, held_out=0)
    write_config(workdir, config)
    snakemake(workdir, *TARGETS)
    return workdir, config


def test_outputs_and_provenance(built):
    workdir, _ = built
    lines = (workdir / "results/data/instructions.jsonl").read_text().splitlines()
    assert len(lines) == 6
    stamp = json.loads((workdir / "results/data/instructions.jsonl.provenance.json").read_text())
    assert stamp["code"]["tuna"] and len(stamp["code"]["git_commit"]) == 40
    assert stamp["params"] == {"source": str(workdir / "my_data.json"), "limit": 6, "held_out": 0.0, "held_out_seed": 0}
    assert json.loads((workdir / "checkpoints/alpaca/provenance.json").read_text())["inputs"][0]["sha256"]
    assert (workdir / "checkpoints/alpaca.source.gguf").stat().st_size > 50_000_000
    assert (workdir / "logs/import_model_gguf/alpaca.log").exists()


def test_second_run_has_nothing_to_do(built):
    workdir, _ = built
    assert planned_jobs(workdir, *TARGETS) == {}


def test_changed_parameter_reruns_only_its_rule(built):
    workdir, config = built
    write_config(workdir, {**config, "data": {**config["data"], "limit": 5}})
    try:
        assert planned_jobs(workdir, *TARGETS) == {"prepare_data": 1}
    finally:
        write_config(workdir, config)
    assert planned_jobs(workdir, *TARGETS) == {}


def test_changed_upstream_input_reruns_its_consumers(built):
    workdir, _ = built
    source = workdir / "my_data.json"
    rows = json.loads(source.read_text())
    source.write_text(json.dumps(rows[::-1]))
    assert planned_jobs(workdir, *TARGETS) == {"prepare_data": 1}
    snakemake(workdir, *TARGETS)
    assert json.loads((workdir / "results/data/instructions.jsonl").read_text().splitlines()[0])["output"] == "9"


def test_bad_config_fails_before_any_job(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["scoring"] = {"beta": "high"}
    path = write_config(tmp_path, config)
    result = snakemake(tmp_path, "-n", check=False)
    assert result.returncode != 0
    assert f"{path}: scoring.beta: Input should be a valid number" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_a_configfile_stands_alone(tmp_path):
    """Its models replace the default's: a config with one model plans that model only."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["models"] = {"alpaca": config["models"]["alpaca"],
                        "sft": {"init": "alpaca", "data": "instructions", "train": {"objective": "mle"}}}
    config["evaluation"] = {"benchmarks": ["vicuna"], "models": ["alpaca", "sft"], "baseline": "alpaca",
                            "vicuna": {"questions": "demo", "style": "pairwise"}}
    config["data"]["held_out"] = 0
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path)
    assert jobs["train"] == 1 and "teacher" not in jobs and "sample" not in jobs
    assert jobs["judge_vicuna"] == 1  # sft vs alpaca


def test_two_experiments_never_share_artifacts(built):
    """The default's checkpoints are not the paper's, and the paper's are not the default's."""
    workdir, config = built
    paper = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "-n",
                            "runs/paper/checkpoints/tuna", "--configfile", str(ROOT / "config" / "paper.yaml")],
                           capture_output=True, text=True)
    text = paper.stdout + paper.stderr
    assert paper.returncode == 0, text
    assert "import_model_hf" in text and "runs/paper/checkpoints/alpaca" in text
    assert "rule import_model_gguf" not in text  # the default's checkpoints/alpaca is not touched
    (workdir / "runs/paper/checkpoints/alpaca").mkdir(parents=True)
    assert planned_jobs(workdir, *TARGETS) == {}  # and the default ignores the paper's root


def test_a_changed_model_source_is_reimported(built):
    from tuna.sources import resolve

    workdir, config = built
    moved = {**config, "models": {**config["models"], "alpaca": {"import": str(resolve(config["models"]["alpaca"]["import"])),
                                                                  "template": "chat"}}}
    write_config(workdir, moved)
    try:
        assert planned_jobs(workdir, "checkpoints/alpaca") == {"import_model_gguf": 1}
    finally:
        write_config(workdir, config)


def test_lint_is_clean_and_slurm_profile_plans(tmp_path):
    lint = subprocess.run(["snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert "Congratulations" in lint.stdout + lint.stderr
    plan = subprocess.run(["snakemake", "-n", "--profile", "profiles/slurm", "-d", str(tmp_path),
                           "--configfile", str(ROOT / "config" / "config.yaml")],
                          cwd=ROOT, capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr


def test_prm_model_plans_the_proxy_ranker_chain(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["models"]["tuna_c_prm"] = {"init": "alpaca", "data": [
        "ctx_rank:alpaca", {"set": "prm_rank:alpaca", "range": [8, 12]}]}  # the judged 8 + the PRM's ranks of the rest
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path, "checkpoints/tuna_c_prm")
    assert jobs["prm_train"] == jobs["prm_rank"] == jobs["ctx_rank"] == jobs["train"] == jobs["mix_data"] == 1
    assert jobs["sample"] == jobs["judge"] == config["data"]["shards"]
    dry = snakemake(tmp_path, "-n", "-p", "checkpoints/tuna_c_prm").stdout
    assert "tuna sample" in dry and "--first" not in dry.split("tuna sample", 1)[1].split("\n", 1)[0]
    assert "tuna judge" in dry and f"--first {config['data']['ctx_rank_limit']}" in dry.split("tuna judge", 1)[1].split("\n", 1)[0]
