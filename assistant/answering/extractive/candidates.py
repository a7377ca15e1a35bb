"""Candidates: every sentence of the retrieved passages, with who speaks in it and the sentence before it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ...text.quotes import sentence_speakers
from ...text.sentences import split_sentences
from ...types import Passage

_NOISE = re.compile(r"(?i)(photo:|alt=|click here|subscribe|sign up|newsletter|read more|advertisement|©)")
_HEADING = re.compile(r"^#{1,6}\s")  # a Markdown article's subheading: a label, not a sentence of the story


@dataclass(frozen=True)
class Candidate:
    passage: int  # index into the passages (their retrieval rank)
    position: int  # sentence index inside the passage
    text: str
    speakers: tuple[str, ...]
    previous: str = ""  # the sentence before it in the article (across a chunk boundary too)
    run: int = 0  # retrieved chunks that follow each other in one article form a run ...
    order: int = 0  # ... and this is the sentence's place in it: neighbours are (run, order +- 1)
    offset: int = 0  # where the sentence starts in its article (characters)

    @property
    def words(self) -> int:
        return len(self.text.split())


def places(cands: Sequence[Candidate]) -> dict[tuple[int, int], int]:
    """Each candidate's index by its place, (run, order): its neighbours in the article are at (run, order +- 1)."""
    return {(c.run, c.order): i for i, c in enumerate(cands)}


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
    """Every sentence of every passage, in retrieval order. Chunks that follow each other in one article are read as
    one text, so a quote that goes on across a chunk boundary keeps its speaker."""
    out = []
    for run_index, run in enumerate(runs(passages)):
        text, spans, owners, known = "", [], [], []
        for n, p_index in enumerate(run):
            p = passages[p_index]
            if n:  # chunks end on sentences: one space apart, they split a paragraph
                text += " " if p.start - passages[run[n - 1]].end <= 1 else "\n"
            shift = len(text)
            text += p.text
            for s_index, (s, e) in enumerate(split_sentences(p.text)):
                spans.append((shift + s, shift + e))
                owners.append((p_index, s_index, p.start + s))
            known += [name for name in p.speakers if name not in known]
        previous = ""
        for order, ((s, e), who, (p_index, s_index, offset)) in enumerate(
                zip(spans, sentence_speakers(text, spans, known=known), owners)):
            sentence = text[s:e].strip()
            if len(sentence) >= 12 and not _NOISE.search(sentence) and not _HEADING.match(sentence):
                out.append(Candidate(p_index, s_index, sentence, who, previous, run_index, order, offset))
            previous = sentence
    out.sort(key=lambda c: (c.passage, c.position))
    return out
