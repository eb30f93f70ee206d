"""BERTScore (Zhang et al., 2020) of Super-NI answers, beside ROUGE-L (the paper's Table 11).

Computed by the `bert-score` package. The model is configurable: the paper used
bert-score's English default, roberta-large with the representation of layer 17
(downloaded from the Hugging Face hub on first use); any local transformers
directory works too, with its layer given explicitly. No idf weighting, no baseline
rescaling (bert-score's defaults). An instance with several references takes
bert-score's best over them (precision, recall and F1 each), as ROUGE-L takes its best;
an empty answer scores 0, as bert-score scores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuna.errors import TunaError


@dataclass(frozen=True)
class BertScoreModel:
    name: str  # a hub model id bert-score knows, or a local transformers directory
    layers: int | None = None  # representation layer; None: bert-score's tuned layer for a known name
    batch_size: int = 32


def instance_scores(predictions: Sequence[str], references: Sequence[Sequence[str]],
                    model: BertScoreModel) -> list[tuple[float, float, float]]:
    """(precision, recall, F1) of each prediction, best over its references, in [0, 1]."""
    from bert_score import BERTScorer
    from bert_score.utils import model2layers

    if model.layers is None and model.name not in model2layers:
        raise TunaError(f"BERTScore model {model.name!r}: give its layer (--bertscore-layers); bert-score only "
                        "knows the layers of the hub models it was tuned on")
    # bert-score scores an empty text 0; its own code path for one fails on transformers 5
    # (no build_inputs_with_special_tokens), so empty texts are scored 0 here.
    scored = [i for i, (p, refs) in enumerate(zip(predictions, references, strict=True))
              if p.strip() and any(r.strip() for r in refs)]
    scores = [(0.0, 0.0, 0.0)] * len(predictions)
    if not scored:
        return scores
    try:
        scorer = BERTScorer(model_type=model.name, num_layers=model.layers, batch_size=model.batch_size)
    except (OSError, ValueError) as exc:
        raise TunaError(f"BERTScore model {model.name!r} cannot be loaded ({exc})") from exc
    precision, recall, f1 = scorer.score([predictions[i] for i in scored],
                                         [[r for r in references[i] if r.strip()] for i in scored],
                                         batch_size=model.batch_size)
    for i, values in zip(scored, zip(precision.tolist(), recall.tolist(), f1.tolist(), strict=True), strict=True):
        scores[i] = values
    return scores


def aggregate(scores: Sequence[tuple[float, float, float]]) -> dict:
    """Mean precision, recall and F1 x 100, rounded as the ROUGE-L means (4 places)."""
    n = len(scores)
    return {name: round(100.0 * sum(s[i] for s in scores) / n, 4) if n else 0.0
            for i, name in enumerate(("precision", "recall", "f1"))}
