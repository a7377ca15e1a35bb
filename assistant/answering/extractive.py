"""The offline answerer: picks the retrieved sentences that answer the question, each with its [n]."""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from ..ingest.chunking import split_sentences
from ..text.quotes import has_quote, leaves_quote_open, mentions_person, person_names, sentence_speakers
from ..retrieve.questions import asked_speakers, follows_on, split_question, topic_of
from ..types import Passage
from .sentence_vectors import candidate_vectors
from .citations import NOT_FOUND, NOT_SAID, content_words, content_words_in_order, defuse_markers

_NUMBER_Q = re.compile(r"\b(how (?:many|much|long|old|big|far|often|large|tall|fast)|what (?:percentage|proportion|share|number|amount|price|age|sum|figure|score)|number of|by how much)\b", re.I)
_WHEN_Q = re.compile(r"\b(when|what (?:year|date|day|month|time))\b", re.I)
_WHO_Q = re.compile(r"^\s*(?:who|whom|which (?!of\b)[a-z]+)\b", re.I)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|half|dozen)\b", re.I)
_NUMBER_TOKEN = re.compile(r"[£$€]?\d[\d,.]*(?:m|bn|%|p)?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|half|dozen)\b", re.I)
_DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last (?:week|month|year)|next (?:week|month|year))\b", re.I)
_OPENS_QUOTE = re.compile(r"^\s*[“\"‘]")
_NOISE = re.compile(r"(?i)(photo:|alt=|click here|subscribe|sign up|newsletter|do you have questions|read more|advertisement|©)")
_QUESTION_FILLER = {"say", "said", "says", "tell", "told", "describe", "described", "think", "thought", "did", "does",
                    "according", "explain", "explained", "mean", "happen", "happened", "make", "made", "give", "given",
                    "which", "what", "whom", "whose", "many", "much", "long", "year", "name", "called", "get", "got"}

Idf = Callable[[list[str]], Mapping[str, float]]


@dataclass(frozen=True)
class ExtractiveConfig:
    """Weights and thresholds, tuned on eval/dev.jsonl (eval/tune.py); eval/unseen.jsonl only reports."""

    max_words: int = 80
    quote_words: int = 120  # "what did X say": X's quote is completed while the answer stays within this many words
    max_sentences: int = 3
    two_part_words: float = 1.25  # a two-part question may say this many times max_words, shared by its parts
    part_sentences: int = 2  # ... and this many sentences for each part
    semantic_weight: float = 1.0
    lexical_weight: float = 0.6
    context_weight: float = 0.15  # shared rare words in the sentence before (the subject is often named there)
    rank_weight: float = 0.08
    type_bonus: float = 0.15
    who_bonus: float = 0.075  # "who ...", "which director ...": a sentence naming someone the question does not
    speaker_bonus: float = 0.3
    keep_ratio: float = 0.82  # a further sentence must score this share of the best one
    adjacent_quote_ratio: float = 0.6  # for a quote right beside a chosen sentence, when someone's words are asked
    their_quote_ratio: float = 0.7  # ... and for another quote of theirs in the same story
    other_article_ratio: float = 1.0  # ... and this share when it comes from another article (1: one story per part)
    abstain_below: float = 0.75  # best combined score under which the articles are taken not to answer
    shortlist: int = 12  # sentences embedded per answer (the best by cheap signals)
    follow_words: int = 80  # add the sentence after the best one while the answer stays within this many words
    typed_ratio: float = 0.8  # "how much/how many": a sentence with an amount leads if it scores this share of the best
    money_ratio: float = 0.7  # ... and a sentence with the sum asked (its word: "pocket" - "gets $30,000"), the surer kind


@dataclass(frozen=True)
class Candidate:
    passage: int  # index into passages
    position: int  # sentence index inside the passage
    text: str
    words: int
    speakers: tuple[str, ...]
    previous: str = ""  # the sentence before it in the article (across a chunk boundary too)
    run: int = 0  # retrieved chunks that follow each other in one article form a run ...
    order: int = 0  # ... and this is the sentence's place in it: neighbours are (run, order ± 1)

    @property
    def key(self) -> tuple[int, int]:
        return self.run, self.order


def runs(passages: Sequence[Passage]) -> list[list[int]]:
    """Passages grouped into runs of consecutive chunks of one article, each run in article order."""
    by_place = sorted(range(len(passages)), key=lambda i: (passages[i].doc_id, passages[i].start, i))
    out: list[list[int]] = []
    for i in by_place:
        last = passages[out[-1][-1]] if out else None
        p = passages[i]
        if last is not None and last.doc_id == p.doc_id and p.end > p.start and 0 <= p.start - last.end <= 2:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence of every passage, with who speaks in it. Chunks that follow each other in one article are
    read as one text, so a quote that goes on across a chunk boundary keeps its speaker."""
    out = []
    for run_index, run in enumerate(runs(passages)):
        text, spans, owners, known = "", [], [], []
        for n, p_index in enumerate(run):
            p = passages[p_index]
            if n:  # chunks end on sentences: one space apart, they split a paragraph (and maybe a quote)
                text += " " if p.start - passages[run[n - 1]].end <= 1 else "\n"
            offset = len(text)
            text += p.text
            for s_index, (s, e) in enumerate(split_sentences(p.text)):
                spans.append((offset + s, offset + e))
                owners.append((p_index, s_index))
            known += [n for n in p.speakers if n not in known]
        speakers = sentence_speakers(text, spans, known=known)
        first = passages[run[0]]
        if spans and not speakers[0] and first.speakers and _OPENS_QUOTE.match(first.text):
            speakers[0] = first.speakers[:1]  # a quote carried over from a chunk not retrieved: listed first
            for k in range(1, len(spans)):  # ... and it may go on for a few sentences
                if speakers[k] or not _OPENS_QUOTE.match(text[spans[k][0]:spans[k][1]]):
                    break
                speakers[k] = speakers[0]
        previous = ""
        for order, ((s, e), who, (p_index, s_index)) in enumerate(zip(spans, speakers, owners)):
            sentence = text[s:e].strip()
            if len(sentence) >= 12 and not _NOISE.search(sentence):
                out.append(Candidate(p_index, s_index, sentence, len(sentence.split()), who, previous, run_index, order))
            previous = sentence
    out.sort(key=lambda c: (c.passage, c.position))  # retrieval order: a better passage comes first
    return out


def question_terms(question: str) -> set[str]:
    """The words of a question that carry its topic (not 'what did ... say')."""
    return {w for w in content_words(question) if w not in _QUESTION_FILLER}


def term_weights(question: str, cands: Sequence[Candidate], idf: Idf | None) -> dict[str, float]:
    """Weight of each question word: corpus IDF when given, else rarity among the candidate sentences.

    In "what did X say about Y" the speaker's name is left out: who speaks is scored apart, so Y decides.
    """
    terms = question_terms(question)
    speaker_words = {w.lower() for name in asked_speakers(question) for w in name.split()}
    if terms - speaker_words:
        terms -= speaker_words
    ordered = sorted(terms)  # sums over the weights must not depend on a set's (hash) order
    if idf is not None:
        weights = dict(idf(ordered))
        weights = {t: weights.get(t, 0.0) for t in ordered}
    else:
        docs = [_stems(content_words(c.text)) for c in cands]
        n = len(docs) + 1
        weights = {t: math.log(1 + n / (1 + sum(1 for d in docs if _stem(t) in d))) for t in ordered}
    topic = question_terms(topic_of(question))
    if topic:  # "what did X, who runs Z, say about Y": Y matters more than the words describing X
        weights = {t: w * (TOPIC_BOOST if t in topic else 1 / TOPIC_BOOST) for t, w in weights.items()}
    return weights


TOPIC_BOOST = 3.0  # tuned on dev: 1.6 -> 0.700 keyword accuracy, 2.5-4 -> 0.725 (held-out unchanged)


def coverage(weights: Mapping[str, float], text: str) -> float:
    """Share of the question's weight whose words occur in `text`."""
    total = sum(weights.values())
    if not total:
        return 1.0
    have = _stems(content_words(text))
    return sum(w for t, w in weights.items() if _stem(t) in have) / total


