"""Prompt construction shared by every stage, so generation, scoring and training agree.

Three templates: `alpaca`, the Stanford Alpaca format as Alpaca and the Tuna authors
trained with it (the prompt ends `### Response:`, the response follows directly: their
`train.py`/`train_tuna.py` and the released generation script `non_interactive_generate.py`);
`alpaca_newline`, the same with a newline after `### Response:` (the form many Alpaca
inference scripts use); and `chat` (the model's own chat template, rendered from its
tokenizer metadata).
"""

from __future__ import annotations

from functools import lru_cache

from jinja2.sandbox import ImmutableSandboxedEnvironment

from tuna.config.settings import TEMPLATES

ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:"
)


def alpaca_prompt(instruction: str, input: str = "", newline: bool = False) -> str:
    """The Alpaca prompt; `newline`: the `alpaca_newline` variant (a newline after `### Response:`).

    The with-input form is used for any non-empty input, as Stanford Alpaca and the
    authors' scripts decide (`input != ""`).
    """
    text = (ALPACA_WITH_INPUT.format(instruction=instruction, input=input) if input
            else ALPACA_NO_INPUT.format(instruction=instruction))
    return text + ("\n" if newline else "")


def parse_alpaca_prompt(prompt: str) -> tuple[str, str] | None:
    """(instruction, input) of an Alpaca-format prompt (the inverse of alpaca_prompt), or None.

    Only whitespace may follow the final '### Response:' header, so both `alpaca` and
    `alpaca_newline` prompts read back.
    """
    head, header, tail = prompt.rpartition("\n\n### Response:")
    if not header or tail.strip():
        return None
    with_input, no_input = (template.split("{instruction}")[0] for template in (ALPACA_WITH_INPUT, ALPACA_NO_INPUT))
    if head.startswith(with_input):
        instruction, marker, input = head[len(with_input):].partition("\n\n### Input:\n")
        return (instruction, input) if marker else None
    if head.startswith(no_input):
        return head[len(no_input):], ""
    return None


def user_message(instruction: str, input: str = "") -> str:
    """The instruction (and its input, if any) as one chat user turn."""
    return f"{instruction}\n\n{input}" if input.strip() else instruction


def chat_turns(instruction: str, input: str = "", system: str | None = None) -> list[dict]:
    """The instruction as chat messages: the system turn (if any), then one user turn."""
    turns = [{"role": "system", "content": system}] if system else []
    return turns + [{"role": "user", "content": user_message(instruction, input)}]


@lru_cache(maxsize=8)
def _compile(chat_template: str):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message):
        raise ValueError(f"chat template: {message}")

    env.globals["raise_exception"] = raise_exception
    return env.from_string(chat_template)


def render_chat(chat_template: str, messages: list[dict], bos_token: str = "", eos_token: str = "") -> str:
    """Render a HF-style Jinja chat template with a generation prompt appended."""
    return _compile(chat_template).render(
        messages=messages, add_generation_prompt=True, bos_token=bos_token, eos_token=eos_token
    )


def build_prompt(
    template: str,
    instruction: str,
    input: str = "",
    chat_template: str | None = None,
    bos_token: str = "",
    eos_token: str = "",
    system: str | None = None,
) -> str:
    """The exact prompt text a model sees before its response.

    A `system` prompt is the chat template's system turn; the Alpaca format has no
    such turn, so there it comes first, followed by a blank line.
    """
    if template in ("alpaca", "alpaca_newline"):
        prompt = alpaca_prompt(instruction, input, newline=template == "alpaca_newline")
        return f"{system}\n\n{prompt}" if system else prompt
    if template == "chat":
        if not chat_template:
            raise ValueError("template 'chat' needs a model with a chat template; use template 'alpaca'")
        return render_chat(chat_template, chat_turns(instruction, input, system), bos_token, eos_token)
    raise ValueError(f"unknown prompt template {template!r} (expected one of {', '.join(TEMPLATES)})")
