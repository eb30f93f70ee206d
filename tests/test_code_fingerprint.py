"""The DAG knows its code: each rule's `code` param is the fingerprint of the tuna code its command
runs, so an edit re-runs exactly the jobs whose code changed (and what follows from them).

Every test edits a copy of the tree, never the project itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_run import ROOT

COMMANDS = ["eval-superni", "eval-prompts", "train", "score", "teacher", "sample", "judge", "report", "eval-agreement",
            "prm-rank"]


def copy_tree(tmp_path: Path) -> Path:
    """The project's code, workflow and configs in a scratch directory (no results, no venv)."""
    tree = tmp_path / "tree"
    for name in ("tuna", "workflow", "config", "profiles", "envs"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Snakefile", tree / "Snakefile")
    return tree


def fingerprints(tree: Path) -> dict[str, str]:
    """Each command's fingerprint, computed by the tuna package of `tree` (run from `tree`: for
    `python -c` the working directory comes first on sys.path)."""
    code = (f"import json; from tuna.code_fingerprint import fingerprint; "
            f"print(json.dumps({{c: fingerprint(c) for c in {COMMANDS!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree,
                            env={**os.environ, "PYTHONPATH": str(tree)})
    return json.loads(result.stdout)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}: update the test"
    path.write_text(text.replace(old, new, 1))


def changed(before: dict, after: dict) -> set[str]:
    return {command for command in before if before[command] != after[command]}


def test_a_docstring_or_comment_edit_changes_no_fingerprint(tmp_path):
    tree = copy_tree(tmp_path)
    before = fingerprints(tree)
    edit(tree / "tuna/train/loss.py", '"""The training loss', '"""Edited: the training loss')
    edit(tree / "tuna/evaluate/superni_scoring.py", "\n\ndef ", "\n\n# a new comment\ndef ")
    # A config field's docstring (its documentation and its option's help) and an option's help text.
    edit(tree / "tuna/config/settings.py", '"""Test instances per task."""', '"""Test instances of each task."""')
    edit(tree / "tuna/cli/options.py", 'help="Instruction records (jsonl).")', 'help="Instructions (jsonl).")')
    edit(tree / "tuna/cli/prob_rank.py", 'short_help="Rank teacher responses by Eq. 3."', 'short_help="Rank by Eq. 3."')
    assert fingerprints(tree) == before


def test_a_code_edit_changes_the_commands_that_run_it_and_no_other(tmp_path):
    tree = copy_tree(tmp_path)
    before = fingerprints(tree)
    scorer = tree / "tuna/evaluate/superni_scoring.py"
    scorer.write_text(scorer.read_text() + "\nUNUSED = 1\n")
    assert changed(before, after := fingerprints(tree)) == {"eval-superni"}
    edit(tree / "tuna/train/trainer.py", "\ndef train(", "\nUNUSED = 1\n\n\ndef train(")
    assert changed(after, fingerprints(tree)) == {"train"}


def test_the_loss_is_not_the_code_of_the_stages_that_make_the_data(tmp_path):
    """tuna.stages (teacher, sample, judge) reaches no training module, not even by a function-level import."""
    tree = copy_tree(tmp_path)
    before = fingerprints(tree)
    edit(tree / "tuna/train/loss.py", "class TunaLoss", "UNUSED = 1\n\n\nclass TunaLoss")
    touched = changed(before, fingerprints(tree))
    assert {"train", "prm-rank", "eval-agreement"} <= touched
    assert not touched & {"teacher", "score", "sample", "judge", "eval-superni", "eval-prompts", "report"}


PROBE = '''
import click

from tuna import mixture
from tuna.evaluate import metrics


def _helper():
    return 1


@click.command("probe-a")
def probe_a():
    _helper()
    mixture


@click.command("probe-b")
def probe_b():
    from tuna import prompts

    metrics.aggregate([])
'''


