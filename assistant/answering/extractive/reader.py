"""The reader: a model that reads a question together with one sentence and scores whether the sentence gives what
the question asks. It reads the scorer's likeliest sentences again (`reread`): their probabilities then weigh the
scorer's and the reader's views together, and the gate reads the reader's best score (its `reader` column).

Features of words and likeness cannot tell a near-topic trap ("Which coroner held the inquest?" over a story that
never names the coroner) from an answerable question: both have a story about the right people. A cross-encoder
(ingest/cross_encoder.py) sees the question and the sentence at once; reader.safetensors holds its weights as fitted
on dev by eval/fit_reader.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ...ingest.cross_encoder import CrossEncoder

READER = Path(__file__).with_name("reader.safetensors")
READ = 4  # the likeliest sentences read again (out of fold on dev 4,235, three seeds: 4, 6 and 8 gave 854, 816, 843)
NO_READING = -10.0  # the score of no sentence at all
READING = ("logit", "reader")  # what the second look reads of a sentence: the scorer's log-odds, the reader's score


class Reader(CrossEncoder):
    """The shipped reader (the cross-encoder over READER's weights, or another's at `path`)."""

    def __init__(self, path: Path = READER, cache_dir: Path | None = None):
        super().__init__(path, cache_dir)


def reread(probs: np.ndarray, score: Callable[[list[int]], np.ndarray], second) -> tuple[np.ndarray, float]:
    """The READ sentences the scorer finds likeliest, read again: their probability from the scorer's and the
    reader's together (`second`, a model over READING fitted by eval/fit_extractive.py), every other sentence's 0;
    and the reader's best score of them (NO_READING when there is no sentence). `score` gives the reader's scores of
    the sentences at the indices it is given."""
    top = likeliest(probs)
    out = np.zeros(len(probs))
    if not top:
        return out, NO_READING
    scores = np.asarray(score(top), dtype=float)
    out[top] = second.probability(np.c_[log_odds(probs[top]), scores]) * (probs[top] > 0)
    return out, float(scores.max())


def likeliest(probs: np.ndarray) -> list[int]:
    """The indices of the READ likeliest sentences, the likeliest first (the earlier on a tie)."""
    return [int(i) for i in np.argsort(-probs, kind="stable")[:READ]]


def log_odds(probs: np.ndarray) -> np.ndarray:
    """The scorer's probabilities as the second look reads them (READING's "logit")."""
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
