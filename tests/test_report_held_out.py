"""The report shows what training did: held-out agreement/NLL columns, the agreement plot,
the training curves."""

import csv
import json

import pytest
from click.testing import CliRunner

from tuna.cli import main
from tuna.evaluate import report_held_out

PNG = b"\x89PNG\r\n\x1a\n"


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def agreement(accuracy, tau):
    return {"pair_accuracy": accuracy, "pair_accuracy_se": 0.05, "kendall_tau": tau, "examples": 4}


def test_report_has_held_out_columns_agreement_plot_and_training_curves(tmp_path):
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


def test_no_held_out_results_no_columns_and_no_plots(tmp_path):
    assert report_held_out.held_out_columns(tmp_path, ["alpaca"]).columns.empty
    assert report_held_out.plots(tmp_path, ["alpaca"], {}, tmp_path) == []


def test_unreadable_training_metrics_name_the_file(tmp_path):
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path), "--model", "a", "--baseline", "a",
                                       "--training", f"a={tmp_path}", "-o", str(tmp_path / "report")])
    assert result.exit_code == 1 and f"{tmp_path / 'metrics.jsonl'}: cannot read the training metrics" in result.output


def nll(value):
    return {"nll": value, "perplexity": 2.718281828 ** value, "tokens": 100, "examples": 4}


def test_table5_picks_beta_by_the_first_nll_data_set_and_marks_the_lowest(tmp_path):
    """The held-out NLL would pick beta 1.0; LIMA's (the first --nll-data) picks 1.3, as Table 5 does."""
    results, out = tmp_path / "results", tmp_path / "results" / "report"
    points = {"tuna_p_beta1_4": (1.4, 2.40, 2.10), "tuna_p": (1.3, 2.20, 2.05), "tuna_p_beta1_0": (1.0, 2.30, 2.00)}
    for model, (beta, lima, held_out) in points.items():
        write(results / model / "nll_lima.json", nll(lima))
        write(results / model / "nll.json", nll(held_out))
        write(results / model / "agreement_prob_rank.json", agreement(0.5 + beta / 10, 0.1))
    write(results / "alpaca" / "nll_lima.json", nll(2.5))
    sweep = [arg for model, (beta, _, _) in points.items() for arg in ("--beta-sweep", f"alpaca+prob_rank={model}:{beta}")]
    result = CliRunner().invoke(main, ["report", "--results", str(results), "--model", "alpaca", "--baseline", "alpaca",
                                       "--nll-data", "lima", *sweep, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.joinpath("table5.csv").open()))
    assert [(r["beta"], r["model"]) for r in rows] == [("1.0", "tuna_p_beta1_0"), ("1.3", "tuna_p"),
                                                       ("1.4", "tuna_p_beta1_4")]
    assert [r["best"] for r in rows] == ["", "*", ""]
    assert [float(r["nll"]) for r in rows] == [2.30, 2.20, 2.40] and {r["nll_data"] for r in rows} == {"lima"}
    assert float(rows[1]["agree_prob_rank"]) == pytest.approx(0.63) and float(rows[1]["perplexity"]) > 9
    assert "| alpaca+prob_rank | 1.3000 | tuna_p | lima | 2.2000 |" in out.joinpath("table5.md").read_text()
    table1 = {row["model"]: row for row in csv.DictReader(out.joinpath("table1.csv").open())}
    assert table1["alpaca"]["nll_lima"] == "2.5"
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[str(results / "tuna_p" / "nll_lima.json")] == "nll"  # swept models' files are sources too

    held_out_only = report_held_out.table5(results, {"s": {m: b for m, (b, _, _) in points.items()}})
    assert held_out_only["best"].tolist() == ["*", "", ""] and set(held_out_only["nll_data"]) == {"held_out"}


def test_no_table5_without_a_common_nll(tmp_path):
    write(tmp_path / "a" / "nll_lima.json", nll(2.0))
    assert report_held_out.table5(tmp_path, {"s": {"a": 1.0, "b": 1.3}}, ["lima"]).empty


def test_a_proxy_ranking_models_agreement_with_its_judge_is_a_table_and_a_bar(tmp_path):
    results, out = tmp_path / "results", tmp_path / "results" / "report"
    prm = results / "ctx_rank" / "alpaca" / "prm_agreement.json"
    write(prm, {"model": "prm", "ranking": "ctx_rank-alpaca", **agreement(0.8, 0.6), "spearman": 0.7,
                "mean_margin": 0.3})
    result = CliRunner().invoke(main, ["report", "--results", str(results), "--model", "alpaca", "--baseline", "alpaca",
                                       "--prm-agreement", str(prm), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.joinpath("prm_agreement.csv").open()))
    assert [(r["prm"], r["ranking"], r["pair_accuracy"], r["spearman"]) for r in rows] == [
        ("prm", "ctx_rank-alpaca", "0.8", "0.7")]
    assert out.joinpath("agreement.png").read_bytes()[:8] == PNG
    assert report_held_out.agreement_results(results, ["alpaca"], [prm])["model"].tolist() == ["prm (PRM)"]
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[str(prm)] == "prm_agreement"
