"""The report shows what training did: held-out agreement/NLL columns, the agreement plot,
the training curves."""

import csv
import json

from click.testing import CliRunner

from tuna.cli import main
from tuna.evaluate import report_heldout

PNG = b"\x89PNG\r\n\x1a\n"


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def agreement(accuracy, tau):
    return {"pair_accuracy": accuracy, "pair_accuracy_se": 0.05, "kendall_tau": tau, "examples": 4}


def test_report_has_heldout_columns_agreement_plot_and_training_curves(tmp_path):
    results, out = tmp_path / "results", tmp_path / "results" / "report"
    write(results / "alpaca" / "agreement_prob_rank.json", agreement(0.5, 0.0))
    write(results / "alpaca" / "nll.json", {"nll": 2.5})
    write(results / "tuna" / "agreement_prob_rank.json", agreement(0.75, 0.5))
    write(results / "tuna" / "agreement_ctx_rank_tuna_p.json", agreement(0.6, 0.2))
    write(results / "tuna" / "nll.json", {"nll": 2.25})
    write(results / "tuna" / "agreement_prob_rank.json.provenance.json", {"params": {}})  # a stamp, not a result
    write(results / "tuna" / "vicuna.json", {"win_rate": 0.0, "lose_rate": 0.0, "tie_rate": 100.0, "unparsed": 0})
    checkpoint = tmp_path / "checkpoints" / "tuna"
    checkpoint.mkdir(parents=True)
    rows = [{"step": s, "loss": 1.0 / s, "rank": 0.5 / s, "mle": 0.5 / s, "pair_accuracy": 0.5, "margin": 0.0,
             "grad_norm": 2.0, "lr": 1e-5} for s in (1, 2, 3)]
    (checkpoint / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    result = CliRunner().invoke(main, ["report", "--results", str(results), "--model", "alpaca", "--model", "tuna",
                                       "--baseline", "alpaca", "--training", f"tuna={checkpoint}", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = {row["model"]: row for row in csv.DictReader(out.joinpath("table1.csv").open())}
    assert table["tuna"]["agree_prob_rank"] == "0.75" and table["tuna"]["tau_ctx_rank_tuna_p"] == "0.2"
    assert table["alpaca"]["agree_ctx_rank_tuna_p"] == "" and table["alpaca"]["nll"] == "2.5"
    for name in ("agreement.png", "training_curves.png"):
        assert out.joinpath(name).read_bytes()[:8] == PNG and out.joinpath(name).stat().st_size > 5000
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[str(results / "tuna" / "nll.json")] == "nll"
    assert sources[str(checkpoint / "metrics.jsonl")] == "training_curves"


def test_no_heldout_results_no_columns_and_no_plots(tmp_path):
    assert report_heldout.heldout_columns(tmp_path, ["alpaca"]).columns.empty
    assert report_heldout.plots(tmp_path, ["alpaca"], {}, tmp_path) == []


def test_unreadable_training_metrics_name_the_file(tmp_path):
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path), "--model", "a", "--baseline", "a",
                                       "--training", f"a={tmp_path}", "-o", str(tmp_path / "report")])
    assert result.exit_code == 1 and f"{tmp_path / 'metrics.jsonl'}: cannot read the training metrics" in result.output
