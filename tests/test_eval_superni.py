"""Super-NaturalInstructions: task loading, Tk-Instruct encodings, and parity of the metric with
the official evaluation script's documented behaviour, on the real task files in ../shared."""

from __future__ import annotations

import json
import random
import string

import pytest
from rouge_score import rouge_scorer
from tiny_llama import tiny_tokenizer
from tuna_cli import tuna

from tuna.errors import TunaError
from tuna.evaluate import metrics, superni, superni_scoring
from tuna.llm.tokenizer import load_tokenizer


@pytest.fixture(scope="module")
def tasks(shared_data):
    task_dir = shared_data / "super_ni" / "tasks"
    names = sorted(p.stem for p in task_dir.glob("*.json"))
    return superni.load_tasks(task_dir, names, instances=100)


def official_metrics(predictions, references):
    """The documented algorithm, written out plainly: rouge_score RougeL F1 with the Porter
    stemmer and SQuAD normalization without article removal, max over references, mean x 100."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def normalize(s):
        s = s.lower()
        s = "".join(ch for ch in s if ch not in set(string.punctuation))
        return " ".join(s.split())

    em = rl = 0.0
    for pred, gold in zip(predictions, references, strict=True):
        em += max(float(normalize(pred) == normalize(g)) for g in gold)
        rl += max(scorer.score(prediction=pred, target=g)["rougeL"].fmeasure for g in gold)
    return {"exact_match": round(100 * em / len(references), 4), "rougeL": round(100 * rl / len(references), 4)}


def varied_predictions(tasks, seed=0):
    """Realistic model outputs: exact, re-cased/punctuated, chatty, wrong, empty, other task's."""
    rng = random.Random(seed)
    every_output = [o for t in tasks for i in t.instances for o in i["output"]]
    out = {}
    for task in tasks:
        for instance in task.instances:
            ref = rng.choice(instance["output"])
            out[instance["id"]] = rng.choice([
                ref, ref.upper() + "!", f"The answer is: {ref}.", f"{ref} because it fits the definition",
                "", rng.choice(every_output), " ".join(reversed(ref.split())), ref.replace(" ", "  "),
            ])
    return out


def test_split_lists_119_tasks_including_the_shared_ones(shared_data, tasks):
    names = superni.read_task_names(shared_data / "super_ni" / "test_tasks.txt")
    assert len(names) == 119 == len(set(names))
    assert {t.name for t in tasks} <= set(names)


def test_tasks_keep_first_100_instances_and_first_category(tasks):
    assert len(tasks) == 8 and all(len(t.instances) == 100 for t in tasks)
    entail = next(t for t in tasks if t.name == "task1344_glue_entailment_classification")
    assert entail.category == "Textual Entailment"
    assert superni_scoring.category_key(entail.category) == "textual_entailment"


def test_zero_shot_encoding_is_definition_then_input(tasks):
    task = next(t for t in tasks if t.name == "task1344_glue_entailment_classification")
    instance = task.instances[0]
    prompt = superni.encode(task, instance, shots=0).text
    assert prompt == (f"Definition: {task.definition.strip()}\n\n"
                      f"Now complete the following example -\nInput: {instance['input'].strip()}\nOutput: ")
    assert "Positive Example" not in prompt


def test_two_shot_encoding_adds_two_positive_examples_with_periods(tasks):
    task = next(t for t in tasks if t.name == "task1344_glue_entailment_classification")
    prompt = superni.encode(task, task.instances[0], shots=2).text
    first, second = task.positive_examples[:2]
    assert prompt.count("Positive Example") == 2
    # Outputs '0'/'1' end without punctuation, so the encoding closes them with a period.
    assert f" Positive Example 1 -\nInput: {first['input'].strip()}" in prompt
    assert f"\n Output: {first['output'].strip()}.\n\n Positive Example 2 -\n" in prompt
    assert f"\n Output: {second['output'].strip()}.\n\nNow complete the following example -\n" in prompt


def test_punctuation_rule_does_not_double_periods():
    task = superni.Task("t", "c", "Answer it.", ({"input": "Is it?", "output": "Yes."},), ())
    prompt = superni.encode(task, {"input": "Why", "output": ["x"]}, shots=2).text
    assert prompt == ("Definition: Answer it.\n\n Positive Example 1 -\nInput: Is it?\n Output: Yes.\n\n"
                      "Now complete the following example -\nInput: Why.\nOutput: ")


