"""Selection and composition: the sentences to say, in reading order, each with its [n] (pure)."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ...text.quotes import PRONOUNS, attributed, has_quote, leaves_quote_open
from ...text.words import words
from ..citations import defuse_markers
from .candidates import Candidate, places

_POINTS_BACK = re.compile(r"^\W*(?:He|She|They|It|This|These|Those|His|Her|Their|Its)\b")


def choose(cands: Sequence[Candidate], probs: np.ndarray, keep_ratio: float, max_words: int, max_sentences: int,
           quotes: bool = False, one_story: bool = True) -> list[int]:
    """The best sentence, then others nearly as likely (from the same story when `one_story`; not the same words
    again, as a re-published story or a repeated quote has them), within the budget; then what the best one needs
    to be read: the sentence it points back to ("They ...", or one whose speaker is a pronoun: "At 11pm he wrote")
    and, when someone's words are asked (`quotes`), the rest of a quote it leaves open and its speaker's quoted
    sentences either side of it (of a sentence that reports their words too: 'X said the bank could step in. "This
    is a company in the departure lounge of life."')."""
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    best = order[0]
    picked, said = [best], {" ".join(words(cands[best].text))}

    def fits(i: int | None) -> bool:
        return i is not None and i not in picked and \
            sum(cands[j].words for j in picked) + cands[i].words <= max_words

    for i in order[1:]:
        if len(picked) >= max_sentences or probs[i] < keep_ratio * probs[best]:
            break
        plain = " ".join(words(cands[i].text))
        if (not one_story or cands[i].run == cands[best].run) and fits(i) and plain not in said:
            picked.append(i)
            said.add(plain)
    where = places(cands)
    before, after = (where.get((cands[best].run, cands[best].order + k)) for k in (-1, 1))
    if (_POINTS_BACK.match(cands[best].text) or PRONOUNS & set(attributed(cands[best].text))) and fits(before):
        picked.append(before)
    if quotes and leaves_quote_open(cands[best].text) and fits(after):
        picked.append(after)
    if quotes and cands[best].speakers:
        for step in (-1, 1):  # the rest of what they said: their quoted sentences either side
            k = where.get((cands[best].run, cands[best].order + step))
            while k is not None and cands[k].speakers == cands[best].speakers and has_quote(cands[k].text) and \
                    (k in picked or fits(k)):
                if k not in picked:
                    picked.append(k)
                k = where.get((cands[k].run, cands[k].order + step))
    return picked


def reading_order(cands: Sequence[Candidate], picked: Sequence[int]) -> list[int]:
    """Best story first (by its best-ranked passage), each story's sentences in the order the article tells them."""
    first: dict[int, int] = {}
    for c in cands:
        first[c.run] = min(first.get(c.run, c.passage), c.passage)
    return sorted(dict.fromkeys(picked), key=lambda i: (first[cands[i].run], cands[i].order))


def compose(cands: Sequence[Candidate], picked: Sequence[int]) -> list[str]:
    """Answer sentences, each with the number of the passage it came from before its final stop."""
    out = []
    for i in picked:
        text = defuse_markers(cands[i].text.rstrip())  # the article's own '[2]' is not a citation
        marker = f" [{cands[i].passage + 1}]"
        tail = re.search(r"[.!?]*[\"'”’)]*$", text).group(0)
        if tail and not re.search(r"[\"'”’)]", tail):
            out.append(text[: len(text) - len(tail)] + marker + tail)  # "... opportunities [1]."
        else:
            out.append(text + marker)
    return out