# The signals a sentence is scored on, one column each (see `sentence_features`).
FEATURES = ("meaning", "words", "context", "rank", "number", "number_near", "date", "new_name", "speaks",
            "speaks_quote", "other_speaker", "not_about", "long")


def feature_weights(cfg: ExtractiveConfig) -> np.ndarray:
    """The weight of each feature in FEATURES, from the config."""
    return np.array([cfg.semantic_weight, cfg.lexical_weight, cfg.context_weight, cfg.rank_weight, cfg.type_bonus,
                     cfg.type_bonus / 2, cfg.type_bonus, cfg.who_bonus, cfg.speaker_bonus, cfg.type_bonus,
                     -cfg.speaker_bonus / 2, -cfg.speaker_bonus / 2, -0.05])


def sentence_features(question: str, cands: Sequence[Candidate], sims: np.ndarray,
                      weights: Mapping[str, float]) -> np.ndarray:
    """One row per sentence, one column per FEATURES entry: meaning, shared rare words, context, rank, and what is
    asked (a number, a date, a new name, the asked speaker's words)."""
    speakers = asked_speakers(question)
    wants_number, wants_when, wants_who = (bool(_NUMBER_Q.search(question)), bool(_WHEN_Q.search(question)),
                                           bool(_WHO_Q.search(question)))
    stems = {_stem(t) for t in weights}
    asked_words = set(re.findall(r"[A-Z][\w'’-]+", question))
    rows = np.zeros((len(cands), len(FEATURES)))
    for n, (cand, sim) in enumerate(zip(cands, sims)):
        row = rows[n]
        row[0] = float(sim)
        row[1] = coverage(weights, cand.text)
        row[2] = coverage(weights, cand.previous) if cand.previous else 0.0
        row[3] = 1 / (1 + cand.passage)
        if wants_number and _NUMBER.search(cand.text):
            row[4] = 1.0
            row[5] = float(_number_near(cand.text, stems))
        row[6] = float(wants_when and bool(_DATE.search(cand.text)))
        row[7] = float(wants_who and any(not asked_words & set(name.split()) for name in person_names(cand.text)))
        if speakers:
            if _speaks(cand, speakers):
                row[8] = 1.0
                row[9] = float(has_quote(cand.text))
            elif cand.speakers:
                row[10] = 1.0  # someone else is talking
            elif not _names_anyone(cand.previous + " " + cand.text, speakers):
                row[11] = 1.0  # not about the person asked about at all
        row[12] = max(0, cand.words - 60) / 20
    return rows


def score_candidates(question: str, cands: Sequence[Candidate], sims: np.ndarray, cfg: ExtractiveConfig,
                     weights: Mapping[str, float]) -> list[float]:
    """How well each sentence answers the question: its features, weighted."""
    if not cands:
        return []
    return list(sentence_features(question, cands, sims, weights) @ feature_weights(cfg))


