"""The offline answerer: the retrieved sentences most likely to answer, each with its [n], or "the articles don't
say". Stages, each its own module: the question's `Query` (retrieve/query.py) -> candidates -> features -> the
fitted scorer (scorer.py, model.json) -> its likeliest sentences read again with the question (reader.py) -> the
fitted gate -> selection and composition (select.py)."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Collection, Iterator, Sequence

import numpy as np

from ...ingest.embedder import vocabulary
from ...retrieve.query import Query, analyse
from ...types import Passage
from ..citations import NOT_FOUND, NOT_SAID
from .candidates import Candidate, candidates
from .features import Idf, from_named_story, gate_features, sentence_features, term_weights
from .reader import Reader, reread
from .scorer import Model, load
from .select import choose, compose, reading_order
from .vectors import candidate_vectors, with_meaning

__all__ = ["ExtractiveAnswerer", "Reading", "part_queries", "read"]
# each part of a question is answered in at most this many words ...
MAX_WORDS = 80
MAX_SENTENCES = 3  # ... and sentences: a question of two parts asks two questions


class Reading:
    """One question part read against the candidates: each sentence's probability of answering it, and whether the
    articles answer it at all; when they do not, `why` says so."""

    def __init__(self, query: Query, cands: Sequence[Candidate], sims: np.ndarray, passages: Sequence[Passage],
                 idf: Idf | None, model: Model, known: Collection[str], reader: Reader):
        self.query = query
        self.weights = term_weights(query, cands, idf)
        self.features = sentence_features(query, cands, sims, self.weights)
        probs = model.sentences.probability(self.features) * from_named_story(query, cands)
        self.probs, self.read = reread(probs, lambda top: reader.scores(query.text, [cands[i].text for i in top]),
                                       model.reread)
        self.gate_row = gate_features(query, cands, self.features, self.probs, self.weights, passages, known,
                                      self.read)
        self.chance = float(model.gate.probability(self.gate_row))
        self.topic = float(model.topic_gate.probability(self.gate_row))
        self.why = ""
        if query.speakers and not self.probs.any():  # someone's words are asked for, and no story names them
            self.why = f"no story names {' and '.join(query.speakers)}"
        elif self.topic < model.topic_at:
            self.why = f"the articles are not about it (their likeness to it scores {self.topic:.2f}; an answer " \
                       f"needs {model.topic_at:.2f})"
        elif self.chance < model.answer_at:
            self.why = f"the closest sentences do not answer it (their confidence scores {self.chance:.2f}; an " \
                       f"answer needs {model.answer_at:.2f})"

    @property
    def answers(self) -> bool:
        return not self.why


def part_queries(query: Query) -> list[Query]:
    """The question's parts, each analysed as a question of its own (the query itself when it has one part)."""
    return [analyse(p) for p in query.parts] if len(query.parts) > 1 else [query]


def read(query: Query, cands: Sequence[Candidate], vectors: np.ndarray, part_vectors: np.ndarray,
         passages: Sequence[Passage], idf: Idf | None, model: Model | None = None,
         known: Collection[str] | None = None, reader: Reader | None = None) -> list[Reading]:
    """A `Reading` of each part of the question (`part_vectors`: one unit vector per part; `known`: the embedding
    model's vocabulary, by default the shipped model's; `reader`: by default the shipped one)."""
    model, known = model or load(), vocabulary() if known is None else known
    reader = reader or shipped_reader()
    return [Reading(q, cands, vectors @ v, with_meaning(passages, cands, vectors, v), idf, model, known, reader)
            for q, v in zip(part_queries(query), part_vectors)]


@lru_cache(maxsize=1)
def shipped_reader() -> Reader:
    """The shipped reader, loaded once per process (on its first question)."""
    return Reader()


class ExtractiveAnswerer:
    """Builds an answer from the passages' own sentences; `embed` turns texts into unit vectors."""

    name = "extractive"

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], idf: Idf | None = None,
                 model: Model | None = None, known: Collection[str] | None = None, reader: Reader | None = None):
        self.embed = embed
        self.idf = idf
        self.model = model or load()
        self.reader = reader or shipped_reader()
        self.known = known  # the words the embedding model knows (None: the shipped model's, see `read`)
        self.why = ""  # after an answer: why (parts of) the question were not answered

    def readings(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None
                 ) -> tuple[list[Candidate], list[Reading]]:
        """The passages' candidate sentences and a `Reading` of each part of the question ([] and [] for none)."""
        cands = candidates(passages)
        if not cands:
            return [], []
        query = analyse(question)
        parts = query.parts
        vectors = candidate_vectors(cands, passages, self.embed)  # stored at ingest, else embedded now
        part_vectors = self.embed(list(parts)) if len(parts) > 1 else \
            np.asarray([query_vector if query_vector is not None else self.embed([question])[0]])
        return cands, read(query, cands, vectors, part_vectors, passages, self.idf, self.model, self.known,
                           self.reader)

    def refuses(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None) -> str:
        """Why the articles answer no part of the question, as the gates judge it; "" when they answer a part."""
        readings = self.readings(question, passages, query_vector)[1]
        if not readings or any(r.answers for r in readings):
            return ""
        return unanswered(readings)

    def sentences(self, question: str, passages: Sequence[Passage],
                  query_vector: np.ndarray | None = None) -> list[str]:
        """The answer as sentences with [n] markers (numbers index `passages` from 1); [] when nothing answers."""
        cands, readings = self.readings(question, passages, query_vector)
        if not cands:
            return []
        picked: list[int] = []
        for r in readings:  # a sentence that answers two parts is said once
            if r.answers:
                picked += [i for i in choose(cands, r.probs, self.model.keep_ratio, MAX_WORDS, MAX_SENTENCES,
                                             bool(r.query.speakers), self.model.one_story) if i not in picked]
        self.why = unanswered(readings)
        if not picked:
            return []
        said = compose(cands, reading_order(cands, picked))
        return said + [not_said(r.query.text) for r in readings if not r.answers]

    def stream(self, question: str, passages: Sequence[Passage],
               query_vector: np.ndarray | None = None) -> Iterator[str]:
        sentences = self.sentences(question, passages, query_vector)
        if not sentences:
            yield NOT_FOUND
            return
        for n, sentence in enumerate(sentences):
            yield ("" if n == 0 else " ") + sentence


def unanswered(readings: Sequence[Reading]) -> str:
    """Why the parts of a question that the articles do not answer are not answered ("" when every part is)."""
    return " ".join(f"The articles don't answer {r.query.text!r}: {r.why}." for r in readings if r.why)


def not_said(part: str) -> str:
    """What an answer says of a part of the question that the articles do not answer."""
    part = part.strip()
    return f"{NOT_SAID} {part[0].lower()}{part[1:]}"
