"""Shared-prompt forward: all responses of an example scored in one packed sequence.

The obvious implementation repeats the prompt in each of the N+1 rows, pads every
row to the longest and takes a full-vocabulary log-softmax. Here each example is one
row `[prompt, r0, r1, ..., original]`, with as many candidates as it has (the losses see
them ragged: tuna.train.ranks):
  - every response sees the prompt and its own earlier tokens only (a block mask), and
    position ids restart after the prompt for each response, so each response is
    computed exactly as if it followed the prompt alone;
  - attention is computed block by block (an attention function registered with
    transformers as "tuna_shared_prompt"): the prompt causally, then each response
    against [prompt, itself], so the masked-out cross-response blocks of the packed
    row cost nothing;
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
from tuna.train.ranks import Ranks

ATTENTION = "tuna_shared_prompt"


@dataclass
class Packed:
    """A micro-batch of B examples, one packed row each (R = B rows of length L, T target tokens,
    S responses, C candidates: any number per example)."""

    input_ids: Tensor  # (R, L)
    position_ids: Tensor  # (R, L)
    blocks: list[tuple[int, list[tuple[int, int]]]]  # per row: prompt length, [start, end) of each response
    predictors: Tensor  # (T,) flat index (row * L + column) of the position predicting each target
    targets: Tensor  # (T,) target token ids
    owners: Tensor  # (T,) response (0..S-1) each target belongs to
    lengths: Tensor  # (S,) tokens per response
    candidates: Tensor  # (C,) response index of each candidate, example by example, best first
    ranks: Ranks  # the candidates' examples, rank groups and ranked pairs
    original: Tensor | None  # (B,) response index of each original response
    reference: Tensor | None = None  # (C,) the candidates' summed log-probs under the frozen reference (DPO)

    def inputs(self, device) -> dict:
        """Keyword arguments of ResponseScorer.forward, on `device`."""
        names = ("input_ids", "position_ids", "predictors", "targets", "owners")
        return {name: getattr(self, name).to(device) for name in names} | {
            "blocks": self.blocks, "n_responses": len(self.lengths)}

    def loss_inputs(self, sums: Tensor) -> dict:
        """Keyword arguments of TunaLoss.forward from the scorer's summed log-probs (S,)."""
        has_original = self.original is not None
        return {"logps": sums[self.candidates], "lengths": self.lengths[self.candidates], "ranks": self.ranks,
                "original_logps": sums[self.original] if has_original else None,
                "original_lengths": self.lengths[self.original] if has_original else None,
                "reference_logps": self.reference}


def pack(examples: list[Example]) -> Packed:
    """Lay out each example as [prompt, r0, r1, ..., original] with per-response positions and targets."""
    width = max(len(e.prompt) + sum(map(len, e.responses)) for e in examples)
    rows = len(examples)
    input_ids = torch.zeros(rows, width, dtype=torch.long)
    position_ids = torch.zeros(rows, width, dtype=torch.long)
    blocks, predictors, targets, owners, lengths, candidates, original = [], [], [], [], [], [], []
    for row, example in enumerate(examples):
        p = len(example.prompt)
        input_ids[row, :p] = torch.tensor(example.prompt)
        position_ids[row, :p] = torch.arange(p)
        blocks.append((p, []))
        candidates += range(len(lengths), len(lengths) + len(example.candidates))
        if example.original is not None:
            original.append(len(lengths) + len(example.candidates))
        start = p
        for response in example.responses:
            n = len(response)
            input_ids[row, start:start + n] = torch.tensor(response)
            position_ids[row, start:start + n] = torch.arange(p, p + n)
            blocks[-1][1].append((start, start + n))
            # The last prompt token predicts the first response token; then each token the next.
            predictors.append(row * width + torch.tensor([p - 1] + list(range(start, start + n - 1))))
            targets.append(torch.tensor(response))
            owners.append(torch.full((n,), len(lengths)))
            lengths.append(n)
            start += n
    if original and len(original) != rows:
        raise ValueError("pack: every example or none has an original response")
    references = [e.reference for e in examples if e.reference is not None]
    if references and len(references) != rows:
        raise ValueError("pack: every example or none has reference log-probs")
    return Packed(
        input_ids, position_ids, blocks, torch.cat(predictors), torch.cat(targets), torch.cat(owners),
        torch.tensor(lengths), torch.tensor(candidates, dtype=torch.long), Ranks.of([e.ranks for e in examples]),
        torch.tensor(original) if original else None,
        torch.tensor([x for r in references for x in r], dtype=torch.float32) if references else None,
    )


def shared_prompt_attention(module: nn.Module, query: Tensor, key: Tensor, value: Tensor,
                            attention_mask: Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                            shared_prompt_blocks=None, **kwargs) -> tuple[Tensor, None]:
    """Attention of packed rows, block by block; plain causal SDPA when called without blocks.

    query: (R, H, L, D); key, value: (R, KV, L, D) -> (R, L, H, D), as transformers expects.
    """
    if shared_prompt_blocks is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    attend = partial(torch.nn.functional.scaled_dot_product_attention, dropout_p=dropout, scale=scaling,
                     enable_gqa=query.shape[1] != key.shape[1])
    rows = []
    for row, (p, spans) in enumerate(shared_prompt_blocks):
        # (1, heads, length, dim) slices: 4-D inputs keep SDPA on its fused CPU/GPU kernels.
        q, k, v = query[row:row + 1], key[row:row + 1], value[row:row + 1]
        pieces = [attend(q[:, :, :p], k[:, :, :p], v[:, :, :p], is_causal=True)]
        for start, end in spans:
            n = end - start
            visible = torch.ones(n, p + n, dtype=torch.bool, device=q.device)
            visible[:, p:] = torch.ones(n, n, dtype=torch.bool, device=q.device).tril()
            keys = torch.cat([k[:, :, :p], k[:, :, start:end]], 2)
            values = torch.cat([v[:, :, :p], v[:, :, start:end]], 2)
            pieces.append(attend(q[:, :, start:end], keys, values, attn_mask=visible))
        pieces = torch.cat(pieces, 2)
        rows.append(torch.nn.functional.pad(pieces, (0, 0, 0, query.shape[2] - pieces.shape[2])))  # row padding
    return torch.cat(rows).transpose(1, 2).contiguous(), None


def use_shared_prompt_attention(model: nn.Module) -> None:
    """Make `model` (a causal LM or its backbone) attend block by block when called with
    `shared_prompt_blocks`, and as plain causal SDPA otherwise."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    if not getattr(model, "_supports_attention_backend", False):
        raise TunaError(f"{model.config.model_type}: the trainer needs a model that takes transformers' attention "
                        "functions (llama, mistral, qwen2, gpt2, ...)")
    AttentionInterface.register(ATTENTION, shared_prompt_attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # plain calls get SDPA's causal mask
    model.set_attn_implementation(ATTENTION)


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
        use_shared_prompt_attention(model)
        self.model = model
        self.chunk_size = chunk_size

    def forward(self, input_ids: Tensor, position_ids: Tensor, blocks: list, predictors: Tensor,
                targets: Tensor, owners: Tensor, n_responses: int) -> Tensor:
        hidden = self.model.base_model(
            input_ids=input_ids, position_ids=position_ids, use_cache=False,
            shared_prompt_blocks=blocks,
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
