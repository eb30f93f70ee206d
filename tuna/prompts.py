"""Prompt construction shared by every stage, so generation, scoring and training agree.

Two templates: `alpaca` (the Stanford Alpaca format the paper trained with) and
`chat` (the model's own chat template, rendered from its tokenizer metadata).
"""

from __future__ import annotations

from functools import lru_cache

from jinja2.sandbox import ImmutableSandboxedEnvironment

from tuna.config.settings import TEMPLATES

ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)


def alpaca_prompt(instruction: str, input: str = "") -> str:
    if input.strip():
        return ALPACA_WITH_INPUT.format(instruction=instruction, input=input)
    return ALPACA_NO_INPUT.format(instruction=instruction)


def parse_alpaca_prompt(prompt: str) -> tuple[str, str] | None:
    """(instruction, input) of an Alpaca-format prompt (the inverse of alpaca_prompt), or None.

    Only whitespace may follow the final '### Response:' header, so the variant of the
    Tuna authors' scripts, which ends without the newline, reads the same.
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
) -> str:
    """The exact prompt text a model sees before its response."""
    if template == "alpaca":
        return alpaca_prompt(instruction, input)
    if template == "chat":
        if not chat_template:
            raise ValueError("template 'chat' needs a model with a chat template; use template 'alpaca'")
        messages = [{"role": "user", "content": user_message(instruction, input)}]
        return render_chat(chat_template, messages, bos_token, eos_token)
    raise ValueError(f"unknown prompt template {template!r} (expected one of {', '.join(TEMPLATES)})")