def test_prompts_use_upstream_instance_ids(tasks):
    records, changed = superni.prompts(tasks, shots=0)
    assert changed == {"fewer_examples": 0, "cut": 0}
    assert len(records) == 800 and len({r.id for r in records}) == 800
    assert records[0].id == tasks[0].instances[0]["id"]


def test_normalization_keeps_articles_and_drops_punctuation():
    assert metrics.normalize_answer("  The  Cat's   HAT!! ") == "the cats hat"
    assert metrics.exact_match("the answer.", "The answer") == 1.0
    assert metrics.exact_match("answer", "the answer") == 0.0


def test_overall_metric_matches_official_on_real_tasks(tasks):
    predictions = varied_predictions(tasks)
    result = superni_scoring.score(tasks, predictions)
    rows = [(t, i) for t in tasks for i in t.instances]
    expected = official_metrics([predictions[i["id"]] for _, i in rows], [i["output"] for _, i in rows])
    assert result["exact_match"] == expected["exact_match"]
    assert result["rougeL"] == expected["rougeL"]
    assert 0 < result["exact_match"] < result["rougeL"] < 100  # the mix is neither trivial nor perfect


def test_per_task_and_per_category_match_official_grouping(tasks):
    predictions = varied_predictions(tasks, seed=1)
    result = superni_scoring.score(tasks, predictions)
    for task in tasks:
        expected = official_metrics([predictions[i["id"]] for i in task.instances],
                                    [i["output"] for i in task.instances])
        got = result["per_task"][task.name]
        assert (got["exact_match"], got["rougeL"]) == (expected["exact_match"], expected["rougeL"])
    coref = [t for t in tasks if t.category == "Coreference Resolution"]
    assert len(coref) == 2
    rows = [i for t in coref for i in t.instances]
    expected = official_metrics([predictions[i["id"]] for i in rows], [i["output"] for i in rows])
    got = result["per_category"]["coreference_resolution"]
    assert (got["exact_match"], got["rougeL"], got["instances"]) == (expected["exact_match"], expected["rougeL"], 200)


def test_missing_predictions_score_as_empty_and_are_counted(tasks):
    result = superni_scoring.score(tasks[:1], {})
    assert result["missing"] == 100 and result["rougeL"] == 0.0 and result["exact_match"] == 0.0


def test_perfect_predictions_score_100(tasks):
    result = superni_scoring.score(tasks, {i["id"]: i["output"][-1] for t in tasks for i in t.instances})
    assert result["exact_match"] == 100.0 and result["rougeL"] == 100.0


def test_bad_task_file_names_file_and_key(tmp_path):
    (tmp_path / "task1_x.json").write_text(json.dumps({"Definition": ["d"], "Categories": ["c"],
                                                       "Positive Examples": [], "Instances": [{"id": "a"}]}))
    with pytest.raises(TunaError, match=r"task1_x.json: Instances.0: needs an 'id' and a non-empty 'output'"):
        superni.load_task(tmp_path / "task1_x.json")
    with pytest.raises(TunaError, match="1 task file"):
        superni.load_tasks(tmp_path, ["task1_x", "task2_missing"])


# ----- Tk-Instruct's token budget, on a made-up long task -----------------------------------

def long_task(example_words: int, input_words: int) -> superni.Task:
    """A task whose positive examples and instance inputs are as long as asked."""
    def words(n, tag):
        return " ".join(f"{tag}{i % 50}" for i in range(n))

    examples = tuple({"input": words(example_words, "ex"), "output": "yes"} for _ in range(3))
    instance = {"id": "long-1", "input": words(input_words, "in"), "output": ["yes"]}
    return superni.Task("task9999_long", "Made Up", "Say yes.", examples, (instance,))


@pytest.fixture(scope="module")
def hf_tokenizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok")
    tiny_tokenizer().save_pretrained(path)
    return load_tokenizer(path)


def n_tokens(tokenizer, text):
    return len(tokenizer.encode(text))