def test_a_command_counts_its_own_helpers_and_imports_not_its_modules_others(tmp_path):
    tree = copy_tree(tmp_path)
    probe = tree / "tuna/cli/probe.py"
    probe.write_text(PROBE)

    def probes():
        code = ("import json; from tuna.code_fingerprint import fingerprint, modules_of; "
                "print(json.dumps({c: [fingerprint(c), modules_of(c)] for c in ('probe-a', 'probe-b')}))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree,
                             env={**os.environ, "PYTHONPATH": str(tree)}).stdout
        return json.loads(out)

    before = probes()
    assert "tuna.mixture" in before["probe-a"][1] and "tuna.mixture" not in before["probe-b"][1]
    assert {"tuna.prompts", "tuna.evaluate.metrics"} <= set(before["probe-b"][1])
    assert "tuna.prompts" not in before["probe-a"][1]
    edit(probe, "return 1", "return 2")
    after = probes()
    assert after["probe-a"][0] != before["probe-a"][0] and after["probe-b"][0] == before["probe-b"][0]


def test_an_unknown_command_is_one_line():
    from tuna.code_fingerprint import fingerprint
    from tuna.errors import TunaError

    with pytest.raises(TunaError, match="no tuna command 'nope' \\(known: .*score"):
        fingerprint("nope")


# -- the workflow ---------------------------------------------------------------------
def snakemake(tree: Path, *args: str) -> str:
    result = subprocess.run(["snakemake", "-s", str(tree / "Snakefile"), "-d", str(tree / "run"),
                             "--configfile", str(tree / "run/config.yaml"), "--cores", "1", *args],
                            capture_output=True, text=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def planned(tree: Path) -> dict[str, int]:
    text = snakemake(tree, "-n")
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M) if rule not in ("total", "all")}


@pytest.fixture
def finished_workflow(tmp_path) -> Path:
    """A copy of the tree whose default workflow (with Super-NI too) is complete as far as
    Snakemake knows: every output exists and its job's metadata (params, code) is recorded."""
    tree = copy_tree(tmp_path)
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["evaluation"]["benchmarks"] = ["vicuna", "superni"]
    (tree / "run").mkdir()
    (tree / "run/config.yaml").write_text(yaml.safe_dump(config))
    summary = snakemake(tree, "--summary", "--quiet", "all")
    outputs = [line.split("\t")[0] for line in summary.splitlines()[1:] if "\t" in line]
    assert len(outputs) > 30
    for output in outputs:
        path = tree / "run" / output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if not path.suffix else path.touch()  # checkpoints and task folders are directories
    snakemake(tree, "--touch", "--forceall", "all")  # records every job's metadata, as a real run does
    assert planned(tree) == {}
    return tree


@pytest.mark.slow
def test_the_dag_reruns_exactly_what_an_edit_changes(finished_workflow):
    tree = finished_workflow
    edit(tree / "tuna/evaluate/superni.py", '"""Super-NaturalInstructions', '"""Edited: Super-NaturalInstructions')
    assert planned(tree) == {}, "a docstring edit plans nothing"

    scorer = tree / "tuna/evaluate/superni_scoring.py"
    scorer.write_text(scorer.read_text() + "\nUNUSED = 1\n")
    assert planned(tree) == {"eval_superni": 2, "report": 1}
    assert "code of tuna eval-superni" in snakemake(tree, "-n"), "the reason names the code that changed"
    snakemake(tree, "--touch", "all")

    edit(tree / "tuna/train/loss.py", "class TunaLoss", "UNUSED = 1\n\n\nclass TunaLoss")
    jobs = planned(tree)
    assert jobs["train"] == 2 and jobs["report"] == 1  # tuna_p and tuna
    downstream_of_training = {"train", "export", "sample", "judge", "ctx_rank", "eval_prompts_superni",
                              "generate_answers", "judge_vicuna", "eval_superni", "eval_agreement", "eval_nll",
                              "report"}
    assert set(jobs) <= downstream_of_training, "nothing upstream of training, nothing beside it"
    assert jobs["generate_answers"] == 3  # tuna's Vicuna and Super-NI answers; alpaca's stay
