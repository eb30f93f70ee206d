"""A real Snakemake run: preference data from elsewhere (UltraFeedback's layout with ties, HH-style pairs)
imported once and trained on, alone and sliced in a mixture; tuna's own rankings exported on request."""

import json
import re

import pytest
from json_files import write_json, write_jsonl
from test_preferences_import import HH, UF_ROWS, hh_pair, uf_completion, uf_row
from tiny_llama import save_tiny_checkpoint
from workflow_run import planned_jobs, snakemake, write_config

from tuna import config as tuna_config
from tuna.records import Ranking, answered, read_jsonl

pytestmark = pytest.mark.slow

UF = {"set": "preferences", "path": "uf.json", "format": "listwise",
      "fields": {"prompt": "instruction", "completions": "completions.*.response",
                 "scores": "completions.*.overall_score"}}
HH_PAIRS = {"set": "preferences", "path": "hh.jsonl", "format": "pairwise"}


# Each ranking holds 3 responses (main's trainer keeps the most common count; ragged counts come with issue 21).
UF_ROWS_3 = [UF_ROWS[0], uf_row("Count to three.", [uf_completion("one two three", 10), uf_completion("1 2", 4, "2"),
                                                     uf_completion("", 1, "1"), uf_completion("one, two, three", 8)]),
             UF_ROWS[2]]
HH_ROWS = [hh_pair("Hi?", "Hello!", "Go away."), hh_pair("Hi?", "Hello!", "What."),
           hh_pair("Help me.", "Sure.", "No."), hh_pair("Help me.", "Okay.", "No."), hh_pair("Help me.", "Sure.", "Okay.")]


def examples(workdir, model) -> tuple[int, int]:
    """(kept, read) of a model's training log."""
    kept, read = re.search(r"(\d+) of (\d+) examples kept", (workdir / f"logs/train/{model}.log").read_text()).groups()
    return int(kept), int(read)


def test_preference_data_in_and_out(tmp_path):
    from datasets import load_from_disk

    write_json(tmp_path / "uf.json", UF_ROWS_3, indent=2)
    write_jsonl(tmp_path / "hh.jsonl", HH_ROWS)
    source = save_tiny_checkpoint(tmp_path / "tiny")
    config = {
        "data": {"source": "demo", "limit": 3, "shards": 1},
        "models": {"alpaca": {"import": str(source), "template": "chat"},
                   "uf": {"init": "alpaca", "data": UF},
                   "mix": {"init": "alpaca", "data": [{**UF, "first": 1}, HH_PAIRS]}},
        "train": {"batch_size": 1, "max_length": 64, "warmup_steps": 0, "mle_weight": 0},
        "teacher": {"provider": {"kind": "hf", "model": "alpaca"}, "n": 3, "max_tokens": 6},
        "evaluation": {"benchmarks": ["vicuna"], "models": ["alpaca"], "baseline": "alpaca"},
    }
    write_config(tmp_path, config)
    plan = tuna_config.load(config)
    uf_name = plan.models["uf"].data[0].import_name
    targets = ["checkpoints/uf", "checkpoints/mix", "results/preferences/prob_rank/pairwise",
               f"results/preferences/preferences-{uf_name}/listwise"]
    jobs = planned_jobs(tmp_path, *targets)
    assert jobs["import_preferences"] == 2 and jobs["export_preferences"] == 2  # uf imported once for both models
    assert jobs["train"] == 2 and jobs["mix_data"] == 1 and jobs["teacher"] == 1
    snakemake(tmp_path, *targets)

    assert examples(tmp_path, "uf") == (2, 2)  # the rows with 2+ responses
    assert examples(tmp_path, "mix") == (3, 3)  # the first uf ranking; Hi?: Hello! > {Go away., What.}; Sure > Okay > No
    imported = (tmp_path / f"logs/import_preferences/{uf_name}.log").read_text()
    assert "2 rankings from 3 rows" in imported and "rankings with ties: 1" in imported

    pairwise = load_from_disk(str(tmp_path / "results/preferences/prob_rank/pairwise"))
    answered_counts = [sum(map(answered, r.candidates)) for r in read_jsonl(tmp_path / "results/prob_rank/ranked.jsonl",
                                                                              Ranking)]
    assert len(pairwise) == sum(k * (k - 1) // 2 for k in answered_counts)  # every pair of a ranking without ties
    assert pairwise[0]["prompt"][0]["role"] == "user"  # the teacher answered in its chat template
    stamp = json.loads((tmp_path / "results/preferences/prob_rank/pairwise/provenance.json").read_text())
    assert stamp["ranking"]["params"]["beta"] == 1.3  # prob_rank's own provenance
    listwise = load_from_disk(str(tmp_path / f"results/preferences/preferences-{uf_name}/listwise"))
    assert listwise[0]["ranks"] == [0, 1, 1] and listwise[0]["scores"] == [9.0, 7.5, 7.5]
    assert listwise[0]["prompt"] == [{"role": "user", "content": "Name a primary color."}]
    assert HH.format("Hi?") in (tmp_path / "results/train_data/mix.jsonl").read_text().replace("\\n", "\n")
    assert planned_jobs(tmp_path, *targets) == {}
