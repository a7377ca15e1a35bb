"""The fitted models: a sentence scorer (how likely a sentence holds the answer), its second look with the reader
(reader.reread), and a gate (whether the articles answer the question at all, in two steps: whether they are about
it, and whether they give what it asks). The scorer, the second look and the topic gate are logistic regressions,
the answer gate boosted trees; eval/fit_extractive.py fits them all into model.json (the reader's own weights are
fitted by eval/fit_reader.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import FEATURES, GATE_FEATURES
from .reader import READING

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


@dataclass(frozen=True)
class Trees:
    """Boosted regression trees over the raw features: the probability is the logistic of `base` plus one leaf value
    per tree. model.json holds a tree as one row per node: feature, threshold, left, right, value; a node whose left
    is 0 is a leaf, and a row goes left when its feature is at most the threshold. Here all trees' nodes are in one
    array, so every tree is walked at once."""

    names: tuple[str, ...]
    base: float
    nodes: np.ndarray  # feature, threshold, left, right, value; left and right index this array, left -1: a leaf
    roots: np.ndarray

    @classmethod
    def from_lists(cls, names: tuple[str, ...], base: float, trees: list[list[list[float]]]) -> "Trees":
        roots = np.cumsum([0] + [len(t) for t in trees[:-1]])
        nodes = np.vstack([np.array(t, dtype=float) + [0, 0, root, root, 0] for t, root in zip(trees, roots)])
        nodes[nodes[:, 2] == roots.repeat([len(t) for t in trees]), 2] = -1  # a left of 0 (the tree's root): a leaf
        return cls(names, base, nodes, roots)

    def probability(self, x: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(x)
        node = np.tile(self.roots, (len(X), 1))
        feature, threshold, left, right = (self.nodes[:, k] for k in range(4))
        while (inner := left[node] >= 0).any():
            goes_left = np.take_along_axis(X, feature[node].astype(int), axis=1) <= threshold[node]
            node = np.where(inner, np.where(goes_left, left[node], right[node]).astype(int), node)
        p = 1 / (1 + np.exp(-(self.base + self.nodes[node, 4].sum(axis=1))))
        return p if np.ndim(x) == 2 else p[0]


def fitted(d: dict, expected: tuple[str, ...], path: Path = MODEL,
           refit: str = "python eval/fit_extractive.py") -> Logistic | Trees:
    """A model read from `path` (model.json by default): trees when it has them, else a logistic regression; its
    features must be `expected`, or the error says to run `refit`."""
    if tuple(d["names"]) != expected:
        raise ValueError(f"{path} was fitted on features {d['names']}, the code computes {list(expected)}: "
                         f"refit it with `{refit}` (see its docstring)")
    if "trees" in d:
        return Trees.from_lists(tuple(d["names"]), float(d["base"]), d["trees"])
    return Logistic(tuple(d["names"]), *(np.array(d[k], dtype=float) for k in ("mean", "scale", "coef")),
                    float(d["intercept"]))


@dataclass(frozen=True)
class Model:
    sentences: Logistic
    reread: Logistic  # the likeliest sentences' probability, from the scorer's and the reader's (reader.reread)
    gate: Logistic | Trees  # do the articles give what the question asks (fitted against near-topic questions) ...
    answer_at: float  # ... from this probability
    topic_gate: Logistic  # are the articles about the question at all (fitted against off-topic questions) ...
    topic_at: float  # ... from this probability
    keep_ratio: float  # a further sentence is said when its probability is this share of the best one's ...
    one_story: bool  # ... and only from the best one's story


@lru_cache(maxsize=1)
def load(path: Path = MODEL) -> Model:
    d = json.loads(path.read_text(encoding="utf-8"))
    return Model(fitted(d["sentences"], FEATURES), fitted(d["reread"], READING), fitted(d["gate"], GATE_FEATURES),
                 float(d["answer_at"]), fitted(d["topic_gate"], GATE_FEATURES), float(d["topic_at"]),
                 float(d["keep_ratio"]), bool(d["one_story"]))
