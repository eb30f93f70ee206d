"""The config's one owner (tuna.config): validation with one-line errors, defaults, the plan."""

import copy
from pathlib import Path

import pytest
import yaml
from tuna_cli import tuna_process

from tuna import config as tuna_config
from tuna.config import settings
from tuna.errors import TunaError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
OBJECTIVES = yaml.safe_load((ROOT / "config" / "objectives.yaml").read_text())


def load(config: dict):
    return tuna_config.load(config, source="config")


@pytest.mark.parametrize("config", [DEFAULT, PAPER, OBJECTIVES], ids=["default", "paper", "objectives"])
def test_shipped_configs_are_valid(config):
    load(config)


def test_defaults_are_the_papers_and_fill_what_a_config_leaves_out():
    plan = load({"models": {"alpaca": {"import": "x.gguf"}}})
    config = plan.config
    assert config.teacher.n == 4 and config.sampling.n == 4 and config.sampling.tau == 0.8
    assert config.scoring.beta == 1.3 and config.scoring.truncated == "score"
    train = settings.Train()
    assert (train.margin, train.mle_weight, train.lr, train.batch_size, train.warmup_steps) == (0.1, 1.0, 1e-5, 128, 2)
    assert config.data.ctx_rank_limit == 13000 and config.human.usd_per_comparison == 0.25
    assert plan.eval_models == ["alpaca"]  # every declared model unless evaluation.models says otherwise


def broken(path: str, value, base=DEFAULT):
    config = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


@pytest.mark.parametrize("path, value, message", [
    ("scoring.beta", "high", "config: scoring.beta: Input should be a valid number"),
    ("teacher.n", 0, "config: teacher.n: Input should be greater than or equal to 1"),
    ("teacher.provider.kind", "vllmx", "config: teacher.provider.kind: Input should be 'openai', 'llamacpp', 'hf' or 'vllm'"),
    ("train.rank_reduction", "mean", "config: train.rank_reduction: Input should be 'sum' or 'gap_mean'"),
    ("data.shard", 3, "config: data.shard: unknown key"),
    ("prms.prm.backbone", KeyError, "config: prms.prm.backbone: required key missing"),
    ("models.tuna_p.init", "alpca", "config: models.tuna_p.init: unknown model 'alpca' (declared: alpaca, tuna, tuna_c, tuna_p)"),
    ("models.tuna.data", "ctx_rank:tuna_x", "config: models.tuna.data: unknown model 'tuna_x'"),
    ("models.tuna.data", "ctx_rank", "config: models.tuna.data.0.set: 'ctx_rank' needs model name (ctx_rank:M)"),
    ("models.tuna.data", "teacher_rank", "config: models.tuna.data.0.set: unknown data set 'teacher_rank'"),
    ("models.tuna.data", [], "config: models.tuna.data: an empty mixture"),
    ("models.tuna.data", {"set": "prob_rank", "first": 10, "last": 3}, "config: models.tuna.data.0: at most one of"),
    ("models.tuna.data", {"set": "prob_rank", "last": 17}, "config: models.tuna.data: slice past the end: "
                                                           "prob_rank[last 17] of a set of 16 records"),
    ("models.tuna.data", {"set": "ctx_rank:alpaca", "beta": 1.0}, "config: models.tuna.data.0: beta applies to"),
    ("models.tuna.data", ["instructions", "prob_rank"], "config: models.tuna.data: a mixture holds ranked sets or"),
    ("models.tuna.data", "instructions", "config: models.tuna.data: instructions is supervised data: set "
                                         "models.tuna.train.objective: mle"),
    ("models.tuna.train", {"lr": -1}, "config: models.tuna.train.lr: Input should be greater than 0"),
    ("models.tuna.train", {"objective": "ppo"}, "config: models.tuna.train.objective: Input should be 'rank', "
                                                "'rrhf', 'listmle', 'dpo', 'simpo' or 'mle'"),
    ("models.tuna", {"init": "tuna_p", "data": "instructions", "train": {"objective": "dpo"}},
     "config: models.tuna.data: instructions is supervised data: set models.tuna.train.objective: mle"),
    ("models.tuna.train", {"objective": "dpo", "simpo_gamma": 0.5}, "config: models.tuna.train.simpo_gamma: a key "
                                                                   "of objective simpo, but the objective is dpo"),
    ("train.dpo_beta", 0.5, "config: train.dpo_beta: a key of objective dpo, but the objective is rank"),
    ("models.tuna.train", {"objective": "listmle", "margin": 0.2}, "config: models.tuna.train.margin: a key of "
                                                                  "objective rank, but the objective is listmle"),
    ("models.tuna.train", {"num_gpus": 2}, "config: models.tuna.train: num_gpus > 1 trains with DeepSpeed"),
    ("train.max_examples", 0, "config: train.max_examples: Input should be greater than or equal to 1"),
    ("models.report", {"import": "x.gguf"}, "config: models.report: 'report' is a results directory"),
    ("models.alpaca.init", "tuna", "config: models.alpaca: declare exactly one of"),
    ("evaluation.models.1", "tuna2", "config: evaluation.models.1: unknown model 'tuna2'"),
    ("evaluation.baseline", "llama", "config: evaluation.baseline: unknown model 'llama'"),
    ("judge.provider.model", "gpt5ish", "config: judge.provider.model: unknown model 'gpt5ish'"),
    ("models.tuna_c.data", {"set": "prob_rank", "of": "released_prob"}, "config: models.tuna_c.data.0: of applies "
                                                                        "to alpaca_mul only"),
    ("models.other", {"alias": "tuna_x"}, "config: models.other.alias: unknown model 'tuna_x'"),
])
def test_bad_config_names_the_key(path, value, message):
    with pytest.raises(TunaError) as err:
        load(broken(path, value))
    assert err.value.message.startswith(message), err.value.message
    assert "\n" not in err.value.message