def choose(cands: Sequence[Candidate], scores: Sequence[float], vectors: np.ndarray, question: str,
           passages: Sequence[Passage], cfg: ExtractiveConfig) -> list[int]:
    """Indices of the sentences to say: the best one, then others that add something, within the word budget."""
    order = sorted(range(len(cands)), key=lambda i: -scores[i])
    if not order:
        return []
    best = order[0]
    picked = [best]
    words = cands[best].words
    q_terms = _stems(question_terms(question))
    covered = _stems(content_words(cands[best].text))
    speakers = asked_speakers(question)
    for i in order[1:]:
        if len(picked) >= cfg.max_sentences:
            break
        adjacent = any(cands[j].run == cands[i].run and abs(cands[j].order - cands[i].order) == 1 for j in picked)
        quoted_neighbour = bool(speakers) and adjacent and has_quote(cands[i].text)
        same_voice = bool(speakers) and _speaks(cands[i], speakers)
        # "what did X say": more of X's own words in the story that answers
        their_quote = same_voice and has_quote(cands[i].text) and \
            passages[cands[i].passage].doc_id == passages[cands[best].passage].doc_id
        ratio = cfg.adjacent_quote_ratio if quoted_neighbour else cfg.their_quote_ratio if their_quote else \
            cfg.keep_ratio
        if scores[i] < ratio * scores[best]:
            continue
        if words + cands[i].words > cfg.max_words:
            continue
        if passages[cands[i].passage].doc_id != passages[cands[best].passage].doc_id and \
                scores[i] < cfg.other_article_ratio * scores[best]:
            continue  # one story answers better than a patchwork
        if any(float(vectors[i] @ vectors[j]) > 0.85 for j in picked):
            continue  # says the same thing again (often the same sentence in a re-published copy)
        new_terms = (_stems(content_words(cands[i].text)) & q_terms) - covered
        if not (new_terms or adjacent or same_voice) and scores[i] < 0.92 * scores[best]:
            continue
        if speakers and not (same_voice or adjacent or _names_anyone(cands[i].text, speakers)):
            continue  # "what did X say": a sentence that is not about X does not answer it
        picked.append(i)
        words += cands[i].words
        covered |= _stems(content_words(cands[i].text))
    where = {c.key: i for i, c in enumerate(cands)}  # (run, order) -> candidate, to find a sentence's neighbours
    if speakers:
        words = _complete_quotes(cands, where, picked, speakers, words, cfg.quote_words)
    if cfg.follow_words:
        words = _follow_best(cands, where, picked, best, words, cfg.follow_words)
    prev = where.get((cands[best].run, cands[best].order - 1))
    if _POINTS_BACK.match(cands[best].text) and prev is not None and prev not in picked and \
            words + cands[prev].words <= cfg.max_words:
        picked.append(prev)  # "They were greeted by big crowds ...": who "they" are is in the sentence before
        words += cands[prev].words
    _fill_gaps(cands, where, picked, words, cfg.max_words)
    return reading_order(cands, picked)


_POINTS_BACK = re.compile(r"^\W*(?:He|She|They|It|This|These|Those|His|Her|Their|Its)\b")


def _fill_gaps(cands: Sequence[Candidate], where: Mapping[tuple[int, int], int], picked: list[int], words: int,
               budget: int) -> int:
    """Two chosen sentences of a story with one sentence between them are read with it: a quote's middle line
    ("I have a new slogan. Vote Blair, Get Brown. That's what I tell people") or the step of an argument."""
    keys = {cands[i].key for i in picked}
    for i in list(picked):
        run, order = cands[i].key
        middle = where.get((run, order + 1))
        if (run, order + 2) in keys and middle is not None and middle not in picked and \
                words + cands[middle].words <= budget:
            picked.append(middle)
            words += cands[middle].words
    return words


def _follow_best(cands: Sequence[Candidate], where: Mapping[tuple[int, int], int], picked: list[int], best: int,
                 words: int, budget: int) -> int:
    """A short answer goes on with the sentence after its best one: the figure or the quote often comes next
    ("... Gordon Freeman ... ." "He's back in City 17 ..."). Same story, so no citation can be wrong by it."""
    nxt = where.get((cands[best].run, cands[best].order + 1))
    if nxt is not None and nxt not in picked and words + cands[nxt].words <= budget:
        picked.append(nxt)
        words += cands[nxt].words
    return words


def reading_order(cands: Sequence[Candidate], picked: Sequence[int]) -> list[int]:
    """Best story first, and each story's sentences in the order the article tells them."""
    first = {}
    for c in cands:
        first[c.run] = min(first.get(c.run, c.passage), c.passage)
    return sorted(picked, key=lambda i: (first[cands[i].run], cands[i].order))


def _complete_quotes(cands: Sequence[Candidate], where: Mapping[tuple[int, int], int], picked: list[int],
                     speakers: list[str], words: int, max_words: int) -> int:
    """A quote of the asked speaker is given whole, while the budget lasts: it goes on in the next sentences, and
    a sentence from its middle is read from where the speaker is named ('Andrew Marr said: "This is enormously
    damaging. Gordon Brown knows it ...')."""

    def theirs(i: int) -> bool:
        return _speaks(cands[i], speakers)

    for i in [i for i in picked if theirs(i)]:
        first = i
        prev = where.get((cands[first].run, cands[first].order - 1))
        while not _names_anyone(cands[first].text, speakers) and prev is not None and prev not in picked and \
                theirs(prev) and words + cands[prev].words <= max_words:
            picked.append(prev)
            words += cands[prev].words
            first = prev
            prev = where.get((cands[first].run, cands[first].order - 1))
        nxt = where.get((cands[i].run, cands[i].order + 1))
        inside = leaves_quote_open(cands[i].text)  # the next sentence may carry no mark: '"Jens is a fantastic
        while nxt is not None and nxt not in picked and theirs(nxt) and words + cands[nxt].words <= max_words and \
                (inside or has_quote(cands[nxt].text)):  # keeper. He deserves another chance."'
            picked.append(nxt)
            words += cands[nxt].words
            inside = leaves_quote_open(cands[nxt].text, inside)
            nxt = where.get((cands[nxt].run, cands[nxt].order + 1))
    return words


def select(question: str, cands: Sequence[Candidate], vectors: np.ndarray, query_vector: np.ndarray,
           passages: Sequence[Passage], cfg: ExtractiveConfig, idf: Idf | None = None,
           embed: Callable[[Sequence[str]], np.ndarray] | None = None,
           article_text: Callable[[str], str] | None = None) -> list[int]:
    """The sentences that answer, or [] when the passages do not answer the question.

    A two-part question ("..., and who beat him?") is answered part by part, each within its share of words.
    """
    return select_parts(question, cands, vectors, query_vector, passages, cfg, idf, embed, article_text)[0]


def select_parts(question: str, cands: Sequence[Candidate], vectors: np.ndarray, query_vector: np.ndarray,
                 passages: Sequence[Passage], cfg: ExtractiveConfig, idf: Idf | None = None,
                 embed: Callable[[Sequence[str]], np.ndarray] | None = None,
                 article_text: Callable[[str], str] | None = None) -> tuple[list[int], list[str]]:
    """`select`, and the parts of a two-part question that nothing answers (when another part is answered)."""
    if not cands:
        return [], []
    parts = split_question(question)
    if len(parts) > 1 and embed is not None:
        share = dataclasses.replace(cfg, max_words=int(cfg.max_words * cfg.two_part_words) // len(parts),
                                    quote_words=int(cfg.quote_words * cfg.two_part_words) // len(parts),
                                    max_sentences=cfg.part_sentences)
        part_vectors = embed(parts)
        picked: list[int] = []
        unanswered: list[str] = []
        for n, (part, vector) in enumerate(zip(parts, part_vectors)):
            among = list(range(len(cands)))
            if n and picked and follows_on(part):  # "..., and what was the final score?": the same story
                stories = {passages[cands[i].passage].doc_id for i in picked}
                among = [i for i in among if passages[cands[i].passage].doc_id in stories]
            chosen = _select_one(part, [cands[i] for i in among], vectors[among], vector, passages, share, idf,
                                 article_text, embed)
            picked += [among[i] for i in chosen if among[i] not in picked]
            if not chosen:
                unanswered.append(part)
        return reading_order(cands, picked), unanswered if picked else []
    return _select_one(question, cands, vectors, query_vector, passages, cfg, idf, article_text, embed), []


