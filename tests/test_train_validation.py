"""Validation during training: the held-out examples of the data, before the first step and after the last."""

import json

import pytest
from test_train_trainer import ranked_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.evaluate.agreement import model_agreement
from tuna.evaluate.nll import response_nll

HELD_OUT = {"x8", "x9", "x10", "x11"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny llama trained hard on 8 ranked examples whose ranking (shortest first) the 4 held-out ones share."""
    tmp = tmp_path_factory.mktemp("validation")
    init = save_tiny_checkpoint(tmp / "init")
    data = ranked_file(tmp / "ranked.jsonl", 12)
    held_out = tmp / "held_out.jsonl"
    held_out.write_text("".join(json.dumps({"id": i, "instruction": "?"}) + "\n" for i in sorted(HELD_OUT)))
    out = tmp / "out"
    result = tuna("train", "--init", init, "--data", data, "--held-out", held_out, "-o", out,
                  "--lr", "1e-2", "--epochs", "4", "--batch-size", "4", "--warmup-steps", "0")
    return init, data, out, result.output


def test_the_run_says_what_it_did_on_the_held_out_examples(trained):
    _, _, out, output = trained
    validation = json.loads((out / "validation.json").read_text())
    before, after, change = validation["before"], validation["after"], validation["change"]
    assert validation["examples"] == 4 and "4 of 12 examples kept" in validation["data"]
    assert after["pair_accuracy"] > before["pair_accuracy"] + 0.3  # the ranking generalises to unseen examples
    assert after["nll"] < before["nll"]
    assert change["pair_accuracy"] == pytest.approx(after["pair_accuracy"] - before["pair_accuracy"])
    assert change["nll"] == pytest.approx(after["nll"] - before["nll"])
    assert change["pair_accuracy_se"] >= 0
    assert json.loads((out / "provenance.json").read_text())["validation"] == validation
    assert "validation before training on 4 held-out examples" in output
    assert "validation after training on 4 held-out examples" in output


def test_validation_numbers_are_eval_agreement_and_eval_nll_of_the_checkpoints(trained):
    init, data, out, _ = trained
    validation = json.loads((out / "validation.json").read_text())
    for checkpoint, measured in ((init, validation["before"]), (out, validation["after"])):
        agreement = model_agreement(checkpoint, data, frozenset(HELD_OUT), "chat", 512)
        for key in ("pair_accuracy", "kendall_tau", "spearman", "mean_margin"):
            assert measured[key] == pytest.approx(agreement[key], abs=1e-5), key
        nll = response_nll(checkpoint, data, frozenset(HELD_OUT), "chat", 512)
        assert measured["nll"] == pytest.approx(nll["nll"], rel=1e-5) and measured["nll_tokens"] == nll["tokens"]


def test_validation_is_in_the_tensorboard_events_at_the_first_and_last_step(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, _, out, _ = trained
    validation = json.loads((out / "validation.json").read_text())
    events = EventAccumulator(str(out))
    events.Reload()
    assert {"validation/pair_accuracy", "validation/nll", "validation/kendall_tau"} <= set(events.Tags()["scalars"])
    points = events.Scalars("validation/pair_accuracy")
    assert [p.step for p in points] == [0, 8]
    assert [p.value for p in points] == pytest.approx([validation["before"]["pair_accuracy"],
                                                       validation["after"]["pair_accuracy"]])


def test_no_validation_without_held_out_examples_or_when_switched_off(tmp_path, trained):
    init, data, _, _ = trained
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text(json.dumps({"id": "x9", "instruction": "?"}) + "\n")
    for name, extra in (("none", []), ("off", ["--held-out", held_out, "--no-validate-held-out"])):
        out = tmp_path / name
        result = tuna("train", "--init", init, "--data", data, "-o", out, "--batch-size", "4",
                      *extra)
        assert not (out / "validation.json").exists() and "validation before" not in result.output
