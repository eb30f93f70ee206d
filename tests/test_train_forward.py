"""The shared-prompt packed forward equals separate unshared forwards (values and gradients)."""

import copy

import pytest
import torch
from tiny_llama import tiny_llama

from tuna.train.data import Example
from tuna.train.forward import ResponseScorer, enable_activation_checkpointing, pack


def make_examples(generator):
    def ids(n):
        return torch.randint(3, 400, (n,), generator=generator).tolist()

    # Different prompt lengths, candidate counts and response lengths (1 token = EOS only, up to 17).
    return [
        Example("a", ids(7), [ids(5), ids(17), ids(1)], ids(9)),
        Example("b", ids(12), [ids(3), ids(8)], ids(2)),
    ]


def unshared_logprobs(model, example):
    """The obvious computation: each response after its own copy of the prompt, full log-softmax."""
    sums = []
    for response in example.responses:
        sequence = torch.tensor([example.prompt + response])
        logprobs = model(input_ids=sequence).logits[0, :-1].log_softmax(-1)
        picked = logprobs[len(example.prompt) - 1:].gather(1, sequence[0, len(example.prompt):, None])
        sums.append(picked.sum())
    return torch.stack(sums)


@pytest.mark.parametrize("gradient_checkpointing", [False, True])
def test_packed_equals_unshared_values_and_gradients(gradient_checkpointing):
    model = tiny_llama(seed=1)
    if gradient_checkpointing:
        enable_activation_checkpointing(model)
    model.train()
    stock = copy.deepcopy(model)  # transformers' own SDPA attention, untouched by the scorer
    examples = make_examples(torch.Generator().manual_seed(0))
    packed = pack(examples)
    scorer = ResponseScorer(model, chunk_size=5)  # several chunks, one ragged
    packed_sums = scorer(**packed.inputs("cpu"))
    weights = torch.linspace(0.5, 2.0, len(packed_sums))
    (packed_sums * weights).sum().backward()
    packed_grads = [p.grad for p in model.parameters()]

    reference = torch.cat([unshared_logprobs(stock, e) for e in examples])
    (reference * weights).sum().backward()
    torch.testing.assert_close(packed_sums, reference, atol=1e-5, rtol=1e-5)
    for packed_grad, param in zip(packed_grads, stock.parameters(), strict=True):
        torch.testing.assert_close(packed_grad, param.grad, atol=1e-5, rtol=1e-4)


def test_pack_layout_indexes_ragged_candidates_and_originals():
    packed = pack([Example("a", [5, 6], [[7], [8, 9]], [10]),
                   Example("b", [3], [[4, 4], [5], [6]], [6, 6, 6], ranks=[0, 1, 1])])
    assert packed.input_ids.tolist() == [[5, 6, 7, 8, 9, 10, 0, 0], [3, 4, 4, 5, 6, 6, 6, 6]]
    assert packed.position_ids.tolist() == [[0, 1, 2, 2, 3, 2, 0, 0], [0, 1, 2, 1, 1, 1, 2, 3]]
    assert packed.blocks == [(2, [(2, 3), (3, 5), (5, 6)]), (1, [(1, 3), (3, 4), (4, 5), (5, 8)])]
    assert packed.lengths.tolist() == [1, 2, 1, 2, 1, 1, 3]
    assert packed.candidates.tolist() == [0, 1, 3, 4, 5]
    assert packed.original.tolist() == [2, 6]
    assert packed.ranks.example.tolist() == [0, 0, 1, 1, 1] and packed.ranks.rank.tolist() == [0, 1, 0, 1, 1]
    assert packed.ranks.pairs.tolist() == [[0, 1], [2, 3], [2, 4]]  # b's two tied candidates form no pair
    # The last prompt token predicts each response's first token; row b starts at flat index 8.
    assert packed.predictors.tolist() == [1, 1, 3, 1, 8, 9, 8, 8, 8, 13, 14]
    assert packed.targets.tolist() == [7, 8, 9, 10, 4, 4, 5, 6, 6, 6, 6]
    assert packed.owners.tolist() == [0, 1, 1, 2, 3, 3, 4, 5, 6, 6, 6]
    sums = torch.arange(7.0)
    inputs = packed.loss_inputs(sums)
    assert inputs["logps"].tolist() == [0, 1, 3, 4, 5] and inputs["lengths"].tolist() == [1, 2, 2, 1, 1]
    assert inputs["original_logps"].tolist() == [2, 6] and inputs["original_lengths"].tolist() == [1, 3]
    assert pack([Example("c", [1], [[2], [3]], None)]).loss_inputs(sums[:2])["original_logps"] is None


def test_the_scorer_leaves_plain_calls_causal():
    """With the shared-prompt attention installed, ordinary forwards (generation, eval) are unchanged."""
    model = tiny_llama(seed=2)
    stock = copy.deepcopy(model)
    ResponseScorer(model)
    ids = torch.randint(3, 400, (2, 9), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model(input_ids=ids).logits, stock(input_ids=ids).logits)