def not_said(part: str) -> str:
    """What an answer says of a part of the question that the articles do not answer."""
    part = part.strip()
    return f"{NOT_SAID} {part[0].lower()}{part[1:]}"


def shortlist(question: str, cands: Sequence[Candidate], cfg: ExtractiveConfig, idf: Idf | None = None) -> list[Candidate]:
    """The sentences worth embedding: the best by the cheap signals (words, context, rank, type), with their
    neighbours, in their original order. Embedding every sentence of every passage costs most of an answer."""
    if len(cands) <= cfg.shortlist:
        return list(cands)
    parts = split_question(question)
    keep: set[int] = set()
    for part in parts:
        cheap = score_candidates(part, cands, np.zeros(len(cands)), cfg, term_weights(part, cands, idf))
        top = sorted(range(len(cands)), key=lambda i: -cheap[i])[: cfg.shortlist // len(parts)]
        keep.update(top)
        kind = answer_kind(part)
        unit = measure_unit(part)
        runs = {cands[i].run for i in top[:3]}  # the best stories
        # the sum (or name, measure, outcome) is often in a sentence sharing no word with the question
        if kind in ("money", "age", "name", *_OUTCOMES) or unit is not None:
            fits = (lambda text: bool(unit.search(text))) if unit is not None else (lambda text: has_kind(text, kind))
            keep.update([i for i, c in enumerate(cands) if c.run in runs and fits(c.text)][:4])
        speakers = asked_speakers(part)
        if speakers:  # "what did X say": X's quotes in the best stories, whatever their words
            keep.update([i for i, c in enumerate(cands) if c.run in runs and has_quote(c.text) and
                         _speaks(c, speakers)][:cfg.shortlist // 3])
    where = {c.key: i for i, c in enumerate(cands)}
    for i in list(keep):
        nxt = where.get((cands[i].run, cands[i].order + 1))
        if nxt is not None and len(keep) < cfg.shortlist * 3 // 2:
            keep.add(nxt)
        prev = where.get((cands[i].run, cands[i].order - 1))  # the sentence a "they" or "it" points back to
        if prev is not None and _POINTS_BACK.match(cands[i].text) and len(keep) < cfg.shortlist * 3 // 2:
            keep.add(prev)
    return [cands[i] for i in sorted(keep)]


def _select_one(question: str, cands: Sequence[Candidate], vectors: np.ndarray, query_vector: np.ndarray,
                passages: Sequence[Passage], cfg: ExtractiveConfig, idf: Idf | None,
                article_text: Callable[[str], str] | None = None,
                embed: Callable[[Sequence[str]], np.ndarray] | None = None) -> list[int]:
    named = asked_speakers(question) or person_names(question)
    if named and article_text is not None:  # "what did X say", "which cause did X support": from a story naming X
        keep = _naming(named, cands, passages, article_text)
        if not keep:
            return []
        if len(keep) < len(cands):
            chosen = _answer(question, [cands[i] for i in keep], vectors[keep], query_vector, passages, cfg, idf,
                             article_text, embed)
            return [keep[i] for i in chosen]
    return _answer(question, cands, vectors, query_vector, passages, cfg, idf, article_text, embed)


def _answer(question: str, cands: Sequence[Candidate], vectors: np.ndarray, query_vector: np.ndarray,
            passages: Sequence[Passage], cfg: ExtractiveConfig, idf: Idf | None,
            article_text: Callable[[str], str] | None, embed: Callable[[Sequence[str]], np.ndarray] | None
            ) -> list[int]:
    weights = term_weights(question, cands, idf)
    scores = score_candidates(question, cands, vectors @ query_vector, cfg, weights)
    if max(scores) < cfg.abstain_below:
        return []
    picked = choose(cands, scores, vectors, question, passages, cfg)
    kind = answer_kind(question)
    fits = answer_test(question, kind, embed) if kind else None
    best = max(range(len(cands)), key=lambda i: scores[i])
    if fits is not None and cfg.typed_ratio and not any(fits(cands[i].text) for i in picked):
        lead = _typed_lead(question, kind, fits, cands, scores, passages, cfg)
        # a sum in the best sentence answers "how much did X pay" whatever its verb ("bought Y for $600"), when
        # nothing says it better; a sum put in, raised or spent, or a name, is given with its own word
        if lead is None and not (kind == "measure" or kind == "money" and _paid(question) and
                                 has_kind(cands[best].text, kind)):
            return []  # asked for an amount, and no sentence that answers gives one
        if lead is not None:
            scores = list(scores)
            scores[lead] = max(scores) + 1e-6
            picked = choose(cands, scores, vectors, question, passages, cfg)
    counted = counted_things(question)
    leading = cands[max(picked, key=lambda i: scores[i])]
    if kind and missing_specifics(question, leading.text.lower()):
        return []  # "how much did it grow in 2003?" is not answered by "it grew by 8.1% in 2004"
    if article_text is not None and (_YEAR.search(question) or counted):  # fetch it only when needed
        article = article_text(passages[leading.passage].doc_id).lower()
        # "... in 2024?" answered by "... in 2023" is not an answer; an answer that names no year for what it tells
        # ("they went down 37-32 to Wasps") may well be about the year asked, in an article that never says it
        if _YEAR.search(question) and missing_specifics(question, article) and \
                _YEAR.search(" ".join(cands[i].text for i in picked)):
            return []
        if counted and not any(re.search(rf"\b{w}", article) for w in counted):
            return []  # "how many moons": an article that never mentions moons does not count them
    return picked


def _naming(people: Sequence[str], cands: Sequence[Candidate], passages: Sequence[Passage],
            article_text: Callable[[str], str]) -> list[int]:
    """The candidates whose article names any of the people (an article naming none of them does not say)."""
    people = [name.lower() for name in people]
    docs = {passages[c.passage].doc_id for c in cands}
    naming = {doc for doc in sorted(docs) if _names_anyone(article_text(doc).lower(), people)}
    return [i for i, c in enumerate(cands) if passages[c.passage].doc_id in naming]


_HOW_MANY = re.compile(r"\bhow many\s+(?:of\s+(?:the|his|her|its|their|these|those)\s+)?((?:[\w'’-]+\s+){0,3})", re.I)
_NOT_COUNTED = {"did", "do", "does", "were", "was", "are", "is", "have", "has", "had", "will", "would", "could", "can",
                "of", "in", "at", "on", "for", "to", "from", "by", "with", "the", "a", "an", "there", "times", "against",
                "about", "over", "under", "into", "during", "after", "before", "since", "per"}


def counted_things(question: str) -> list[str]:
    """What "how many" counts, as patterns of word beginnings: 'how many moons does Jupiter have' -> ['moon']."""
    m = _HOW_MANY.search(question)
    if not m:
        return []
    words: list[str] = []
    for w in re.findall(r"[a-z]+", m.group(1).lower()):
        if w in _NOT_COUNTED:
            break
        words.append(w[:-3] + "(?:y|ie)" if w.endswith("ies") else w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return words


_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_MONEY_Q = re.compile(r"(?<!by )\bhow much (?:\w+ ){0,2}(?:money|cash|compensation|funding|funds|aid|investment|profit|revenue|"
                      r"income|debt|tax|prize money)\b|(?<!by )\bhow much\b(?:\W+\w+){0,10}?\W+"
                      r"(pay|paid|cost|costs|spend|spent|raised?|earn|earned|invest|invested|pledged?|charged?|worth|"
                      r"fetch(?:ed)?|owed?|pocket(?:s|ed)?|commit(?:s|ted)?|donated?|borrow(?:s|ed)?|bid|sold for|"
                      r"receive[sd]?|award(?:s|ed)?)\b|\bwhat(?:\W+\w+){0,8}?\W+(price|salary|wages?|pay package|fee|fine|budget|"
                      r"valuation|compensation)\b", re.I)
_AMOUNT_Q = re.compile(r"\b(?:how (?:many|much)|what (?:percentage|proportion|share|number|amount|sum|figure)|number of)\b",
                       re.I)
_CURRENCY = r"(?:pounds?|dollars?|euros?|yuan|pence|cents?|yen|rupees?|francs?|roubles?|p)"
_MONEY = re.compile(rf"[£$€¥]\s?\d|\b\d[\d,.]*\s?(?:m|bn|k|million|billion|trillion)?\s?{_CURRENCY}\b", re.I)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_NOT_AMOUNT = re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}\b|"
                         r"\b\d{1,2}[:.]\d\d\b|\b\d{4} GMT\b|&#?\w+;", re.I)  # ... and HTML entities ('Pel&#233;')
_NAME_NUMBER = re.compile(r"(?<=\w\s)([A-Z][A-Za-z]*)\s\d+\b(?!\s*(?:%|m\b|bn\b|per\b))")  # 'Half Life 2', 'BBC Radio 1'
_NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
                 "thousands?|millions?|billions?|half|dozens?")
# a number word in capitals only where it starts the sentence: 'Half Life', 'Seven Seas' are names
_AMOUNT = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|^\W*(?i:{_NUMBER_WORDS})\b")
_TIME_UNITS = r"(?:milli)?seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|decades?"
_LENGTH_UNITS = r"(?:kilo|centi|milli)?met(?:re|er)s?|km|miles?|yards?|feet|foot|inches"
_PERCENT = r"%|per ?cent|percentage points?|points?"
_FRACTION = r"(?:a|one|two|three) (?:half|third|quarter|fifth|tenth)|half|(?:two|three)[ -](?:thirds|quarters)|majority"
_A_NUMBER = rf"(?:\d[\d,.]*|\b(?:{_NUMBER_WORDS}|a few|several))"


def _units(words: str, letters: str = "", alone: str = "") -> re.Pattern:
    """A number followed by one of the unit `words` (a word may come between: "160 degrees", "minus 160 degrees
    centigrade", "15 extra seconds"; "a year"), or by a one-letter unit written against it ("160C", "44m"), or words
    that say the measure alone ("a quarter")."""
    short = rf"|\d\s?(?:{letters})\b" if letters else ""
    alone = rf"|\b(?:{alone})\b" if alone else ""
    return re.compile(rf"(?:{_A_NUMBER}(?:\s*-\s*|\s+)?(?:[a-z]+\s+)?|\ban?\s+)(?:{words})(?!\w){short}{alone}", re.I)


# "how cold", "how quickly", "how far out", "what share": a measure, given by a number with its unit ("minus 160
# degrees", "15 milliseconds", "44 metres", "51.4%"); a "how ..." question may be answered in words ("a decade")
_MEASURES = [(re.compile(rf"\b{asked}\b", re.I), units) for asked, units in [
    (r"how (?:cold|hot|warm)", _units(r"degrees?|°|celsius|centigrade|fahrenheit", "c|f")),
    (r"how (?:quickly|fast|slowly|soon)", _units(rf"{_TIME_UNITS}|mph|km/h|kph|m/s|metres per second|[mkg]bps|[mk]b/s")),
    (r"how long", _units(rf"{_TIME_UNITS}|{_LENGTH_UNITS}", "m")),
    (r"how (?:far|close|tall|high|deep|wide)", _units(_LENGTH_UNITS, "m|ft")),
    (r"how heavy", _units(r"kg|kilos?|kilograms?|tonnes?|tons?|stones?|lbs?|grams?|ounces?|oz", "g")),
    (r"how (?:often|frequently)", _units(rf"times|{_TIME_UNITS}")),
    (r"what (?:percentage|proportion|share)|how (?:steep(?:ly)?|sharp(?:ly)?)",
     _units(_PERCENT, alone=_FRACTION)),
    (r"by how much|how much (?:\w+\W+){0,5}?(?:grow|grew|grown|rise|rose|risen|fall|fell|fallen|drop|dropped|"
     r"increase|increased|decrease|decreased|shrink|shrank|expand|expanded|jump|jumped|climb|climbed|cut)",
     _units(rf"{_PERCENT}|bn|billion|million|m|k|euros?|pounds?|dollars?|yuan|yen")),
    (r"how (?:big|large|small)", _units(rf"{_PERCENT}|bn|billion|million|square|sq|acres?|hectares?|{_LENGTH_UNITS}",
                                        "m|k")),
]]
_MEASURE_Q = re.compile("|".join(asked.pattern for asked, _ in _MEASURES), re.I)


def measure_unit(question: str) -> re.Pattern | None:
    """A number with the unit that answers a "how cold / how far / how quickly / what share" question, or None."""
    return next((units for asked, units in _MEASURES if asked.search(question)), None)


_AGE_Q = re.compile(r"\bhow old\b|\b(?:at )?what age\b", re.I)
_AGE = re.compile(r"\b\d{1,3}-year-old\b|\b\d{1,3} years? old\b|\baged \d{1,3}\b|\bage of \d{1,3}\b|"
                  r"[A-Z][a-z]+,\s\d{1,3},|\b[A-Z][a-z]+ \(\d{1,3}\)")
_OPINION_Q = re.compile(r"\b(?:say|said|says|think|thought|describe|described|view|views|why|reasons?|feel|felt)\b", re.I)


def _typed_lead(question: str, kind: str, fits: Callable[[str], bool], cands: Sequence[Candidate],
                scores: Sequence[float], passages: Sequence[Passage], cfg: ExtractiveConfig) -> int | None:
    """The best sentence giving the answer asked (`fits`), if it answers nearly as well as the best sentence, or
    comes from the best sentence's article and is tied to the question by more than its kind: the question's own
    word for the sum ("cost", "paid"), the thing counted, a measure's unit ("how cold": degrees), or an age (an
    age in the article that best answers "how old is X" is X's)."""
    best = max(range(len(cands)), key=lambda i: scores[i])
    doc = passages[cands[best].passage].doc_id
    tied = (kind in ("age", "name", *_OUTCOMES) or measure_unit(question) is not None
            or amount_word(question) is not None or bool(counted_things(question)))
    ratio = cfg.money_ratio if kind == "money" else cfg.typed_ratio
    # the cheap tests first: `fits` may embed the words after each number
    typed = [i for i in range(len(cands)) if (scores[i] >= ratio * scores[best] or
                                               tied and passages[cands[i].passage].doc_id == doc)
             and fits(cands[i].text)]
    return max(typed, key=lambda i: scores[i]) if typed else None


def answer_test(question: str, kind: str, embed: Callable[[Sequence[str]], np.ndarray] | None = None
                ) -> Callable[[str], bool]:
    """Whether a sentence gives the answer asked: a sum said with the question's own word for it ("How much did X
    pay" is not answered by a debt), an age, or a count of the thing counted ("how many people attended" is not
    answered by "50,000 new gadgets")."""
    if kind == "money":
        word = amount_word(question)
        return lambda text: has_kind(text, "money") and (word is None or bool(word.search(text)))
    people = person_names(question) if kind == "penalty" else []
    if people:  # "what sentence did X receive": X's, not another's
        surnames = [name.split()[-1] for name in people]
        return lambda text: has_kind(text, kind) and any(re.search(rf"\b{re.escape(s)}\b", text) for s in surnames)
    if kind == "legal":  # "has anyone been convicted" is not answered by an arrest; "arrested" is, by a conviction
        asked = next((i for i, (verb, _) in enumerate(_LEGAL_STEPS) if verb.search(question)), len(_LEGAL_STEPS) - 1)
        said = re.compile("|".join(words for _, words in _LEGAL_STEPS[:asked + 1]), re.I)
        return lambda text: bool(said.search(text))
    unit = measure_unit(question) if kind in ("amount", "measure") else None
    if unit is not None:
        return lambda text: bool(unit.search(_amount_text(text)))
    counted = counted_things(question) if kind == "amount" else []
    if not counted:
        return lambda text: has_kind(text, kind)
    phrase = _HOW_MANY.search(question).group(1).strip()  # "people attended the" (counted_things found it)
    return lambda text: has_kind(text, kind) and counts(text, phrase, counted, embed)


_PEOPLE = re.compile(r"\b(?:people|persons?|staff|workers?|employees?|members?|fans?|voters?|residents?|visitors?|"
                     r"children|adults?|men|women|students?|pupils?|patients?|users?|customers?|passengers?|"
                     r"viewers?|listeners?|players?|troops|soldiers?|civilians?|victims?|delegates?|spectators?)\b",
                     re.I)
COUNT_WINDOW = (4, 7)  # the thing counted is named within this many words before and after (from) the number
COUNT_SIMILARITY = 0.45  # the words after a number mean the thing counted ("130,000 cars" for "how many vehicles")


def counts(text: str, phrase: str, counted: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray] | None
           ) -> bool:
    """Whether a sentence with an amount names the thing counted: its word ("19 private banks"), a word for
    people when people are counted ("2,000 staff"), or, by meaning, the words right after a number (compared with
    the question's words after "how many", `phrase`)."""
    clean = _amount_text(text)
    amounts = list(_AMOUNT.finditer(clean))
    near = [" ".join(clean[:m.start()].split()[-COUNT_WINDOW[0]:] + clean[m.start():].split()[:COUNT_WINDOW[1]])
            for m in amounts]  # "sold five million copies", "copies sold reached two million"
    if any(re.search(rf"\b{w}", words, re.I) for w in counted for words in near):
        return True
    if "people" in counted and any(_PEOPLE.search(words) for words in near):
        return True
    if embed is None:
        return False
    windows = [" ".join(clean[m.end():].split()[:3]) for m in amounts]
    windows = [w for w in windows if w]
    if not windows:
        return False
    vectors = embed([phrase, *windows])
    return float(np.max(vectors[1:] @ vectors[0])) >= COUNT_SIMILARITY


