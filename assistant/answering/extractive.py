"""The offline answerer: picks the retrieved sentences that answer the question, each with its [n]."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from ..chunking import split_sentences
from ..quotes import attributed, mentions_person, resolve
from ..retrieval import asked_speakers
from ..types import Passage
from .citations import NOT_FOUND, content_words

_NUMBER_Q = re.compile(r"\b(how (?:many|much|long|old|big|far|often)|what (?:percentage|proportion|share|number|amount|price|age)|number of|how much)\b", re.I)
_WHEN_Q = re.compile(r"\b(when|what (?:year|date|day|month|time))\b", re.I)
_WHO_Q = re.compile(r"^\s*(who|whom|which (?:company|firm|person|team|club|country|man|woman))\b", re.I)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hundred|thousand|million|billion|half|dozen)\b", re.I)
_DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last (?:week|month|year)|next (?:week|month|year))\b", re.I)
_QUOTE = re.compile(r"[“\"]")
_NOISE = re.compile(r"(?i)(photo:|alt=|click here|subscribe|sign up|newsletter|do you have questions|read more|advertisement|©)")


@dataclass(frozen=True)
class ExtractiveConfig:
    """Weights and thresholds, tuned on eval/dev.jsonl."""

    max_words: int = 80
    max_sentences: int = 3
    semantic_weight: float = 1.0
    lexical_weight: float = 0.6
    rank_weight: float = 0.08
    type_bonus: float = 0.15
    speaker_bonus: float = 0.3
    keep_ratio: float = 0.82  # a further sentence must score this share of the best one
    abstain_below: float = 0.75  # best combined score under which the articles are taken not to answer


@dataclass(frozen=True)
class Candidate:
    passage: int  # index into passages
    position: int  # sentence index inside the passage
    text: str
    words: int
    speakers: tuple[str, ...]


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence of every passage, with who speaks in it (pronouns resolved within the passage)."""
    out = []
    for p_index, p in enumerate(passages):
        last = ""
        for s_index, (s, e) in enumerate(split_sentences(p.text)):
            sentence = p.text[s:e].strip()
            if len(sentence) < 12 or _NOISE.search(sentence):
                continue
            names = []
            for mention in attributed(sentence):
                name = last if mention in ("he", "she", "they") else resolve(mention, p.speakers)
                if name:
                    names.append(name)
            if names:
                last = names[-1]
            out.append(Candidate(p_index, s_index, sentence, len(sentence.split()), tuple(names)))
    return out


def idf_weights(question_terms: set[str], docs: Sequence[set[str]]) -> dict[str, float]:
    n = len(docs) + 1
    return {t: math.log(1 + n / (1 + sum(1 for d in docs if t in d))) for t in question_terms}


def score_candidates(question: str, cands: Sequence[Candidate], sims: np.ndarray, passages: Sequence[Passage],
                     cfg: ExtractiveConfig) -> list[float]:
    """How well each sentence answers the question: meaning, shared rare words, rank, and what the question asks for."""
    q_terms = _stems(content_words(question))
    c_terms = [_stems(content_words(c.text)) for c in cands]
    weights = idf_weights(q_terms, c_terms)
    total = sum(weights.values()) or 1.0
    speakers = asked_speakers(question)
    wants_number, wants_when, wants_who = bool(_NUMBER_Q.search(question)), bool(_WHEN_Q.search(question)), bool(_WHO_Q.search(question))
    scores = []
    for cand, terms, sim in zip(cands, c_terms, sims):
        lexical = sum(w for t, w in weights.items() if t in terms) / total
        score = cfg.semantic_weight * float(sim) + cfg.lexical_weight * lexical
        score += cfg.rank_weight / (1 + cand.passage)
        if wants_number and _NUMBER.search(cand.text):
            score += cfg.type_bonus
        if wants_when and _DATE.search(cand.text):
            score += cfg.type_bonus
        if wants_who and re.search(r"\b[A-Z][a-z]+ [A-Z][a-z]+", cand.text):
            score += cfg.type_bonus / 2
        if speakers:
            speaking = any(mentions_person(n, s) for n in speakers for s in cand.speakers)
            if speaking:
                score += cfg.speaker_bonus + (cfg.type_bonus if _QUOTE.search(cand.text) else 0)
            elif cand.speakers:
                score -= cfg.speaker_bonus / 2  # someone else is talking
        if cand.words > 60:
            score -= 0.05 * (cand.words - 60) / 20
        scores.append(score)
    return scores


