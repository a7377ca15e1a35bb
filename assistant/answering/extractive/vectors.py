"""The vectors of an answer's candidate sentences: stored at ingest when the passage carries them, else embedded."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from ...text.sentences import split_sentences
from ...types import Passage
from .candidates import Candidate


def candidate_vectors(cands: Sequence[Candidate], passages: Sequence[Passage],
                      embed: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """A unit vector per candidate, in order. A passage's stored rows are used only when they line up with the
    sentences of its text (a trimmed or edited passage has other sentences); the rest are embedded in one batch."""
    usable: dict[int, np.ndarray | None] = {}
    rows: list[np.ndarray | None] = []
    for c in cands:
        if c.passage not in usable:
            stored = passages[c.passage].sentence_vectors
            aligned = stored is not None and len(stored) == len(split_sentences(passages[c.passage].text))
            usable[c.passage] = stored if aligned else None
        stored = usable[c.passage]
        rows.append(None if stored is None else stored[c.position])
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        for i, vector in zip(missing, embed([cands[i].text for i in missing])):
            rows[i] = vector
    return np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), dtype=np.float32)


def with_meaning(passages: Sequence[Passage], cands: Sequence[Candidate], vectors: np.ndarray,
                 question: np.ndarray) -> list[Passage]:
    """Passages that keyword search alone found (an index read without its vector store) carry no dense score: each
    gets the cosine to the question of its sentences' mean vector, weighted by their words, which is close to its
    chunk's own (a chunk's vector is the mean of its word pieces). Passages that have scores are returned as they
    are."""
    if any(p.dense for p in passages):
        return list(passages)
    sums = np.zeros((len(passages), vectors.shape[1] if vectors.size else len(question)), dtype=np.float32)
    for c, v in zip(cands, vectors):
        sums[c.passage] += c.words * v
    norms = np.linalg.norm(sums, axis=1)
    return [replace(p, dense=float(s @ question / n) if n else 0.0) for p, s, n in zip(passages, sums, norms)]
