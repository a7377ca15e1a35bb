"""Does a passage carry a claim an LLM cited it for? A fitted logistic regression (grounding.json) over what the claim
shares with the passage (pure, apart from embedding).

A share of the passage's words was not enough: a small model made to cite wrote sentences of a passage's own words
that the passage never says ("85 jobs will go to Verhaeghe, but ... Verhaeghe will not be able to cut any jobs [1]").
The features: how many of the claim's words the passage has, whether those words come together in one sentence of
it, how many words the claim adds, the claim's length, and how close its meaning is to the passage's nearest
sentence. eval/fit_grounding.py fits the model and its threshold, out of fold by question, on the cited claims of
real replies (a capable model's and SmolLM2's) labelled supported or not (eval/claims/). It does not catch a fluent
sentence made of one passage's own words that the passage does not say; see docs/quality.md.
"""
from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from itertools import combinations
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..text.sentences import sentences
from ..text.words import content_words_in_order, stem
from .extractive.scorer import fitted

MODEL = Path(__file__).with_name("grounding.json")
FEATURES = ("overlap", "together", "added", "length", "meaning")


def sentences_of(text: str) -> list[str]:
    return sentences(text) or [text]


def features(claim: str, sentences: Sequence[str], claim_vector: np.ndarray, sentence_vectors: np.ndarray
             ) -> np.ndarray:
    """The claim's features against a passage's sentences (and their unit vectors), in FEATURES' order."""
    words = list(dict.fromkeys(stem(w) for w in content_words_in_order(claim)))
    per_sentence = [{stem(w) for w in content_words_in_order(s)} for s in sentences]
    passage = set().union(*per_sentence)
    found = [w for w in words if w in passage]
    pairs = list(combinations(found, 2))
    together = sum(any(a in s and b in s for s in per_sentence) for a, b in pairs) / len(pairs) if pairs else 1.0
    n = max(len(words), 1)
    meaning = float((sentence_vectors @ claim_vector).max()) if len(sentence_vectors) else 0.0
    return np.array([len(found) / n, together, n - len(found), math.log(n), meaning])


class Grounding:
    """`probability(claim, text)`: how likely the passage `text` carries the claim; `holds` compares it with the fitted
    threshold. `embed` turns texts into unit vectors (the index's embedding model); the vectors of the last claims and
    passages are kept for the next check that needs them."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], path: Path = MODEL):
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        self.model = fitted(saved, FEATURES, path, "python eval/fit_grounding.py")
        self.threshold = float(saved["threshold"])
        self.embed = embed
        self._vectors: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def probability(self, claim: str, text: str) -> float:
        sentences, vectors = self._cached(("passage", text), lambda: _embedded(sentences_of(text), self.embed))
        claim_vector = self._cached(("claim", claim), lambda: self.embed([claim])[0])
        return float(self.model.probability(features(claim, sentences, claim_vector, vectors)))

    def holds(self, claim: str, text: str) -> bool:
        return self.probability(claim, text) >= self.threshold

    def _cached(self, key: tuple[str, str], make: Callable[[], object]):
        """A claim's vector, or a passage's sentences with theirs: a claim is checked against every passage it cites
        (and, left uncited, against every passage), a passage against every claim that cites it."""
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        value = make()
        with self._lock:
            self._vectors[key] = value
            if len(self._vectors) > 256:
                self._vectors.popitem(last=False)
        return value


def _embedded(sentences: list[str], embed: Callable[[Sequence[str]], np.ndarray]) -> tuple[list[str], np.ndarray]:
    return sentences, embed(sentences)
