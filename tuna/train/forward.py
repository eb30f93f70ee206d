"""Shared-prompt forward: all responses of an example scored in one packed sequence.

The obvious implementation repeats the prompt in each of the N+1 rows, pads every
row to the longest and takes a full-vocabulary log-softmax. Here each example is one
row `[prompt, r0, r1, ..., original]`:
  - a block attention mask lets every response see the prompt and its own earlier
    tokens only, and position ids restart after the prompt for each response, so
    each response is computed exactly as if it followed the prompt alone;
  - the prompt is encoded once; rows of a micro-batch are padded only to the longest
    packed row (one row per example, no per-response padding);
  - target log-probs are `logit[target] - logsumexp(logits)` over chunks of
    positions, each chunk recomputed in backward, so neither full logits nor a
    log-softmax over the vocabulary is ever held for the whole sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from tuna.errors import TunaError
from tuna.train.data import Example

PROMPT, PADDING = 0, -1  # segment ids; response k of a row has segment k + 1


@dataclass
class Packed:
    """A micro-batch of examples, one packed row each (R rows of length L, T target tokens, S responses)."""

    input_ids: Tensor  # (R, L)
    position_ids: Tensor  # (R, L)
    segments: Tensor  # (R, L) PROMPT, k+1 for response k, PADDING
    predictors: Tensor  # (T,) flat index (row * L + column) of the position predicting each target
    targets: Tensor  # (T,) target token ids
    owners: Tensor  # (T,) response (0..S-1) each target belongs to
    lengths: Tensor  # (S,) tokens per response
    candidates: Tensor  # (B, N) response index of each candidate, best first
    original: Tensor | None  # (B,) response index of each original response

    def inputs(self, device) -> dict:
        """Keyword arguments of ResponseScorer.forward, on `device`."""
        names = ("input_ids", "position_ids", "segments", "predictors", "targets", "owners")
        return {name: getattr(self, name).to(device) for name in names} | {"n_responses": len(self.lengths)}


def pack(examples: list[Example]) -> Packed:
    """Lay out each example as [prompt, r0, r1, ...] with per-response positions and targets."""
    width = max(len(e.prompt) + sum(map(len, e.responses)) for e in examples)
    rows = len(examples)
    input_ids = torch.zeros(rows, width, dtype=torch.long)
    position_ids = torch.zeros(rows, width, dtype=torch.long)
    segments = torch.full((rows, width), PADDING, dtype=torch.long)
    predictors, targets, owners, lengths = [], [], [], []
    for row, example in enumerate(examples):
        p = len(example.prompt)
        input_ids[row, :p] = torch.tensor(example.prompt)
        position_ids[row, :p] = torch.arange(p)
        segments[row, :p] = PROMPT
        start = p
        for k, response in enumerate(example.responses):
            n = len(response)
            input_ids[row, start:start + n] = torch.tensor(response)
            position_ids[row, start:start + n] = torch.arange(p, p + n)
            segments[row, start:start + n] = k + 1
            # The last prompt token predicts the first response token; then each token the next.
            predictors.append(row * width + torch.tensor([p - 1] + list(range(start, start + n - 1))))
            targets.append(torch.tensor(response))
            owners.append(torch.full((n,), len(lengths)))
            lengths.append(n)
            start += n
    first = torch.tensor([0] + [len(e.responses) for e in examples]).cumsum(0)[:-1]
    n_candidates = len(examples[0].candidates)
    has_original = examples[0].original is not None
    return Packed(
        input_ids, position_ids, segments, torch.cat(predictors), torch.cat(targets), torch.cat(owners),
        torch.tensor(lengths), first[:, None] + torch.arange(n_candidates), first + n_candidates if has_original else None,
    )


def attention_bias(segments: Tensor, dtype: torch.dtype) -> Tensor:
    """(R, 1, L, L) additive mask: 0 where query i may see key j, the dtype's minimum elsewhere.

    A token sees earlier tokens of its own segment and the prompt; padding sees itself only.
    """
    query, key = segments[:, :, None], segments[:, None, :]
    length = segments.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=segments.device).tril()
    visible = causal & (key != PADDING) & (query != PADDING) & ((key == query) | (key == PROMPT))
    visible |= torch.eye(length, dtype=torch.bool, device=segments.device)
    bias = torch.zeros(visible.shape, dtype=dtype, device=segments.device)
    return bias.masked_fill_(~visible, torch.finfo(dtype).min)[:, None]


def _target_logprobs(head: nn.Module, hidden: Tensor, targets: Tensor) -> Tensor:
    logits = head(hidden).float()
    return logits.gather(1, targets[:, None]).squeeze(1) - logits.logsumexp(1)


class ResponseScorer(nn.Module):
    """A causal LM as a function: packed micro-batch -> summed log-prob of each response (S,)."""

    def __init__(self, model: nn.Module, chunk_size: int = 512):
        super().__init__()
        config = model.config
        if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
            raise TunaError(f"{config.model_type}: models that rescale their logits are not supported by the trainer")
        self.model = model
        self.chunk_size = chunk_size

    def forward(self, input_ids: Tensor, position_ids: Tensor, segments: Tensor, predictors: Tensor,
                targets: Tensor, owners: Tensor, n_responses: int) -> Tensor:
        dtype = self.model.get_input_embeddings().weight.dtype
        hidden = self.model.base_model(
            input_ids=input_ids, position_ids=position_ids, attention_mask=attention_bias(segments, dtype),
            use_cache=False,
        ).last_hidden_state
        hidden = hidden.reshape(-1, hidden.shape[-1]).index_select(0, predictors)
        head = partial(_target_logprobs, self.model.get_output_embeddings())
        chunks = []
        for start in range(0, len(targets), self.chunk_size):
            args = (hidden[start:start + self.chunk_size], targets[start:start + self.chunk_size])
            chunks.append(checkpoint(head, *args, use_reentrant=False) if torch.is_grad_enabled() else head(*args))
        token_logprobs = torch.cat(chunks)
        return token_logprobs.new_zeros(n_responses).index_add_(0, owners, token_logprobs)


def enable_activation_checkpointing(model: nn.Module) -> None:
    """Recompute each decoder layer in backward (transformers 5 name, 4.x fallback)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
