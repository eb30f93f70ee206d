"""The summary a finished run prints (Snakefile `onsuccess`), from the files it made."""

from __future__ import annotations

import os

from workflow_run import ROOT

from tuna import config as tuna_config
from tuna.records import write_json
from tuna.run_summary import summary
from tuna.train.validation import summary as validation_summary


def test_summary_reads_what_exists_and_nothing_else(tmp_path, monkeypatch):
    plan = tuna_config.load_file(ROOT / "config" / "config.yaml")
    monkeypatch.chdir(tmp_path)
    assert summary(plan) == ""  # nothing built yet
    os.makedirs("results/tuna")
    open(plan.layout.result("tuna", "vicuna"), "w").close()
    assert summary(plan) == ""  # an unfinished file is no result (and never fails the run)

    before = {"pair_accuracy": 0.5, "nll": 2.5, "per_example_accuracy": [0.5, 0.5, 0.5, 0.5]}
    after = {"pair_accuracy": 0.75, "nll": 2.25, "per_example_accuracy": [0.5, 1.0, 0.5, 1.0]}
    os.makedirs("checkpoints/tuna_p")
    write_json(plan.layout.validation("tuna_p"), validation_summary(before, after, 4, "4 of 16 examples kept"))
    write_json(plan.layout.result("tuna", "vicuna"), {"win_rate": 30.0, "lose_rate": 20.0, "tie_rate": 50.0,
                                                      "questions": 10, "unparsed": 0})
    text = summary(plan)
    assert "tuna_p: on 4 held-out examples, pair accuracy 0.500 -> 0.750 (change +0.250 ± 0.144), NLL 2.5000 -> 2.2500" \
        in text
    assert "tuna:" not in text.replace("tuna_p:", "")  # tuna is not trained yet
    assert "Vicuna QA, tuna vs alpaca: win 30.0% / lose 20.0% / tie 50.0% (10 questions)" in text
    assert "Report:" not in text
    os.makedirs("results/report")
    open("results/report/table1.md", "w").close()
    assert summary(plan).endswith("Report: results/report/ (table1.md first; `snakemake --report report.html` for "
                                  "the browsable one)")