def test_an_alias_is_another_name_of_a_model_made_once():
    config = copy.deepcopy(DEFAULT)
    config["models"]["tuna_again"] = {"alias": "tuna"}
    config["evaluation"]["models"] = ["alpaca", "tuna_again", "tuna"]
    plan = load(config)
    assert plan.aliases == {"tuna_again": "tuna"} and "tuna_again" not in plan.models
    assert plan.eval_models == ["alpaca", "tuna"] and plan.canonical("tuna_again") == "tuna"
    config["models"]["tuna_c"]["init"] = "tuna_again"
    with pytest.raises(TunaError, match="models.tuna_c.init: 'tuna_again' is an alias of 'tuna': name 'tuna' here"):
        load(config)


def test_model_cycle_is_rejected():
    with pytest.raises(TunaError, match="cycle tuna_p -> tuna -> tuna_p"):
        load(broken("models.tuna_p.init", "tuna"))


def test_quant_source_needs_a_gguf_import():
    config = broken("judge.provider", {"kind": "llamacpp", "model": "alpaca", "quant": "source"}, PAPER)
    with pytest.raises(TunaError, match="judge.provider.quant: 'source' needs model 'alpaca' imported from a .gguf"):
        load(config)


def test_a_stage_that_is_needed_needs_its_provider():
    config = broken("teacher", KeyError)
    with pytest.raises(TunaError, match=r"^config: teacher.provider: required by models.tuna_p.data \(prob_rank\)"):
        load(config)
    del config["models"]["tuna_p"], config["models"]["tuna"]
    config["evaluation"]["models"] = config["evaluation"]["held_out"]["models"] = ["alpaca", "tuna_c"]
    load(config)  # no model learns from teacher responses: no teacher needed


