"""Features: what the scorer and the gate read of each candidate sentence and of a question's best one (pure)."""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Callable, Collection, Iterator, Mapping, Sequence

import numpy as np

from ...retrieve.query import Query
from ...text.quotes import any_speaks, has_quote
from ...text.tables import kinds
from ...text.words import content_stems, content_words_in_order, stem, without_possessive
from ...types import Passage
from .candidates import Candidate, places

Idf = Callable[[list[str]], Mapping[str, float]]

# one column per signal a sentence is scored on. Each was once repeated for questions that ask someone's words and
# for those that ask a kind of answer, to be weighed apart: out of fold on dev 4,235 with the reader (three seeds),
# 854.3 with the repeats against 896.3 without (docs/quality.md, eighteenth session)
FEATURES = ("meaning", "words", "kind", "near", "names", "speaks", "speaks_quote", "other_speaker", "quote", "early",
            "length", "new_words", "topic_words", "neighbour_meaning", "story_meaning", "story_words")
# what the gate reads of a question's candidates, to say whether the articles answer it at all; last, one column per
# kind of answer (text/tables.toml), the one the question asks for: which signals tell a trap differs by kind
GATE_FEATURES = ("best_logit", "best_meaning", "best_words", "top_words", "top_passage_meaning", "missing",
                 "names_missing", "years_missing", "kind_near", "best_topic", "top_topic",
                 "story_names_missing", "asks_words", "names_unknown", "speaker_topic", "speaker_meaning",
                 "kind_topic", "kind_meaning", "focus_story", "focus_top", "reader") + \
    tuple(f"is_{k.name}" for k in kinds())
# words either side of the answer's figure or name in which a question word counts as "near": out of fold on dev
# 3,435 (three seeds), 3 and 8 words gave 530.3 and 538.3 against 554.0 (docs/quality.md, twelfth session)
_NEAR = 5


def term_weights(query: Query, cands: Sequence[Candidate], idf: Idf | None) -> dict[str, float]:
    """The weight of each topic word of the question, by stem: corpus IDF when given, else rarity among the
    candidate sentences. In "what did X say about Y" the speaker's name is scored apart, so Y decides."""
    speaker_words = {w.lower() for name in query.speakers for w in name.split()}
    terms = [t for t in query.terms if t not in speaker_words] or list(query.terms)
    if idf is not None:
        given = idf(terms)
        weights = {t: float(given.get(t, 0.0)) for t in terms}
    else:
        docs = [content_stems(c.text) for c in cands]
        weights = {t: math.log(1 + (len(docs) + 1) / (1 + sum(stem(t) in d for d in docs))) for t in terms}
    out: dict[str, float] = {}
    for t, w in weights.items():
        out[stem(t)] = max(out.get(stem(t), 0.0), w)
    return out


