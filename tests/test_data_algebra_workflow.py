"""A real Snakemake run training one model of each kind of data spec on a tiny model:
a slice, a per-model beta, supervised MLE, Alpaca-Mul, the authors' released data and a
mixture; the training logs count exactly the examples each spec must hold. Two of them
differ only in beta: their NLL of a LIMA-format file is Table 5."""

import json
import re

import pytest
from tiny_llama import save_tiny_checkpoint
from workflow_run import planned_jobs, snakemake, write_config

from tuna import config as tuna_config
from tuna.evaluate import report_held_out
from tuna.records import Ranking, read_jsonl

pytestmark = pytest.mark.slow

MODELS = {
    "p_first": {"set": "prob_rank", "first": 4},
    "p_beta": {"set": "prob_rank", "beta": 0.5},
    "sft": "instructions",
    "mul": "alpaca_mul",
    "from_released": "released_prob",
    "from_released_beta0": {"set": "released_prob", "beta": 0.0},  # Eq. 3 without the length penalty
    "mix": [{"set": "prob_rank", "last": 3}, "released_prob"],
}


def released_file(path):
    """Three records in the layout of the authors' released probabilistic-ranking file."""
    records = [{"orig": {"instruction": f"Say {word}.", "input": "", "output": word.title() + "."},
                "text": [f"{word} one", f"{word} two", f"{word} three", f"{word} four"],
                "logprob": [-4.0, -2.0, -9.0, -1.0], "length": [4, 2, 6, 1],
                "avg_token_prob": [-1.0, -1.0, -1.5, -1.0]} for word in ("red", "green", "blue")]
    path.write_text(json.dumps(records, indent=4))
    return path


def examples_read(workdir, model) -> int:
    log = (workdir / f"logs/train/{model}.log").read_text()
    return int(re.search(r"\d+ of (\d+) examples kept", log).group(1))


def lima_file(path):
    """Two LIMA train.jsonl lines (the first turn pair is scored)."""
    path.write_text("".join(json.dumps({"conversations": pair, "source": "test"}) + "\n"
                            for pair in (["Name a color.", "Red."], ["Say hello.", "Hello there!", "Again?", "No."])))
    return path


def test_every_kind_of_data_spec_trains(tmp_path, monkeypatch):
    source = save_tiny_checkpoint(tmp_path / "tiny")
    config = {
        "data": {"source": "demo", "limit": 8, "shards": 1},
        "models": {"alpaca": {"import": str(source), "template": "chat"},
                   **{name: {"init": "alpaca", "data": data,
                             "train": {"objective": "mle"} if name in ("sft", "mul") else {}}
                      for name, data in MODELS.items()}},
        "train": {"batch_size": 1, "max_length": 64, "warmup_steps": 0, "lr": 1e-4},
        "teacher": {"provider": {"kind": "hf", "model": "alpaca"}, "n": 2, "max_tokens": 6},
        "released": {"prob": str(released_file(tmp_path / "released.json"))},
        "evaluation": {"benchmarks": ["vicuna"], "models": ["alpaca"], "baseline": "alpaca",
                       "held_out": {"models": ["from_released", "from_released_beta0"],
                                    "nll_data": {"lima": str(lima_file(tmp_path / "lima.jsonl"))}}},
    }
    write_config(tmp_path, config)
    targets = [f"checkpoints/{name}" for name in MODELS] + ["held_out"]
    jobs = planned_jobs(tmp_path, *targets)
    assert jobs["train"] == 7 and jobs["mix_data"] == 3  # the slice, Alpaca-Mul and the mixture are built
    assert jobs["score"] == jobs["score_beta"] == jobs["import_released_prob"] == jobs["teacher"] == 1
    assert jobs["import_released_prob_beta"] == 1 and jobs["eval_nll_data"] == 2
    snakemake(tmp_path, *targets)

    ranked = read_jsonl(tmp_path / "results/prob_rank/ranked.jsonl", Ranking)
    assert examples_read(tmp_path, "p_first") == 4
    assert examples_read(tmp_path, "p_beta") == examples_read(tmp_path, "sft") == 8
    assert examples_read(tmp_path, "mul") == 8 + sum(len(r.candidates) for r in ranked)
    assert examples_read(tmp_path, "from_released") == 3
    assert examples_read(tmp_path, "mix") == 3 + 3
    mixed = read_jsonl(tmp_path / "results/train_data/mix.jsonl", Ranking)
    assert {r.id for r in ranked[-3:]} < {r.id for r in mixed}  # the *last* three of the ranking
    rescored = read_jsonl(tmp_path / "results/prob_rank/ranked_beta0.5.jsonl", Ranking)
    assert [r.id for r in rescored] == [r.id for r in ranked]
    assert any(c.score != d.score for r, s in zip(ranked, rescored, strict=True) for c, d in zip(r.candidates, s.candidates, strict=True))
    released = read_jsonl(tmp_path / "results/released/prob_ranked.jsonl", Ranking)
    # Eq. 3 at beta 1.3: -4/4^1.3 = -0.66 > -2/2^1.3 = -0.81 > -9/6^1.3 = -0.88 > -1/1
    assert [c.text for c in released[0].candidates] == ["red one", "red two", "red three", "red four"]
    # at beta 0 the scores are the log-probs: -1 > -2 > -4 > -9
    assert [c.text for c in read_jsonl(tmp_path / "results/released/prob_ranked_beta0.0.jsonl", Ranking)[0]
            .candidates] == ["red four", "red two", "red one", "red three"]
    assert planned_jobs(tmp_path, *targets) == {}

    # Table 5 from the NLL files the workflow wrote, with the report spec the plan writes
    spec = tuna_config.load(config).report_spec()
    assert spec.beta_sweeps == {"alpaca+released_prob": {"from_released": 1.3, "from_released_beta0": 0.0}}
    nll = {m: json.loads((tmp_path / f"results/{m}/nll_lima.json").read_text())
           for m in spec.beta_sweeps["alpaca+released_prob"]}
    assert {(r["examples"], r["nll_data"]) for r in nll.values()} == {(2, "lima")}
    monkeypatch.chdir(tmp_path)  # the spec's paths are the rules' (relative to the working directory)
    table = report_held_out.table5(spec).reset_index()
    assert table["model"].tolist() == ["from_released_beta0", "from_released"]
    assert table["nll"].tolist() == [nll["from_released_beta0"]["nll"], nll["from_released"]["nll"]]
    assert table.loc[table["best"] == "*", "nll"].tolist() == [min(r["nll"] for r in nll.values())]