_PAY = "pa(?:y|id|ys|ying)|earn\\w*|salary|wages?"
_PRICE = "pric\\w*|cost\\w*|sell\\w*|sold|sale|retail\\w*"
_STEMS = {"paid": _PAY, "pay": _PAY, "salary": _PAY, "wage": _PAY, "wages": _PAY, "earn": _PAY, "earned": _PAY,
          "spent": "spen(?:d|t|ds|ding)", "spend": "spen(?:d|t|ds|ding)", "owe": "ow(?:e|ed|es|ing)",
          "owed": "ow(?:e|ed|es|ing)", "price": _PRICE, "cost": _PRICE, "costs": _PRICE, "fee": "fees?|pa(?:y|id)",
          "fetch": _PRICE, "fetched": _PRICE, "worth": "worth|valu\\w*"}
_GIVE = "pledg\\w*|commit\\w*|donat\\w*|gives?|gave|given|giving|promis\\w*|grant\\w*"
_GET = "pocket\\w*|gets?|got|receiv\\w*|earn\\w*|wins?|won|prize|pa(?:y|id|ys)"
_RAISE = "rais\\w*|secur\\w*|fund\\w*|invest\\w*"
_STEMS |= {w: _GIVE for w in ("pledge", "pledged", "commit", "commits", "committed", "donate", "donated")}
_STEMS |= {w: _GET for w in ("pocket", "pockets", "pocketed", "receive", "receives", "received", "award", "awards",
                             "awarded")}