def test_budget_keeps_examples_that_fit_and_drops_the_first_that_does_not(hf_tokenizer):
    task = long_task(example_words=60, input_words=20)
    unbounded = superni.encode(task, task.instances[0], shots=2)
    budget_tokens = n_tokens(hf_tokenizer, unbounded.text)
    assert budget_tokens > 300  # the made-up task is long in this tokenizer
    # Exactly the size of the 2-shot prompt: both examples fit, nothing is cut.
    whole = superni.encode(task, task.instances[0], 2, superni.Budget(hf_tokenizer, budget_tokens))
    assert whole == unbounded and whole.examples == 2 and not whole.cut
    # One token less: the second example no longer fits, the 1-shot prompt does.
    one = superni.encode(task, task.instances[0], 2, superni.Budget(hf_tokenizer, budget_tokens - 1))
    assert one.examples == 1 and not one.cut
    assert one.text.count("Positive Example") == 1 and one.text.endswith("\nOutput: ")
    assert n_tokens(hf_tokenizer, one.text) <= budget_tokens - 1


def test_budget_cuts_an_over_long_prompt_to_the_budget_at_its_end(hf_tokenizer):
    task = long_task(example_words=60, input_words=400)
    for shots in (0, 2):
        encoded = superni.encode(task, task.instances[0], shots, superni.Budget(hf_tokenizer, 256))
        assert encoded.cut and encoded.examples == 0  # no example fits beside a 400-word input
        assert encoded.text.startswith("Definition: Say yes.\n\nNow complete the following example -\nInput: in0 in1")
        assert "Output: " not in encoded.text  # the end goes first, as in Tk-Instruct
        assert 250 <= n_tokens(hf_tokenizer, encoded.text) <= 256


def test_zero_shot_within_the_budget_is_unchanged(hf_tokenizer):
    task = long_task(example_words=10, input_words=10)
    for shots in (0, 2):
        assert superni.encode(task, task.instances[0], shots, superni.Budget(hf_tokenizer)) == superni.encode(
            task, task.instances[0], shots)


def test_prompts_count_what_the_budget_changed(hf_tokenizer):
    short, long = long_task(10, 10), long_task(60, 400)
    records, changed = superni.prompts([short, long], 2, superni.Budget(hf_tokenizer, 256))
    assert len(records) == 2 and changed == {"fewer_examples": 1, "cut": 1}


@pytest.mark.slow
def test_budget_in_the_tokens_of_a_gguf_model(smollm2_gguf):
    """llama.cpp's own vocabulary of the evaluated GGUF measures the budget."""
    tokenizer = load_tokenizer(smollm2_gguf)
    task = long_task(example_words=60, input_words=400)
    encoded = superni.encode(task, task.instances[0], 2, superni.Budget(tokenizer, 300))
    assert encoded.cut and encoded.examples == 0 and 290 <= n_tokens(tokenizer, encoded.text) <= 300
    fitting = long_task(example_words=60, input_words=20)
    size = n_tokens(tokenizer, superni.encode(fitting, fitting.instances[0], 2).text)
    assert superni.encode(fitting, fitting.instances[0], 2, superni.Budget(tokenizer, size)).examples == 2
    assert superni.encode(fitting, fitting.instances[0], 2, superni.Budget(tokenizer, size - 1)).examples == 1


def test_tokenizer_location_must_be_a_gguf_or_a_directory(tmp_path):
    (tmp_path / "model.bin").write_text("x")
    with pytest.raises(TunaError, match="not a tokenizer"):
        load_tokenizer(tmp_path / "model.bin")


@pytest.mark.parametrize("command", ["fetch-superni", "eval-superni", "eval-prompts"])
def test_the_split_task_list_is_asked_for_by_name(tmp_path, command):
    """fetch-superni and eval-superni cannot run without --tasks; eval-prompts needs it for superni only."""
    tasks_dir, answers = tmp_path / "tasks", tmp_path / "answers.jsonl"
    tasks_dir.mkdir()
    answers.write_text("")
    others = {"fetch-superni": [],
              "eval-superni": ["--tasks-dir", tasks_dir, "--answers", f"0={answers}", "--model-name", "m"],
              "eval-prompts": ["--benchmark", "superni", "--shots", "0", "--data", tasks_dir]}[command]
    output = tuna(command, *others, "-o", tmp_path / "out", code=2).output
    assert "--tasks" in output and "Traceback" not in output
