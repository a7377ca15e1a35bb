"""The one sentence splitter of the package: character spans of the sentences of a text, or the sentences (pure)."""
from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sir", "st", "mt", "jr", "sr", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "hon", "inc", "ltd", "co", "corp", "plc", "vs", "v", "no", "nos", "fig", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "etc",
    "u.s", "u.k", "u.n", "a.m", "p.m", "al",
}
# A candidate end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_END_RE = re.compile(r"[.!?。！？]+[\"'”’»)\]]*(?=\s)|[。！？]+[\"'”’»)\]]*")
_PARAGRAPH_RE = re.compile(r"\n\s*\n|\n")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in _PARAGRAPH_RE.split(text):
        start = text.find(para, pos) if para else pos
        pos = start + len(para)
        _split_paragraph(para, start, spans)
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of `text` as strings (see `split_sentences`)."""
    return [text[s:e] for s, e in split_sentences(text)]


def _split_paragraph(para: str, offset: int, spans: list[tuple[int, int]]) -> None:
    begin = 0
    for match in _END_RE.finditer(para):
        end = match.end()
        if not _is_sentence_end(para, match.start(), end):
            continue
        _add_span(para, offset, begin, end, spans)
        begin = end
    _add_span(para, offset, begin, len(para), spans)


def _is_sentence_end(para: str, dot: int, end: int) -> bool:
    if para[dot] != ".":
        return True
    word = re.search(r"([\w.]+)$", para[:dot])
    if word:
        token = word.group(1).lower()
        if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            return False  # "Dr. Smith", "J. Smith"
    nxt = para[end:].lstrip()[:1]
    # "3.5" never reaches here (no whitespace); a lower-case continuation is not a new sentence.
    return not (nxt and nxt.islower())


def _add_span(para: str, offset: int, begin: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = para[begin:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + begin + lead, offset + begin + lead + len(stripped)))
