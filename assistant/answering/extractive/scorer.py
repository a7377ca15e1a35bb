"""The fitted models: a sentence scorer (how likely a sentence holds the answer) and a gate (whether the articles
answer the question at all, in two steps: whether they are about it, and whether they give what it asks). All are
logistic regressions fitted by eval/fit_extractive.py into model.json."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ...retrieve.query import Query
from .candidates import Candidate
from .features import FEATURES, GATE_FEATURES, stories_naming

MODEL = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over standardised features."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-z))

    @classmethod
    def from_dict(cls, d: dict, expected: tuple[str, ...]) -> "Logistic":
        if tuple(d["names"]) != expected:
            raise ValueError(f"{MODEL} was fitted on features {d['names']}, the code computes {list(expected)}: "
                             "refit it with `python eval/fit_extractive.py` (see its docstring)")
        return cls(tuple(d["names"]), *(np.array(d[k], dtype=float) for k in ("mean", "scale", "coef")),
                   float(d["intercept"]))


@dataclass(frozen=True)
class Model:
    sentences: Logistic
    gate: Logistic  # do the articles give what the question asks (fitted against near-topic questions) ...
    answer_at: float  # ... from this probability
    topic_gate: Logistic  # are the articles about the question at all (fitted against off-topic questions) ...
    topic_at: float  # ... from this probability
    keep_ratio: float  # a further sentence is said when its probability is this share of the best one's ...
    one_story: bool  # ... and only from the best one's story
    # kinds whose answer is given by a sentence of that kind ('kind': a figure, a date), or one with it next to a
    # word of the question ('near': "2,000 staff" for "how many staff"); SPEAKER ('story'): someone's words asked for
    # come from a story that names them
    strict_kinds: dict[str, str]


SPEAKER = "speaker"  # the strict_kinds entry of questions that ask someone's words


def strict_factor(query: Query, cands: Sequence[Candidate], feats: np.ndarray,
                  strict_kinds: dict[str, str]) -> np.ndarray:
    """1 for each candidate that can answer the question at all, else 0: one that gives the kind asked for when that
    kind is strict, and one from a story that names the people whose words are asked for when SPEAKER is."""
    out = np.ones(len(cands))
    if query.kind_name in strict_kinds:
        out *= feats[:, FEATURES.index(strict_kinds[query.kind_name])]
    if query.speakers and SPEAKER in strict_kinds:
        naming = stories_naming(query.speakers, cands)
        out *= np.array([c.run in naming for c in cands], dtype=float)
    return out


@lru_cache(maxsize=1)
def load(path: Path = MODEL) -> Model:
    d = json.loads(path.read_text(encoding="utf-8"))
    return Model(Logistic.from_dict(d["sentences"], FEATURES), Logistic.from_dict(d["gate"], GATE_FEATURES),
                 float(d["answer_at"]), Logistic.from_dict(d["topic_gate"], GATE_FEATURES), float(d["topic_at"]),
                 float(d["keep_ratio"]), bool(d["one_story"]), dict(d["strict_kinds"]))
