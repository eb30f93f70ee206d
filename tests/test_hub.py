"""Models, tokenizers and data files by Hub id (`hf:`), offline: a Hub cache laid out as
huggingface_hub writes it (tests/hub_cache.py) from a tiny llama, HF_HUB_OFFLINE=1, and HF_TOKEN
set to a marker that must appear in no file tuna writes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import hub_cache
import pytest
import yaml
from huggingface_hub import constants
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna_process
from workflow_run import ROOT, planned_jobs, snakemake, write_config

from tuna import config as tuna_config
from tuna import hub
from tuna.config import resources
from tuna.errors import TunaError
from tuna.llm.tokenizer import load_tokenizer

TOKEN = "hf_tuna_test_marker_token_0123456789"
LIMA_LINES = [{"conversations": ["Name a colour.", "Red."]}, {"conversations": ["Count to three.", "One two three."]}]


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    """HF_HOME with a Hub cache holding tuna-test/tiny-llama (main: seed 0) and a LIMA-like dataset
    file, offline, HF_TOKEN set; for subprocesses through the environment and for this process
    through huggingface_hub's constants (read when it was imported)."""
    home = tmp_path / "hf"
    cache = home / "hub"
    models = tmp_path / "models"
    first = hub_cache.add_directory(cache, "tuna-test/tiny-llama", save_tiny_checkpoint(models / "seed0"))
    lima = tmp_path / "train.jsonl"
    lima.write_text("".join(json.dumps(line) + "\n" for line in LIMA_LINES))
    data = hub_cache.add_snapshot(cache, "tuna-test/lima", {"train.jsonl": lima}, repo_type="dataset")
    for name, value in {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "HF_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.pin.cache_clear()
    hub._hub_reachable.cache_clear()
    yield SimpleNamespace(home=home, cache=cache, models=models, first=first, data=data)
    hub.pin.cache_clear()
    hub._hub_reachable.cache_clear()


def assert_no_token_in(*roots: Path) -> None:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_locations_use_huggingface_hubs_uri_syntax():
    uri = hub.parse("hf:meta-llama/Llama-2-7b-hf")
    assert (uri.type, uri.id, uri.revision, uri.path_in_repo) == ("model", "meta-llama/Llama-2-7b-hf", None, "")
    uri = hub.parse("hf:datasets/GAIR/lima@v1/train.jsonl")
    assert (uri.type, uri.id, uri.revision, uri.path_in_repo) == ("dataset", "GAIR/lima", "v1", "train.jsonl")
    assert hub.parse("hf://TheBloke/Llama-2-7B-GGUF@refs/pr/3/llama-2-7b.Q8_0.gguf").revision == "refs/pr/3"
    with pytest.raises(TunaError, match=r"^hf:gpt2: Repository id must be 'namespace/name'.*\(expected hf:"):
        hub.parse("hf:gpt2")
    with pytest.raises(TunaError, match="a bucket, not a model, dataset or space repository"):
        hub.parse("hf:buckets/org/files")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["evaluation"]["held_out"]["nll_data"] = {"lima": "hf:datasets/lima"}
    with pytest.raises(TunaError, match=r"evaluation.held_out.nll_data.lima: hf:datasets/lima: Repository id"):
        tuna_config.load(config)


def test_planning_pins_a_branch_to_the_cached_commit_and_follows_it_when_it_moves(hub_home):
    assert hub.pin("hf:tuna-test/tiny-llama") == f"hf:models/tuna-test/tiny-llama@{hub_home.first}"
    assert hub.pin("hf:datasets/tuna-test/lima/train.jsonl") == f"hf:datasets/tuna-test/lima@{hub_home.data}/train.jsonl"
    second = hub_cache.add_directory(hub_home.cache, "tuna-test/tiny-llama", save_tiny_checkpoint(hub_home.models / "s1", seed=1))
    assert second != hub_home.first
    hub.pin.cache_clear()
    assert hub.pin("hf:tuna-test/tiny-llama") == f"hf:models/tuna-test/tiny-llama@{second}"
    assert hub.pin(f"hf:tuna-test/tiny-llama@{hub_home.first}") == f"hf:tuna-test/tiny-llama@{hub_home.first}"
    assert hub.pin("hf:tuna-test/absent") == "hf:tuna-test/absent"  # unknown offline: the job says why
    assert hub.pin("/models/llama-7b") == "/models/llama-7b"


def test_an_uncached_repository_offline_is_one_line_naming_it(hub_home):
    with pytest.raises(TunaError) as error:
        hub.fetch("hf:tuna-test/absent")
    message = error.value.message
    assert message.startswith(f"hf:tuna-test/absent: not in the Hub cache ({hub_home.cache}) and HF_HUB_OFFLINE is set")
    assert "\n" not in message and "hf download tuna-test/absent" in message
    with pytest.raises(TunaError, match=r"^hf:datasets/tuna-test/lima/dev.jsonl: not in the Hub cache"):
        hub.fetch("hf:datasets/tuna-test/lima/dev.jsonl")


def test_the_tokenizer_of_a_hub_model_is_named_by_its_commit(hub_home):
    tokenizer = load_tokenizer("hf:tuna-test/tiny-llama")
    assert tokenizer.name == f"hf:models/tuna-test/tiny-llama@{hub_home.first}"
    local = load_tokenizer(hub_home.models / "seed0")
    assert tokenizer.encode("Name three colors.") == local.encode("Name three colors.")


def test_cluster_jobs_size_a_cached_hub_model_and_take_an_uncached_one_as_7b(hub_home):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["models"].update(hub={"import": "hf:tuna-test/tiny-llama"}, gone={"import": "hf:tuna-test/absent"},
                            local={"import": str(hub_home.models / "seed0")})
    jobs = resources.ClusterJobs(tuna_config.load(config))
    assert jobs.parameters("hub") == jobs.parameters("local") < 1_000_000
    assert jobs.parameters("gone") == resources.UNKNOWN_PARAMETERS


def test_import_model_fetches_offline_records_the_commit_and_writes_no_token(hub_home, tmp_path):
    out = tmp_path / "checkpoints" / "base"
    result = tuna_process("import-model", "hf:tuna-test/tiny-llama", "-o", out)
    assert result.stdout.strip() == f"{out}: imported from hf:models/tuna-test/tiny-llama@{hub_home.first}"
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["params"] == {"source": "hf:tuna-test/tiny-llama"}
    assert stamp["hub"] == {"repo": "tuna-test/tiny-llama", "repo_type": "model", "revision": "main",
                            "commit": hub_home.first}
    assert (out / "model.safetensors").read_bytes() == (hub_home.models / "seed0" / "model.safetensors").read_bytes()
    assert not (out / "model.safetensors").is_symlink()  # a file of the checkpoint, not a link into the cache

    missing = tuna_process("import-model", "hf:tuna-test/absent", "-o", tmp_path / "absent", code=1)
    assert not (tmp_path / "absent").exists()
    assert missing.stderr.count("\n") == 1
    assert missing.stderr.startswith("Error: hf:tuna-test/absent: not in the Hub cache (")
    assert_no_token_in(tmp_path)


@pytest.mark.slow
def test_the_workflow_imports_at_the_planned_commit_and_redoes_what_a_moved_branch_changes(hub_home, tmp_path):
    workdir = tmp_path / "run"
    config = {"data": {"source": "demo", "limit": 4, "held_out": 0},
              "models": {"base": {"import": "hf:tuna-test/tiny-llama"}},
              "evaluation": {"models": ["base"], "baseline": "base",
                             "held_out": {"nll_data": {"lima": "hf:datasets/tuna-test/lima/train.jsonl"}}}}
    workdir.mkdir()
    write_config(workdir, config)
    target = "results/base/nll_lima.json"
    assert planned_jobs(workdir, target) == {"import_model_hf": 1, "eval_nll_data": 1}
    snakemake(workdir, target)
    stamp = json.loads((workdir / "checkpoints" / "base" / "provenance.json").read_text())
    assert stamp["params"]["source"] == f"hf:models/tuna-test/tiny-llama@{hub_home.first}"
    assert stamp["hub"]["commit"] == hub_home.first
    nll = json.loads((workdir / target).read_text())
    assert nll["examples"] == len(LIMA_LINES) and nll["nll"] > 0
    assert planned_jobs(workdir, target) == {}

    second = hub_cache.add_directory(hub_home.cache, "tuna-test/tiny-llama", save_tiny_checkpoint(hub_home.models / "s1", seed=1))
    assert planned_jobs(workdir, target) == {"import_model_hf": 1, "eval_nll_data": 1}  # the source param moved
    snakemake(workdir, target)
    assert json.loads((workdir / "checkpoints" / "base" / "provenance.json").read_text())["hub"]["commit"] == second
    assert json.loads((workdir / target).read_text())["nll"] != nll["nll"]  # another model's NLL
    assert_no_token_in(workdir, hub_home.home)
