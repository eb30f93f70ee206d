"""Training: the Tuna objective (Eq. 4-6) and plain instruction tuning (Eq. 2).

`data` turns ranked jsonl into token ids (with the bad-data rules), `forward`
scores all responses of an example in one shared-prompt packed forward, `ranks`
holds the ragged ranking of a micro-batch (any number of candidates per example,
ties, the ranked pairs), `loss` is the objective on those per-response log-probs,
and `trainer` runs the optimisation on plain torch (CPU or one GPU) or DeepSpeed
(many GPUs).
"""
