"""The prompt templates, written out: the Alpaca training form (Stanford Alpaca's and the Tuna
authors' train.py / train_tuna.py / non_interactive_generate.py), its newline variant, and where a
system prompt goes."""

import pytest

from tuna.prompts import alpaca_prompt, build_prompt, chat_turns

NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
            "request.\n\n### Instruction:\nName a color.\n\n### Response:")
WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
              "Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n"
              "### Input:\nBonjour\n\n### Response:")


def test_alpaca_is_the_training_form_byte_for_byte():
    assert build_prompt("alpaca", "Name a color.") == NO_INPUT
    assert build_prompt("alpaca", "Translate.", "Bonjour") == WITH_INPUT


def test_alpaca_newline_adds_only_the_newline():
    assert build_prompt("alpaca_newline", "Name a color.") == NO_INPUT + "\n"
    assert build_prompt("alpaca_newline", "Translate.", "Bonjour") == WITH_INPUT + "\n"


@pytest.mark.parametrize("input, with_input", [("", False), (" ", True), ("\n", True), ("x", True)])
def test_any_non_empty_input_takes_the_input_form_as_in_the_released_code(input, with_input):
    assert ("### Input:" in alpaca_prompt("Do it.", input)) == with_input


def test_a_system_prompt_precedes_an_alpaca_prompt_and_is_a_chat_system_turn():
    assert build_prompt("alpaca", "Name a color.", system="Be brief.") == "Be brief.\n\n" + NO_INPUT
    assert chat_turns("Name a color.", "", "Be brief.") == [{"role": "system", "content": "Be brief."},
                                                              {"role": "user", "content": "Name a color."}]
    template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}<assistant>"
    assert build_prompt("chat", "Name a color.", chat_template=template, system="Be brief.") == (
        "<system>Be brief.\n<user>Name a color.\n<assistant>")
    assert build_prompt("chat", "Name a color.", chat_template=template) == "<user>Name a color.\n<assistant>"