def choose(cands: Sequence[Candidate], scores: Sequence[float], sims: np.ndarray, vectors: np.ndarray,
           question: str, cfg: ExtractiveConfig) -> list[int]:
    """Indices of the sentences to say: the best one, then others that add something, within the word budget."""
    order = sorted(range(len(cands)), key=lambda i: -scores[i])
    if not order:
        return []
    best = order[0]
    picked = [best]
    words = cands[best].words
    covered = _stems(content_words(cands[best].text))
    q_terms = _stems(content_words(question))
    for i in order[1:]:
        if len(picked) >= cfg.max_sentences:
            break
        if scores[i] < cfg.keep_ratio * scores[best]:
            break
        if words + cands[i].words > cfg.max_words:
            continue
        if any(float(vectors[i] @ vectors[j]) > 0.85 for j in picked):
            continue  # says the same thing again (often the same sentence in a re-published copy)
        new_terms = (_stems(content_words(cands[i].text)) & q_terms) - covered
        adjacent = any(cands[j].passage == cands[i].passage and abs(cands[j].position - cands[i].position) == 1 for j in picked)
        if not new_terms and not adjacent and scores[i] < 0.92 * scores[best]:
            continue
        picked.append(i)
        words += cands[i].words
        covered |= _stems(content_words(cands[i].text))
    # Read in article order: by passage rank, then position in the passage.
    return sorted(picked, key=lambda i: (cands[i].passage, cands[i].position))


def compose(cands: Sequence[Candidate], picked: Sequence[int]) -> list[str]:
    """Answer sentences, each ending with the number of the passage it came from."""
    out = []
    for i in picked:
        text = cands[i].text.rstrip()
        marker = f" [{cands[i].passage + 1}]"
        m = re.search(r"[.!?]*[\"'”’)]*$", text)
        tail = m.group(0) if m else ""
        if tail and not re.search(r"[\"'”’)]", tail):
            out.append(text[: len(text) - len(tail)] + marker + tail)  # "... opportunities [1]."
        else:
            out.append(text + marker)
    return out


def _stems(words: set[str]) -> set[str]:
    return {w[:6] if len(w) > 6 else w.rstrip("s") if len(w) > 3 else w for w in words}


class ExtractiveAnswerer:
    """Builds an answer from the passages' own sentences; `embed` turns texts into unit vectors."""

    name = "extractive"

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], config: ExtractiveConfig | None = None):
        self.embed = embed
        self.config = config or ExtractiveConfig()

    def sentences(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None) -> list[str]:
        """The answer as sentences with [n] markers (numbers index `passages` from 1); [] when nothing answers."""
        cands = candidates(passages)
        if not cands:
            return []
        vectors = self.embed([c.text for c in cands])
        qvec = query_vector if query_vector is not None else self.embed([question])[0]
        sims = vectors @ qvec
        scores = score_candidates(question, cands, sims, passages, self.config)
        if max(scores) < self.config.abstain_below:
            return []
        return compose(cands, choose(cands, scores, sims, vectors, question, self.config))

    def stream(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None) -> Iterator[str]:
        sentences = self.sentences(question, passages, query_vector)
        if not sentences:
            yield NOT_FOUND
            return
        for n, sentence in enumerate(sentences):
            yield ("" if n == 0 else " ") + sentence