_STEMS |= {w: _RAISE for w in ("raise", "raised", "invest", "invested")}


def _paid(question: str) -> bool:
    """Whether a sum asked is a price paid (its word's pattern takes "paid" or "price": pay, cost, award, receive),
    which a sentence may give with any verb ("bought it for $600"); a sum spent, raised or put in is given with its
    own word."""
    word = amount_word(question)
    return word is None and not _MONEY_VERB.search(question) or word is not None and bool(word.search("paid price"))


# "how much money had the government put into it": the verb after the sum asked
_MONEY_VERB = re.compile(r"\bhow much (?:\w+ ){0,2}(?:money|cash|funding|funds|aid|investment)\b(?:\W+\w+){0,6}?\W+"
                         r"(put|inject\w*|gave|given|give|spen[dt]|rais\w*|invest\w*|award\w*|los[te]|made|make)\b",
                         re.I)


def amount_word(question: str) -> re.Pattern | None:
    """The question's own word for the amount it asks ("cost" in "how much did it cost"), as a pattern that
    matches its other forms and the words news uses for the same sum ("price": "will cost", "sells for")."""
    m = _MONEY_Q.search(question)
    word = next((g for g in m.groups() if g), None) if m else None
    if word is None and (verb := _MONEY_VERB.search(question)):
        word = verb.group(1)
    if word is None:
        return None
    word = word.lower()
    word = word.split()[0]  # 'pay package'
    stem = _STEMS.get(word) or re.escape(word if len(word) <= 5 else word[:-2]) + r"\w*"
    return re.compile(rf"\b(?:{stem})\b", re.I)


