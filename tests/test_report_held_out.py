"""The report shows what training did: held-out agreement/NLL columns, Table 5, the proxy
ranking models' agreement, the agreement plot, the training curves."""

import csv
import json
from pathlib import Path

import pytest
from json_files import write_json
from report_files import layout, report_spec, run_report

from tuna.evaluate import report_held_out

PNG = b"\x89PNG\r\n\x1a\n"


def agreement(accuracy, tau):
    return {"pair_accuracy": accuracy, "pair_accuracy_se": 0.05, "kendall_tau": tau, "examples": 4}


def test_report_has_held_out_columns_agreement_plot_and_training_curves(tmp_path):
    L, out = layout(tmp_path), tmp_path / "results" / "report"
    write_json(Path(L.agreement("alpaca", "prob_rank")), agreement(0.5, 0.0))
    write_json(Path(L.nll("alpaca")), {"nll": 2.5})
    write_json(Path(L.agreement("tuna", "prob_rank")), agreement(0.75, 0.5))
    write_json(Path(L.agreement("tuna", "ctx_rank:tuna_p")), agreement(0.6, 0.2))
    write_json(Path(L.nll("tuna")), {"nll": 2.25})
    write_json(Path(L.result("tuna", "vicuna")), {"win_rate": 0.0, "lose_rate": 0.0, "tie_rate": 100.0, "unparsed": 0})
    checkpoint = tmp_path / "checkpoints" / "tuna"
    checkpoint.mkdir(parents=True)
    rows = [{"step": s, "loss": 1.0 / s, "rank": 0.5 / s, "mle": 0.5 / s, "pair_accuracy": 0.5, "margin": 0.0,
             "grad_norm": 2.0, "lr": 1e-5} for s in (1, 2, 3)]
    (checkpoint / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = report_spec(tmp_path, ["alpaca", "tuna"], agreement=("prob_rank", "ctx_rank:tuna_p"), nll=("held_out",),
                       training_curves={"tuna": checkpoint})
    assert list(spec.plots_drawn()) == ["vicuna_win_lose_tie", "agreement", "training_curves"]

    run_report(spec, out)
    table = {row["model"]: row for row in csv.DictReader(out.joinpath("table1.csv").open())}
    # columns named by the data set's file-name token; a file the spec names but nobody made is left out
    assert table["tuna"]["agree_prob_rank"] == "0.75" and table["tuna"]["tau_ctx_rank-tuna_p"] == "0.2"
    assert table["alpaca"]["agree_ctx_rank-tuna_p"] == "" and table["alpaca"]["nll"] == "2.5"
    for name in spec.plots_drawn():
        assert out.joinpath(f"{name}.png").read_bytes()[:8] == PNG and out.joinpath(f"{name}.png").stat().st_size > 5000
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[L.nll("tuna")] == "nll" and sources[L.agreement("tuna", "ctx_rank:tuna_p")] == "agreement"
    assert sources[str(checkpoint / "metrics.jsonl")] == "training_curves"


def test_no_held_out_results_no_columns_and_no_plots(tmp_path):
    spec = report_spec(tmp_path, ["alpaca"], agreement=("prob_rank",), nll=("held_out",))
    assert report_held_out.held_out_columns(spec).columns.empty
    assert report_held_out.plots(spec, tmp_path) == []


def test_unreadable_training_metrics_name_the_file(tmp_path):
    run = run_report(report_spec(tmp_path, ["a"], training_curves={"a": tmp_path}), tmp_path / "report", code=1)
    assert f"{tmp_path / 'metrics.jsonl'}: cannot read the training metrics" in run.output


def nll(value):
    return {"nll": value, "perplexity": 2.718281828 ** value, "tokens": 100, "examples": 4}


def test_table5_picks_beta_by_the_first_nll_data_set_and_marks_the_lowest(tmp_path):
    """The held-out NLL would pick beta 1.0; LIMA's (the first NLL data set) picks 1.3, as Table 5 does."""
    L, out = layout(tmp_path), tmp_path / "results" / "report"
    points = {"tuna_p_beta1_4": (1.4, 2.40, 2.10), "tuna_p": (1.3, 2.20, 2.05), "tuna_p_beta1_0": (1.0, 2.30, 2.00)}
    for model, (beta, lima, held_out) in points.items():
        write_json(Path(L.nll(model, "lima")), nll(lima))
        write_json(Path(L.nll(model)), nll(held_out))
        write_json(Path(L.agreement(model, "prob_rank")), agreement(0.5 + beta / 10, 0.1))
    write_json(Path(L.nll("alpaca", "lima")), nll(2.5))
    betas = {model: beta for model, (beta, _, _) in points.items()}
    spec = report_spec(tmp_path, ["alpaca", *points], agreement=("prob_rank",), nll=("held_out", "lima"),
                       beta_sweeps={"alpaca+prob_rank": betas}).model_copy(update={"models": ["alpaca"]})
    run_report(spec, out)
    rows = list(csv.DictReader(out.joinpath("table5.csv").open()))
    assert [(r["beta"], r["model"]) for r in rows] == [("1.0", "tuna_p_beta1_0"), ("1.3", "tuna_p"),
                                                       ("1.4", "tuna_p_beta1_4")]
    assert [r["best"] for r in rows] == ["", "*", ""]
    assert [float(r["nll"]) for r in rows] == [2.30, 2.20, 2.40] and {r["nll_data"] for r in rows} == {"lima"}
    assert float(rows[1]["agree_prob_rank"]) == pytest.approx(0.63) and float(rows[1]["perplexity"]) > 9
    assert "| alpaca+prob_rank | 1.3000 | tuna_p | lima | 2.2000 |" in out.joinpath("table5.md").read_text()
    table1 = {row["model"]: row for row in csv.DictReader(out.joinpath("table1.csv").open())}
    assert list(table1) == ["alpaca"] and table1["alpaca"]["nll_lima"] == "2.5"
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[L.nll("tuna_p", "lima")] == "nll"  # swept models' files are sources too

    held_out_only = report_held_out.table5(spec.model_copy(update={"nll": {m: {"held_out": L.nll(m)} for m in points}}))
    assert held_out_only["best"].tolist() == ["*", "", ""] and set(held_out_only["nll_data"]) == {"held_out"}


def test_no_table5_without_a_common_nll(tmp_path):
    write_json(Path(layout(tmp_path).nll("a", "lima")), nll(2.0))
    spec = report_spec(tmp_path, ["a", "b"], nll=("lima",), beta_sweeps={"s": {"a": 1.0, "b": 1.3}})
    assert report_held_out.table5(spec).empty


def test_a_proxy_ranking_models_agreement_with_its_judge_is_a_table_and_a_bar(tmp_path):
    out = tmp_path / "results" / "report"
    prm = write_json(Path(layout(tmp_path).prm_agreement("alpaca", "prm")), {
        "model": "prm", "ranking": "ctx_rank:alpaca", **agreement(0.8, 0.6), "spearman": 0.7, "mean_margin": 0.3})
    spec = report_spec(tmp_path, ["alpaca"], prm_agreement=[prm])
    assert spec.tables_written()["prm_agreement"] and "agreement" in spec.plots_drawn()
    run_report(spec, out)
    rows = list(csv.DictReader(out.joinpath("prm_agreement.csv").open()))
    assert [(r["prm"], r["ranking"], r["pair_accuracy"], r["spearman"]) for r in rows] == [
        ("prm", "ctx_rank:alpaca", "0.8", "0.7")]
    assert out.joinpath("agreement.png").read_bytes()[:8] == PNG
    assert report_held_out.agreement_results(spec)["model"].tolist() == ["prm (PRM)"]
    sources = {row["file"]: row["used_for"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert sources[str(prm)] == "prm_agreement"
