"""Checking an LLM's reply against the passages it was given (pure, given the grounding check).

Every claim keeps only the citations whose passage supports it: the rules of `support.py` find nothing the claim adds
that the passage lacks, and the fitted check of `grounding.py` finds the passage carries it. In a reply that cites, a
claim the model left uncited, or cited wrongly, gets the one passage that clearly supports it, marked as matched by
Newsdesk; a claim that no passage supports is removed and named in the note. A reply that cites nothing keeps no
claim: matched to passages by their words alone, a small model's claims made of a passage's common words ("The ONS
said", "The university will provide a £20,000 offer to Gwen Tatlock") were cited, and on dev the extractive answer did
as well as matching its best claims (docs/quality.md, twentieth session). The reply is a refusal only when the model
said so and nothing supported is left. What the model wrote is never turned into "the articles don't say" by the check
itself: when nothing supported is left and the model did not refuse, the caller falls back to the extractive answer.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ..text.sentences import sentences as sentences_of
from ..types import Passage
from ..text.words import content_words
from .grounding import Grounding
from .reply import META, Claim, read_reply
from .support import MATCHED_OVERLAP, Evidence, names, numbers, speaker, support

# a question that asks yes or no: "Has anyone been convicted?", "Did the council approve it?"
YES_NO = re.compile(r"^\W*(?:has|have|had|is|are|was|were|did|does|do|can|could|will|would)\b", re.I)


@dataclass
class CheckedReply:
    """The claims that survived, with `[n]` markers numbering the passages as given (1-based, not renumbered)."""

    text: str
    kept: int  # claims kept with a citation
    refused: bool  # the model said the passages do not answer
    matched: set[int] = field(default_factory=set)  # passages cited by Newsdesk only, for claims the model left uncited
    removed: list[str] = field(default_factory=list)  # claims that no passage supports
    dropped: list[tuple[int, str]] = field(default_factory=list)  # (n, claim): the model's [n] that n does not support
    styles: Counter = field(default_factory=Counter)
    uncited: int = 0  # claims removed because the reply cites no passage at all

    def note(self) -> str:
        """What the check removed, for the user (citations it matched are marked on the citations themselves)."""
        parts = []
        if self.uncited:
            parts.append(f"The LLM's answer cites no passage, so its {self.uncited} sentence"
                         f"{'s are' if self.uncited > 1 else ' is'} not shown.")
        elif self.removed:
            shown = "; ".join(f"“{_short(c)}”" for c in self.removed[:3]) + (" …" if len(self.removed) > 3 else "")
            parts.append(f"Removed {len(self.removed)} sentence{'s' * (len(self.removed) > 1)} of the LLM's answer "
                         f"that no passage supports: {shown}.")
        if self.dropped:
            shown = "; ".join(f"[{n}] from “{_short(c, 50)}”" for n, c in self.dropped[:3])
            parts.append(f"Removed citations the passages do not support: {shown}.")
        return " ".join(parts)


def evidence_for(passages: Sequence[Passage]) -> list[Evidence]:
    """Each passage's evidence: its headline and text, with names from its article's other passages."""
    by_doc: dict[str, list[str]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p.title + "\n" + p.text)
    return [Evidence.of(p.title + "\n" + p.text, by_doc[p.doc_id], p.speakers) for p in passages]


def check_reply(reply: str, passages: Sequence[Passage], question: str, grounding: Grounding) -> CheckedReply:
    evidence = evidence_for(passages)
    asked = frozenset(content_words(question))
    yes_no = bool(YES_NO.match(question))  # what the claim repeats of the question is then its answer
    read = read_reply(reply, [" | ".join(x for x in (p.title, p.date, p.author, p.source) if x) for p in passages])
    out = CheckedReply("", 0, False, styles=read.styles)
    cites = bool(read.floating) or any(c.cited for c in read.claims)
    pieces: list[tuple[Claim, list[int]]] = []
    said_by = ""
    for claim in read.claims:
        if claim.refusal:
            out.refused = True
            if _invents(claim.text, evidence, question):  # "The articles don't say, but it cost $500."
                out.removed.append(claim.text)
            else:
                pieces.append((claim, []))
            continue
        # "The passage asks about ...": about the passages, not the news; "Question: Who ...?" asks, and says nothing
        if META.search(claim.text) or claim.text.rstrip().endswith("?"):
            out.removed.append(claim.text)
            continue
        said_by = speaker(claim.text) or said_by  # whom a later "she said" stands for
        given = [n for n in (claim.cited or read.floating) if 1 <= n <= len(passages)]
        scores = {n: support(claim.text, evidence[n - 1], asked, said_by, yes_no) for n in given}
        cited = [n for n in given if scores[n].holds() and grounding.holds(claim.text, evidence[n - 1].text)]
        if not cited and cites:  # only in a reply that cites does Newsdesk look for the passage itself
            best = best_passage(claim.text, evidence, grounding, asked, said_by, yes_no)
            if best is not None:
                cited = [best]
                out.matched.add(best)
        if not cited:
            out.removed.append(claim.text)
            out.uncited += not cites
            continue
        out.dropped += [(n, claim.text) for n in claim.cited if n in scores and n not in cited]
        out.kept += 1
        pieces.append((claim, cited))
    given_by_model = {n for claim, cited in pieces for n in cited if n in claim.cited or n in read.floating}
    out.matched -= given_by_model
    if out.kept:
        out.text = compose(pieces)
    return out


def best_passage(claim: str, evidence: Sequence[Evidence], grounding: Grounding, asked: frozenset[str] = frozenset(),
                 said_by: str = "", yes_no: bool = False) -> int | None:
    """The passage (1-based) that clearly supports a claim nobody cited: the best supported of those that carry it,
    the higher ranked on a tie."""
    best, best_overlap = None, 0.0
    for n, ev in enumerate(evidence, 1):
        if not support(claim, ev, asked, said_by, yes_no).holds() or not grounding.holds(claim, ev.text):
            continue
        # Nobody chose this passage: its words must come together, in two sentences side by side at most.
        sentences = sentences_of(ev.text)
        for i in range(len(sentences)):
            s = support(claim, Evidence(" ".join(sentences[i:i + 2]), ev.names), asked)
            if s.holds(MATCHED_OVERLAP) and s.overlap > best_overlap:
                best, best_overlap = n, s.overlap
    return best


def _invents(sentence: str, evidence: Sequence[Evidence], question: str) -> bool:
    """A refusal that goes on to state a number or name found in no passage and not asked about."""
    pooled = Evidence(" ".join(e.text for e in evidence) + " " + question,
                      frozenset().union(*(e.names for e in evidence)) | frozenset(
                          w for name in names(question) for w in name))
    s = support(sentence, pooled)
    return bool(s.missing) and bool(numbers(sentence) or names(sentence))


def compose(pieces: Sequence[tuple[Claim, Sequence[int]]]) -> str:
    """Claims with their markers before the final stop ('... opportunities [1].'), in the reply's order and layout."""
    out = []
    for i, (claim, cited) in enumerate(pieces):
        text = claim.text.rstrip()
        marker = " " + "".join(f"[{n}]" for n in cited) if cited else ""
        end = len(text)
        while end and text[end - 1] in ".!?":
            end -= 1
        if end < len(text) and text[end - 1:end] not in {'"', "”", "'", "’", ")"}:
            text = text[:end] + marker + text[end:]
        else:
            text += marker
        out.append(("" if i == 0 else "\n" if claim.gap == "\n" else " ") + text)
    return "".join(out)


def _short(text: str, n: int = 80) -> str:
    text = text.rstrip(" .")
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
