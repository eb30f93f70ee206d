"""ROUGE-L with exactly the scores of `rouge_score` (Google's package), but fast.

Self-sampling compares every pair of a model's responses (Sec. 2.3, tau = 0.8) and the
Super-NaturalInstructions evaluation scores every prediction against its references;
`rouge_score` re-tokenizes both texts for every pair and fills its LCS table in pure
Python. Here each text is tokenized once, with `rouge_score`'s own tokenizer (so its
lowercasing, non-alphanumeric splitting and Porter stemming are the same by
construction), tokens become integer ids, and rapidfuzz computes the LCS in C.
Precision, recall and F1 follow `rouge_score`'s formulas operation by operation, so
the floats are identical, not merely close.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from nltk.stem import porter
from rapidfuzz.distance import LCSseq
from rouge_score import scoring, tokenize
from rouge_score.scoring import Score

__all__ = ["RougeL", "Score"]


class _MemoStemmer:
    """nltk's Porter stemmer (as `rouge_score` uses it) remembering its answers.

    Stemming dominates tokenization time and a corpus repeats its words endlessly.
    """

    def __init__(self, max_words: int = 1 << 18):
        self.stem = functools.lru_cache(maxsize=max_words)(porter.PorterStemmer().stem)


class RougeL:
    """ROUGE-L scorer: `RougeL(use_stemmer).score(target, prediction)` equals
    `RougeScorer(["rougeL"], use_stemmer).score(target, prediction)["rougeL"]`."""

    def __init__(self, use_stemmer: bool = False):
        self._stemmer = _MemoStemmer() if use_stemmer else None
        self._ids: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        """The text's ROUGE tokens as integer ids (stable for this scorer's lifetime)."""
        ids = self._ids
        return [ids.setdefault(token, len(ids)) for token in tokenize.tokenize(text, self._stemmer)]

    @staticmethod
    def score_ids(target: Sequence[int], prediction: Sequence[int]) -> Score:
        """ROUGE-L of two encoded texts (the hot path when texts are compared many times)."""
        if not target or not prediction:
            return Score(precision=0, recall=0, fmeasure=0)
        lcs = LCSseq.similarity(target, prediction)
        precision = lcs / len(prediction)
        recall = lcs / len(target)
        return Score(precision=precision, recall=recall, fmeasure=scoring.fmeasure(precision, recall))

    def score(self, target: str, prediction: str) -> Score:
        return self.score_ids(self.encode(target), self.encode(prediction))

    def score_multi(self, targets: Sequence[str], prediction: str) -> Score:
        """Score against the best of several references (highest F1, first on ties),
        as `RougeScorer.score_multi` does for Super-NaturalInstructions."""
        if not targets:
            raise ValueError("score_multi needs at least one reference")
        predicted = self.encode(prediction)
        return max((self.score_ids(self.encode(t), predicted) for t in targets), key=lambda s: s.fmeasure)

    def pairwise_f1(self, texts: Sequence[str]) -> list[list[float]]:
        """Symmetric matrix of ROUGE-L F1 between every two texts (diagonal: self-similarity)."""
        encoded = [self.encode(text) for text in texts]
        matrix = [[0.0] * len(texts) for _ in texts]
        for i, first in enumerate(encoded):
            for j in range(i, len(encoded)):
                # F1 is symmetric bit for bit: 2*p*r and p+r do not depend on the order.
                matrix[i][j] = matrix[j][i] = float(self.score_ids(first, encoded[j]).fmeasure)
        return matrix