def coverage(weights: Mapping[str, float], stems: set[str]) -> float:
    """Share of the question's weight whose words are among `stems` (all of nothing: 1)."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 1.0


def sentence_features(query: Query, cands: Sequence[Candidate], sims: np.ndarray,
                      weights: Mapping[str, float]) -> np.ndarray:
    """One row per candidate, one column per FEATURES entry."""
    rows = np.zeros((len(cands), len(FEATURES)))
    names = [n.lower() for n in query.names]
    q_stems = {stem(t) for t in query.terms}
    topic = topic_weights(query, weights)
    stems_of = [content_stems(c.text) for c in cands]
    story_cover = story_coverage(cands, stems_of, weights)
    for row, cand, sim, stems, beside, story in zip(rows, cands, sims, stems_of, neighbour_likeness(cands, sims),
                                                    story_likeness(cands, sims)):
        given_at = list(gives(query, cand.text)) if query.kind else []
        given = bool(given_at)
        speaks = speaks_asked(query, cand)
        lower = f"{cand.previous} {cand.text}".lower()
        row[:] = (
            float(sim), coverage(weights, stems), given, _near(given_at, cand.text, weights),
            sum(mentions(n, lower) for n in names) / len(names) if names else 0.0, speaks,
            speaks and has_quote(cand.text), bool(query.speakers) and bool(cand.speakers) and not speaks,
            has_quote(cand.text), 1 / (1 + cand.offset / 500), min(cand.words, 60) / 60,
            len(stems - q_stems) / len(stems) if stems else 0.0, coverage(topic, stems | content_stems(cand.previous)),
            beside, story, story_cover[cand.run])
    return rows


def neighbour_likeness(cands: Sequence[Candidate], sims: np.ndarray) -> np.ndarray:
    """For each candidate, the higher likeness to the question of the sentences just before and after it in its
    story (its own when it has neither among the candidates): an answer often sits beside what the question says."""
    where = places(cands)
    out = np.array(sims, dtype=float)
    for i, c in enumerate(cands):
        beside = [sims[j] for k in (-1, 1) if (j := where.get((c.run, c.order + k))) is not None]
        if beside:
            out[i] = max(beside)
    return out


def story_likeness(cands: Sequence[Candidate], sims: np.ndarray) -> np.ndarray:
    """For each candidate, the best likeness to the question of any sentence of its story (the retrieved run of
    its article): a sentence of the story that is about the question is more likely to answer it."""
    best: dict[int, float] = {}
    for c, sim in zip(cands, sims):
        best[c.run] = max(best.get(c.run, -1.0), float(sim))
    return np.array([best[c.run] for c in cands])


def story_coverage(cands: Sequence[Candidate], stems_of: Sequence[set[str]],
                   weights: Mapping[str, float]) -> dict[int, float]:
    """For each story (run), the share of the question's weight whose words its retrieved sentences have
    (`stems_of`: each candidate's content stems)."""
    stems: dict[int, set[str]] = {}
    for c, found in zip(cands, stems_of):
        stems.setdefault(c.run, set()).update(found)
    return {run: coverage(weights, found) for run, found in stems.items()}


def from_named_story(query: Query, cands: Sequence[Candidate]) -> np.ndarray:
    """1 for each candidate from a story (a run) that names every person whose words the question asks for, else 0;
    all 1 when it asks no one's. Someone's words come from a story that names them, not from someone else's words
    (out of fold on dev 3,635, three seeds: 594.3 with this, 572.7 without)."""
    if not query.speakers:
        return np.ones(len(cands))
    texts: dict[int, str] = {}
    for c in cands:
        texts[c.run] = f"{texts.get(c.run, '')} {c.previous} {c.text}".lower()
    return np.array([all(named(n, texts[c.run]) for n in query.speakers) for c in cands], dtype=float)


def topic_weights(query: Query, weights: Mapping[str, float]) -> dict[str, float]:
    """The weights of the question's words that are not names: what it asks about its people and places ("the
    finishing time", "the revenue") is what a story about them may well not say."""
    named = {stem(w) for n in query.names for w in content_words_in_order(n)}
    return {t: w for t, w in weights.items() if t not in named}


_VALUE = re.compile(r"\d[\d,.]*\d|\d|\b[A-Z][\w'’-]+")


def gives(query: Query, text: str) -> Iterator[re.Match]:
    """Where `text` gives the kind of answer the question asks for, and not only what the question itself states
    ("1989" or "Doug Smith" again is no answer to "How many votes in 1989?" or "Who replaced Doug Smith?")."""
    asked = _stated(query.text)
    values = [(v.start(), v.end(), without_possessive(v.group().lower())) for v in _VALUE.finditer(text)]
    for m in query.kind.given.finditer(text):
        inside = [v for s, e, v in values if s < m.end() and m.start() < e]  # the whole figures and names it touches
        if not inside or any(v not in asked for v in inside):
            yield m


@lru_cache(maxsize=64)
def _stated(question: str) -> frozenset[str]:
    """The figures and names a question states, lower-cased (read once per question, not once per sentence)."""
    return frozenset(without_possessive(v.lower()) for v in _VALUE.findall(question))


def _near(given_at: Sequence[re.Match], text: str, weights: Mapping[str, float]) -> bool:
    """A question word close to what gives the answer (`given_at`: where `text` gives it): '2,000 staff' for 'how
    many staff'."""
    for m in given_at:
        around = content_words_in_order(text[:m.start()])[-_NEAR:] + content_words_in_order(text[m.end():])[:_NEAR]
        if any(stem(w) in weights for w in around):
            return True
    return False


def gate_features(query: Query, cands: Sequence[Candidate], feats: np.ndarray, probs: np.ndarray,
                  weights: Mapping[str, float], passages: Sequence[Passage], known: Collection[str],
                  read: float) -> np.ndarray:
    """One row of GATE_FEATURES: how sure the best sentence is, what of the question no candidate has, how much of
    its names the embedding model knows (`known`: its vocabulary), which says how far to trust its likeness, and how
    well the sentences that could answer (the asked speakers', those giving the kind asked) cover what it asks,
    whether the best story and sentences speak of the thing it asks of (`Query.focus`: "the attendance"), and the
    reader's best score of the likeliest sentences (`read`, see reader.reread)."""
    best = int(np.argmax(probs))
    col = FEATURES.index
    seen = set().union(*(content_stems(c.text) for c in cands))
    text = " ".join(c.text for c in cands).lower()
    names = [n for n in query.names if n.lower() not in {s.lower() for s in query.speakers}]
    top = np.argsort(-probs)[:3]
    story_sentences = [c.text for c in cands if c.run == cands[best].run]  # the best sentence's story
    story = set().union(*(content_stems(t) for t in story_sentences))
    story_text = " ".join(story_sentences).lower()
    focus = {stem(w): 1.0 for w in query.focus}  # the thing it asks of, each word alike
    chance = float(np.clip(probs[best], 1e-6, 1 - 1e-6))
    return np.array([
        math.log(chance / (1 - chance)), feats[best, col("meaning")], feats[best, col("words")],
        feats[:, col("words")].max(), max(p.dense for p in passages), 1 - coverage(weights, seen),
        _missing(names, text),
        float(bool(query.years) and not any(y in text for y in query.years)), float(feats[top, col("near")].any()),
        feats[best, col("topic_words")], feats[:, col("topic_words")].max(), _missing(names, story_text),
        float(bool(query.speakers)), unknown_names(query, known), *_best_of(_speakers_own(query, cands), feats),
        *_best_of(feats[:, col("kind")] > 0 if query.kind else np.ones(len(cands), bool), feats),
        coverage(focus, story), coverage(focus, set().union(
            *(content_stems(f"{cands[i].previous} {cands[i].text}") for i in top))), read,
        *(float(query.kind_name == k.name) for k in kinds()),
    ])


def speaks_asked(query: Query, cand: Candidate) -> bool:
    """Whether the sentence is attributed to someone whose words the question asks for."""
    return any_speaks(query.speakers, cand.speakers)


def _speakers_own(query: Query, cands: Sequence[Candidate]) -> np.ndarray:
    """The sentences of the people whose words are asked (said by them, or naming them); all when no one's are. Asked
    what someone said of a subject they never speak of, the articles give their words on other subjects."""
    if not query.speakers:
        return np.ones(len(cands), bool)
    return np.array([speaks_asked(query, c) or
                     any(named(n, f"{c.previous} {c.text}".lower()) for n in query.speakers)
                     for c in cands])


def _best_of(some: np.ndarray, feats: np.ndarray) -> tuple[float, float]:
    """The best share of topic words and the best likeness among `some` of the sentences (0 and 0 for none): among
    the asked speakers' own, or among those that give the kind of answer asked."""
    if not some.any():
        return 0.0, 0.0
    return float(feats[some, FEATURES.index("topic_words")].max()), float(feats[some, FEATURES.index("meaning")].max())


def unknown_names(query: Query, known: Collection[str]) -> float:
    """The share of the words of the question's names that are not in `known` (the embedding model's vocabulary:
    "Quillon" and "Nandakumar" are read in pieces, "Tony Blair" is not); 0 when it gives no name."""
    words = [w for n in query.names for w in re.findall(r"[a-z]+", n.lower())]
    return sum(w not in known for w in words) / len(words) if words else 0.0


def _missing(names: Sequence[str], text: str) -> float:
    """The share of `names` that `text` (lower-cased) does not mention: 0 when there are none."""
    return sum(not mentions(n, text) for n in names) / len(names) if names else 0.0


def mentions(name: str, text: str) -> bool:
    """Whether `text` (lower-cased) has `name` as whole words."""
    return bool(re.search(rf"\b{re.escape(name.lower())}\b", text))


def named(person: str, text: str) -> bool:
    """Whether `text` (lower-cased) names a person by the last word of their name: "Reyes" names "Tom Reyes", and a
    question's "Marlow" the article's "Jane Marlow"."""
    return mentions(person.split()[-1], text)