def answer_kind(question: str) -> str | None:
    """'money' for "how much did X pay / what price", 'age' for "how old", 'amount' for other "how many/how much",
    'name' for "what is X called", 'won' / 'appointed' / 'penalty' / 'legal' for "who won", "who replaced X", "what
    sentence did X get", "has anyone been charged" (see _OUTCOMES), 'measure' for "how cold / far / quickly" (see
    _MEASURES), else None.
    "What did X say about the price" asks for words, not a sum."""
    if _OPINION_Q.search(question) and not _AMOUNT_Q.search(question):
        return None
    if _AGE_Q.search(question):
        return "age"
    if _MONEY_Q.search(question):
        return "money"
    if _AMOUNT_Q.search(question):
        return "amount"
    if _NAME_Q.search(question):
        return "name"
    outcome = next((kind for kind, (asked, _) in _OUTCOMES.items() if asked.search(question)), None)
    return outcome or ("measure" if _MEASURE_Q.search(question) else None)


# "Who won X", "who replaced X", "has anyone been convicted": an outcome is answered by a sentence that says it
# happened (in the question's word or one news uses for it), not by one about the same story that does not
_OUTCOMES = {
    "won": (re.compile(r"^\W*(?:who|which\b[^?]{0,40}?)\s+(?:won|wins|will win)\b", re.I),
            re.compile(r"\b(?:won|winners?|victor(?:y|ies|ious)|beat(?:s|en)?|triumph(?:ed|s)|champions?|clinch(?:ed|es)|"
                       r"crowned|picked up|scooped|took home|collected|(?:was|were) awarded)\b|(?<!\bto )\bwins\b",
                       re.I)),  # not "favourite to win": a prospect is no outcome
    "appointed": (re.compile(r"^\W*who\b[^?]{0,30}?\b(?:appointed|named|chosen|picked|hired|replaced?|succeeded?|"
                             r"took over)\b", re.I),
                  re.compile(r"\b(?:appointed|appointment of|named as|(?:was|has been|been) named|chosen|hired|replaced|"
                             r"replaces|succeed|succeeded|succeeds|successor|took over|has taken over)\b", re.I)),
    "penalty": (re.compile(r"^\W*what (?:\w+ )?(?:sentences?|punishments?|penalty|penalties|fines?|jail terms?|"
                           r"prison terms?|bans?)\b|"
                           r"\bhow long (?:was|were|will|is|has)\b[^?]*\b(?:jailed|sentenced|banned|imprisoned)\b", re.I),
                re.compile(r"\b(?:jail\w*|prison|imprison\w*|sentenc\w*|custodial|\d+ (?:months?|years?|weeks?)|fined|"
                           r"fine of|community (?:service|order)|suspended|probation|life|banned|ban)\b", re.I)),
    "legal": (re.compile(r"\b(?:has|have|was|were|is|are)\s+(?:anyone|anybody|someone|no-one|nobody)\s+(?:been\s+)?"
                         r"(?:convicted|charged|arrested|jailed|sentenced|prosecuted)\b|^\W*who\s+(?:was|were|has been|"
                         r"have been)\s+(?:convicted|charged|arrested|jailed|sentenced|prosecuted)\b", re.I),
              re.compile(r"\b(?:convicted|charged with|(?:was|were|been) charged|arrested|jailed|sentenced|found guilty|"
                         r"pleaded guilty|prosecuted|remanded|in custody)\b", re.I)),
}
# a legal step asked about, and the words that say it (or a later step) happened: conviction, charge, arrest
_LEGAL_STEPS = [
    (re.compile(r"\b(?:convicted|jailed|sentenced|found guilty|imprisoned)\b", re.I),
     r"\b(?:convicted|found guilty|pleaded guilty|jailed|sentenced|imprisoned)\b"),
    (re.compile(r"\b(?:charged|prosecuted)\b", re.I), r"\b(?:charged with|(?:was|were|been) charged|prosecuted)\b"),
    (re.compile(r"\b(?:arrested|detained)\b", re.I), r"\b(?:arrested|detained|remanded|in custody)\b"),
]


