import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from tuna import workflow as tw
from tuna.errors import TunaError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


@pytest.mark.parametrize("config", [DEFAULT, PAPER], ids=["default", "paper"])
def test_shipped_configs_are_valid(config):
    tw.validate_config(config)


def test_paper_config_carries_the_papers_setup():
    assert PAPER["teacher"]["n"] == 4 and PAPER["sampling"]["n"] == 4
    assert PAPER["scoring"]["beta"] == 1.3
    assert PAPER["train"]["margin"] == 0.1 and PAPER["train"]["mle_weight"] == 1.0
    assert PAPER["sampling"]["tau"] == 0.8
    assert PAPER["data"]["ctx_rank_limit"] == 13000 and PAPER["train"]["batch_size"] == 128
    assert PAPER["models"]["tuna_p"]["train"]["lr"] == 1e-5 and PAPER["models"]["tuna"]["train"]["lr"] == 1e-6
    assert set(PAPER["evaluation"]["benchmarks"]) == {"vicuna", "superni", "lmentry"}


def broken(path: str, value):
    config = copy.deepcopy(DEFAULT)
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


@pytest.mark.parametrize("path, value, message", [
    ("scoring.beta", "high", "config: scoring.beta: 'high' is not of type 'number'"),
    ("scoring.beta", KeyError, "config: scoring: 'beta' is a required property"),
    ("teacher.n", 0, "config: teacher.n: 0 is less than the minimum of 1"),
    ("teacher.provider.kind", "vllm", "config: teacher.provider.kind: 'vllm' is not one of"),
    ("train.rank_reduction", "mean", "config: train.rank_reduction: 'mean' is not one of"),
    ("data.shard", 3, "config: data: unknown key ('shard' was unexpected)"),
    ("models.tuna_p.init", "alpca", "config: models.tuna_p.init: unknown model 'alpca' (declared: alpaca, tuna, tuna_c, tuna_p)"),
    ("models.tuna.data", "ctx_rank:tuna_x", "config: models.tuna.data: unknown model 'tuna_x'"),
    ("evaluation.models.1", "tuna2", "config: evaluation.models.1: unknown model 'tuna2'"),
    ("evaluation.baseline", "llama", "config: evaluation.baseline: unknown model 'llama'"),
    ("judge.provider.model", "gpt5ish", "config: judge.provider.model: unknown model 'gpt5ish'"),
    ("models.alpaca.init", "tuna", "config: models.alpaca"),
])
def test_bad_config_names_the_key(path, value, message):
    with pytest.raises(TunaError) as err:
        tw.validate_config(broken(path, value))
    assert err.value.message.startswith(message)
    assert "\n" not in err.value.message


def test_model_cycle_is_rejected():
    config = broken("models.tuna_p.init", "tuna")
    with pytest.raises(TunaError, match="cycle tuna_p -> tuna -> tuna_p"):
        tw.validate_config(config)


def test_quant_source_needs_a_gguf_import():
    config = copy.deepcopy(PAPER)
    config["judge"]["provider"] = {"kind": "llamacpp", "model": "alpaca", "quant": "source"}
    with pytest.raises(TunaError, match="judge.provider.quant: 'source' needs model 'alpaca' imported from a .gguf"):
        tw.validate_config(config)


def test_model_order_and_templates():
    assert tw.model_order(DEFAULT["models"]) == ["alpaca", "tuna_p", "tuna_c", "tuna"]
    assert tw.model_template(PAPER, "tuna") == "alpaca"  # inherited through tuna_p from alpaca
    assert tw.template_of(PAPER, PAPER["teacher"]["provider"]) == "alpaca"  # raw completions API


def test_provider_resolution():
    spec = DEFAULT["teacher"]["provider"]
    assert tw.provider_location(DEFAULT, spec) == "checkpoints/alpaca.source.gguf"
    sampler = tw.with_model(DEFAULT["sampling"]["provider"], "tuna_p")
    assert tw.provider_location(DEFAULT, sampler) == "checkpoints/tuna_p.q8_0.gguf"
    assert tw.provider_location(DEFAULT, {"kind": "hf", "model": "tuna"}) == "checkpoints/tuna"
    assert tw.provider_location(PAPER, PAPER["judge"]["provider"]) is None
    assert tw.provider_args(PAPER, PAPER["judge"]["provider"]) == (
        "--provider openai --model gpt-4 --template chat --api chat")
    local_judge = {"kind": "openai", "model": "smollm2", "api": "chat", "constrain_with": "grammar"}
    assert tw.provider_args(PAPER, local_judge) == (
        "--provider openai --model smollm2 --template chat --api chat --constrain-with grammar")


def test_check_config_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(broken("sampling.tau", 2)))
    result = subprocess.run(["tuna", "check-config", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {bad}: sampling.tau: 2 is greater than the maximum of 1"
    ok = subprocess.run(["tuna", "check-config", str(ROOT / "config" / "config.yaml")], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok (4 models" in ok.stdout
