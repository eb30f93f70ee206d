"""`set: preferences` in a model's data and the preference exports, as the plan sees them: files, options,
and one-line errors naming the key."""

import pytest

from tuna import config as tuna_config
from tuna.errors import TunaError

UF = {"set": "preferences", "path": "data/uf.jsonl", "format": "listwise",
      "fields": {"prompt": "instruction", "completions": "completions.*.response",
                 "scores": "completions.*.overall_score"}}
HH = {"set": "preferences", "path": "download:hh", "format": "pairwise"}


def plan_of(data, train=None, **sections):
    models = {"alpaca": {"import": "x.gguf", "template": "alpaca"},
              "uf": {"init": "alpaca", "data": data, "train": {"mle_weight": 0} if train is None else train}}
    return tuna_config.load({"models": models, "evaluation": {"benchmarks": []}, **sections}, source="c.yaml")


def test_imported_sets_get_a_file_of_their_own_and_train_like_any_ranked_set():
    plan = plan_of(UF)
    part = plan.models["uf"].data[0]
    assert part.kind == "ranked" and part.label() == "preferences(uf.jsonl)"
    assert plan.train_input("uf") == f"results/preferences/imported/{part.import_name}.jsonl"
    assert part.import_name.startswith("uf_")
    assert plan.preference_file(part) == "data/uf.jsonl"
    assert plan.import_args(part) == ("--format listwise --field prompt=instruction --field input= --field output= "
                                      "--field 'completions=completions.*.response' "
                                      "--field 'scores=completions.*.overall_score' --field ranks=")
    other = plan_of({**UF, "fields": {**UF["fields"], "scores": "completions.*.fine-grained_score"}})
    assert other.models["uf"].data[0].import_name != part.import_name  # another mapping, another set

    plan = plan_of([{**UF, "first": 2}, HH], downloads={"hh": {"url": "https://example.org/hh.jsonl"}})
    hh = plan.models["uf"].data[1]
    assert plan.preference_file(hh) == "resources/downloads/hh"
    assert plan.import_args(hh) == "--format pairwise --field prompt=prompt --field input= --field output= " \
                                   "--field chosen=chosen --field rejected=rejected"
    assert plan.mixtures() == ["uf"] and "first:2" in plan.mixture_args("uf")
    assert set(plan.preference_imports()) == {part.import_name, hh.import_name}


def test_every_ranking_set_can_be_exported_in_the_template_of_its_responses():
    plan = tuna_config.load_file("config/config.yaml")
    assert list(plan.ranked_sets()) == ["prob_rank", "ctx_rank-alpaca", "ctx_rank-tuna_p"]
    assert plan.export_args("prob_rank", "best_vs_rest") == "--format pairwise --pairs best-vs-rest --template chat"
    assert plan.export_args("ctx_rank-tuna_p", "listwise") == "--format listwise --template chat"
    assert plan.layout.preferences("ctx_rank:alpaca", "pairwise") == "results/preferences/ctx_rank-alpaca/pairwise"

    plan = plan_of(UF, released={"prob": "p.json", "judge": "j.json"})
    name = plan.models["uf"].data[0].import_name
    assert list(plan.ranked_sets()) == ["released_prob", "released_judge", f"preferences-{name}"]
    assert plan.export_args("released_judge", "pairwise") == "--format pairwise --pairs all --template alpaca"
    assert plan.export_args(f"preferences-{name}", "listwise") == "--format listwise --template chat"


@pytest.mark.parametrize("data, train, message", [
    ({**UF, "path": None}, None, "models.uf.data.0: preferences needs path"),
    ({k: v for k, v in UF.items() if k != "format"}, None, "models.uf.data.0: preferences needs format: listwise or"),
    ({**UF, "format": "triplets"}, None, "models.uf.data.0.format: Input should be 'listwise' or 'pairwise'"),
    ({**UF, "fields": {"chosen": "best"}}, None, "models.uf.data.0: fields.chosen does not apply to listwise data"),
    ({**HH, "fields": {"scores": "s"}}, None, "models.uf.data.0: fields.scores does not apply to pairwise data"),
    ({**UF, "fields": {"scores": "s", "ranks": "r"}}, None, "models.uf.data.0: fields: give scores or ranks, not both"),
    ({**UF, "fields": {"scores": "a.*.*"}}, None, "models.uf.data.0.fields: scores: 'a.*.*': one '*' at most"),
    ({**UF, "fields": {"promt": "x"}}, None, "models.uf.data.0.fields.promt: unknown key"),
    ({**UF, "fields": {"prompt": "a..b"}}, None, "models.uf.data.0.fields: prompt: 'a..b' is not a dotted path"),
    ({**HH, "path": "download:hh_rlhf"}, None, "models.uf.data.path: unknown download 'hh_rlhf' (declared: "),
    ({"set": "prob_rank", "path": "x"}, None, "models.uf.data.0: path applies to preferences only"),
    ({**UF, "path": "hf:openbmb/UltraFeedback"}, None,
     "models.uf.data.0: path: hf:openbmb/UltraFeedback: Hub data sets (hf:ORG/NAME) are not supported yet"),
    (UF, {}, "models.uf.data.fields.output: the data has no original response for the MLE term (Eq. 6): map one, "
             "or set models.uf.train.mle_weight: 0 (objective rrhf needs none: its cross-entropy is on the "
             "best-ranked response)"),
    (UF, {"objective": "listmle"}, "models.uf.data.fields.output: the data has no original response"),
    (UF, {"objective": "dpo"}, "models.uf.data.fields.output: the data has no original response"),
    (UF, {"objective": "simpo"}, "models.uf.data.fields.output: the data has no original response"),
    ([HH, UF], {}, "models.uf.data.0.fields.output: the data has no original response"),
    (UF, {"mle_target": "all"}, "models.uf.data.fields.output: the data has no original response"),
    (UF, {"objective": "mle", "mle_weight": 0}, "models.uf.data.fields.output: the data has no original response"),
])
def test_bad_preference_config_is_one_line_naming_the_key(data, train, message):
    with pytest.raises(TunaError) as error:
        plan_of(data, train, downloads={"hh": {"url": "https://example.org/hh.jsonl"}})
    assert error.value.message.startswith(f"c.yaml: {message}")
    assert "\n" not in error.value.message


def test_an_original_response_or_no_mle_term_passes():
    plan_of({**UF, "fields": {**UF["fields"], "output": "reference"}}, {})
    plan_of({**UF, "fields": {**UF["fields"], "output": "reference"}}, {"objective": "mle"})
    plan_of(UF, {"mle_weight": 0})
    plan_of(UF, {"objective": "rrhf"})  # RRHF's cross-entropy is on the best-ranked response
    plan_of(UF, {"objective": "dpo", "mle_weight": 0})