def test_vicuna_without_a_judge_is_one_line():
    config = broken("judge", KeyError)
    del config["evaluation"]["vicuna"]["judge"]
    config["models"] = {"alpaca": config["models"]["alpaca"], "copy": {"import": "copy.gguf"}}
    config["evaluation"].update(models=["alpaca", "copy"], held_out={"models": ["alpaca"]})
    with pytest.raises(TunaError, match=r"^config: judge.provider: Vicuna QA is evaluated: set judge.provider or"):
        load(config)


def test_model_order_and_templates():
    paper = load(PAPER)
    assert load(DEFAULT).order() == ["alpaca", "tuna_p", "tuna_c", "tuna"]
    assert paper.template("tuna") == "alpaca"  # inherited through tuna_p from alpaca
    assert paper.teacher().template == "alpaca"  # raw completions API


def test_provider_resolution():
    default, paper = load(DEFAULT), load(PAPER)
    assert default.teacher().location == "checkpoints/alpaca.source.gguf"
    assert default.sampler("tuna_p").location == "checkpoints/tuna_p.q8_0.gguf"
    assert default.resolve(settings.ProviderSpec(kind="hf", model="tuna")).location == "checkpoints/tuna"
    assert paper.judge().location is None and paper.judge().inputs == []
    assert paper.judge().args() == (
        "--provider openai --model gpt-4 --template chat --max-failed 0.02 --api chat --api-key-env OPENAI_API_KEY "
        "--constrain-with auto --price-prompt 0.03 --price-completion 0.06")
    local = default.resolve(settings.ProviderSpec(kind="openai", model="smollm2", api="chat", constrain_with="grammar",
                                              base_url="http://127.0.0.1:8080/v1"))
    assert local.args() == ("--provider openai --model smollm2 --template chat --max-failed 0.02 "
                            "--base-url http://127.0.0.1:8080/v1 "
                            "--api chat --api-key-env OPENAI_API_KEY --constrain-with grammar")
    engine = default.resolve(settings.ProviderSpec(kind="vllm", n_ctx=1024, kv_cache_gib=2), "tuna_p")
    assert engine.location == "checkpoints/tuna_p" and engine.args() == (
        "--provider vllm --model checkpoints/tuna_p --template chat --max-failed 0.0 --n-ctx 1024 --dtype auto "
        "--tensor-parallel-size 1 --gpu-memory-utilization 0.9 --kv-cache-gib 2.0")
    assert default.resolve(settings.ProviderSpec(kind="hf", batch_size=8), "tuna").args().endswith("--batch-size 8")


def test_every_path_is_under_the_experiments_root():
    plan = load({**DEFAULT, "root": "runs/smoke"})
    L = plan.layout
    assert L.checkpoint("tuna") == "runs/smoke/checkpoints/tuna"
    assert plan.train_input("tuna") == "runs/smoke/results/ctx_rank/tuna_p/ranked.jsonl"
    assert plan.sampler("tuna_p").location == "runs/smoke/checkpoints/tuna_p.q8_0.gguf"
    assert L.download("x") == "resources/downloads/x"  # checksummed downloads are shared


def test_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  limit: [1, 2\nmodels: {}\n")
    with pytest.raises(TunaError) as err:
        tuna_config.load_file(bad)
    assert err.value.message.startswith(f"{bad}:3:7: not valid YAML")
    assert "\n" not in err.value.message


def test_check_config_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(broken("sampling.tau", 2)))
    result = tuna_process("check-config", bad, code=1)
    assert result.stderr.strip() == f"Error: {bad}: sampling.tau: Input should be less than or equal to 1"
    ok = tuna_process("check-config", ROOT / "config" / "config.yaml")
    assert "ok (4 models" in ok.stdout


def test_config_readme_key_tables_are_generated_from_the_settings():
    from tuna.config.docs import with_tables

    readme = (ROOT / "config" / "README.md").read_text()
    assert readme == with_tables(readme), "config/README.md is stale: run python scripts/config_docs.py"
    assert "| `beta` | `1.3` |" in readme and "| `usd_per_comparison` | `0.25` |" in readme
