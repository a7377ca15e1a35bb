"""Citation markers: parse, check against the passages given, renumber by first use (pure functions)."""
from __future__ import annotations

import re
from typing import Collection, Sequence

from ..text.sentences import sentences as sentences_of, split_sentences
from ..text.words import content_words
from ..types import Citation, Passage

NOT_SAID = "The articles don't say:"  # opens a refusal, and a part of an answer that nothing answers
NOT_FOUND = f"{NOT_SAID} this is not in the indexed articles."
_MARKER_RE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def strip_markers(text: str) -> str:
    return _MARKER_RE.sub("", text)


_ARTICLE_MARKER = re.compile(r"\s?(?:\[\d+(?:\s*[,;]\s*\d+)*\]|【\d+】)")


def defuse_markers(text: str) -> str:
    """Article text without its own bracketed numbers ('... in 1962 [2].'): only Newsdesk may write a citation."""
    return _ARTICLE_MARKER.sub("", text)


def markers(text: str) -> list[int]:
    """Every citation number in order of appearance: '[2] ... [1, 3]' -> [2, 1, 3]."""
    return [int(n) for m in _MARKER_RE.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def renumber(text: str, count: int) -> tuple[str, list[int]]:
    """Drop numbers outside 1..count, renumber the rest 1..k by first use.

    Returns the new text and, for each new number, the 0-based index of the passage it points to.
    """
    order: list[int] = []

    def replace(match: re.Match) -> str:
        kept = []
        for n in (int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))):
            if 1 <= n <= count:
                if n not in order:
                    order.append(n)
                new = order.index(n) + 1
                if new not in kept:
                    kept.append(new)
        return "".join(f"[{n}]" for n in kept)

    out = _MARKER_RE.sub(replace, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", out)).strip()
    return out, [n - 1 for n in order]


def support(claim: str, passage_text: str) -> float:
    """Share of the claim's content words found in the passage (0..1): a cheap lexical entailment check."""
    words = content_words(_MARKER_RE.sub("", claim))
    if not words:
        return 1.0
    found = content_words(passage_text)
    stems = {w[:5] for w in found}
    hits = sum(1 for w in words if w in found or w[:5] in stems)
    return hits / len(words)


def supporting_sentences(claims: Sequence[str], passage_text: str, limit: int = 2) -> tuple[str, ...]:
    """The sentences of a passage that best back the claims citing it (for highlighting)."""
    sentences = sentences_of(passage_text)
    scored = []
    for sentence in sentences:
        best = max((support(c, sentence) * min(1.0, len(content_words(sentence)) / 3) for c in claims), default=0.0)
        scored.append((best, sentence))
    top = [s for score, s in sorted(scored, key=lambda x: -x[0])[:limit] if score > 0.2]
    return tuple(s for s in sentences if s in top)


def build_citations(text: str, passages: Sequence[Passage], order: Sequence[int],
                    matched: Collection[int] = ()) -> list[Citation]:
    """Citation objects for renumbered text: number i+1 points to passages[order[i]]; `matched` holds the 1-based
    passage numbers that Newsdesk found for claims the LLM left uncited."""
    claims = claims_by_number(text)
    out = []
    for number, index in enumerate(order, 1):
        p = passages[index]
        out.append(Citation(number=number, doc_id=p.doc_id, title=p.title, source=p.source, quote=p.text, url=p.url,
                            author=p.author, date=p.date,
                            sentences=supporting_sentences(claims.get(number, []), p.text),
                            matched=index + 1 in matched, chunk_id=p.chunk_id))
    return out


def claim_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer, with a trailing marker-only piece ("... end. [2]") kept on its sentence."""
    spans: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if spans and not _MARKER_RE.sub("", text[s:e]).strip(" .,;:"):
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def claims_by_number(text: str) -> dict[int, list[str]]:
    """Each citation number -> the answer sentences that carry it."""
    out: dict[int, list[str]] = {}
    for s, e in claim_spans(text):
        sentence = text[s:e]
        for n in markers(sentence):
            out.setdefault(n, []).append(_MARKER_RE.sub("", sentence).strip())
    return out