_PROSPECT = re.compile(r"\b(?:will|would|could|may|might|faces?|facing|(?:is|are|due) to be|awaiting|expected to|"
                       r"if convicted|if found guilty|up to|maximum)\b[^.;,]*", re.I)


_NAME_Q = re.compile(r"^\W*(?:what|which)\b.*\b(?:(?:nick|made-up |code |brand )?names?|called|titled|dubbed)\b", re.I)
# the sentence that gives a name says so: "what they call the Alert Retrieval Cache", "was changed to Anonymous Airline"
_NAMING = re.compile(r"\b(?:call(?:ed|s|ing)?|(?:re|nick)?named|known as|dubbed|titled|branded|christened|"
                     r"changed to|names? (?:is|was))\s+(?:the\s+|it\s+|them\s+)?(?:[\"“‘'][A-Za-z]|[A-Z])")


def has_kind(text: str, kind: str) -> bool:
    """Whether a sentence gives the kind of answer asked: a sum of money, or an amount that is not a date, a time,
    a year or the number in a name ('Half Life 2', 'Radio 1')."""
    if kind == "money":
        return bool(_MONEY.search(text))
    if kind == "age":
        return bool(_AGE.search(text))
    if kind == "name":
        return bool(_NAMING.search(text))
    if kind == "penalty":  # "could face up to 85 years", "will be sentenced after the trial": not a sentence given
        text = _PROSPECT.sub(" ", text)
    if kind in _OUTCOMES:
        return bool(_OUTCOMES[kind][1].search(text))
    return bool(_AMOUNT.search(_amount_text(text)))


def _amount_text(text: str) -> str:
    """The sentence without what only looks like an amount: dates, times, years, names' numbers, HTML entities."""
    return _NOT_AMOUNT.sub(" ", _NAME_NUMBER.sub(r"\1", text))


def missing_specifics(question: str, article: str) -> list[str]:
    """Years the question asks about that the article never mentions, while it does name other years.

    "How much did Xiaomi spend on research in 2024?" is not answered by an article that gives 2023's figure.
    (Tried and dropped: requiring the question's names and other numbers too; dev-set false refusals rose.)
    """
    # a year in an event's name ("the 2005 Australian Open") is often left out where the event is named
    asked = {m.group(0) for m in _YEAR.finditer(question) if not re.match(r"\s+[A-Z]", question[m.end():])}
    if not asked:
        return []
    present = set(_YEAR.findall(article))
    if not present or asked & present:
        return []
    return sorted(asked)


def compose(cands: Sequence[Candidate], picked: Sequence[int]) -> list[str]:
    """Answer sentences, each with the number of the passage it came from before its final stop."""
    out = []
    for i in picked:
        text = defuse_markers(cands[i].text.rstrip())  # the article's own '[2]' is not a citation
        marker = f" [{cands[i].passage + 1}]"
        m = re.search(r"[.!?]*[\"'”’)]*$", text)
        tail = m.group(0) if m else ""
        if tail and not re.search(r"[\"'”’)]", tail):
            out.append(text[: len(text) - len(tail)] + marker + tail)  # "... opportunities [1]."
        else:
            out.append(text + marker)
    return out


def _number_near(text: str, stems: set[str]) -> bool:
    """A number right before a question word: '3,500 people', '56,000 cars'."""
    for m in _NUMBER_TOKEN.finditer(text):
        first = list(dict.fromkeys(content_words_in_order(text[m.end():m.end() + 30])))[:3]
        if _stems(set(first)) & stems:
            return True
    return False


def _speaks(cand: Candidate, people: Sequence[str]) -> bool:
    """Whether one of `people` (as asked: 'Lei Jun', 'Howard') speaks in the sentence."""
    return any(mentions_person(n, s) for n in people for s in cand.speakers)


def _names_anyone(text: str, people: Sequence[str]) -> bool:
    return any(re.search(rf"\b{re.escape(word)}\b", text) for name in people for word in name.split() if len(word) > 2)


def _stem(w: str) -> str:
    return w[:6] if len(w) > 6 else w.rstrip("s") if len(w) > 3 else w


def _stems(words: set[str]) -> set[str]:
    return {_stem(w) for w in words}


class ExtractiveAnswerer:
    """Builds an answer from the passages' own sentences; `embed` turns texts into unit vectors."""

    name = "extractive"

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], config: ExtractiveConfig | None = None,
                 idf: Idf | None = None, article_text: Callable[[str], str] | None = None):
        self.embed = embed
        self.config = config or ExtractiveConfig()
        self.idf = idf
        self.article_text = article_text

    def sentences(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None) -> list[str]:
        """The answer as sentences with [n] markers (numbers index `passages` from 1); [] when nothing answers."""
        cands = shortlist(question, candidates(passages), self.config, self.idf)
        if not cands:
            return []
        vectors = candidate_vectors(cands, passages, self.embed)  # stored at ingest, else embedded now
        qvec = query_vector if query_vector is not None else self.embed([question])[0]
        picked, unanswered = select_parts(question, cands, vectors, qvec, passages, self.config, self.idf, self.embed,
                                          self.article_text)
        return compose(cands, picked) + [not_said(part) for part in unanswered]

    def stream(self, question: str, passages: Sequence[Passage], query_vector: np.ndarray | None = None) -> Iterator[str]:
        sentences = self.sentences(question, passages, query_vector)
        if not sentences:
            yield NOT_FOUND
            return
        for n, sentence in enumerate(sentences):
            yield ("" if n == 0 else " ") + sentence
