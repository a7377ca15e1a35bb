"""Packing sentences into chunks that fit the embedder, counted in tiktoken tokens (pure functions)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from ..text.sentences import split_sentences  # noqa: F401  (chunks end on its sentences)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article; `start:end` are offsets into the article body."""

    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    tokens: int


@lru_cache(maxsize=1)
def _encoding():
    from ..settings import use_bundled_tiktoken

    use_bundled_tiktoken()  # before tiktoken looks for cl100k_base
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode_ordinary(text))


def chunk_text(
    doc_id: str, text: str, budget: int, count: Callable[[str], int] = count_tokens
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `budget` tokens; an over-long sentence is cut at words."""
    pieces = _budgeted_pieces(text, split_sentences(text), budget, count)
    chunks: list[Chunk] = []
    cur: list[tuple[int, int, int]] = []
    used = 0
    for start, end, tokens in pieces:
        if cur and used + tokens > budget:
            chunks.append(_make_chunk(doc_id, len(chunks), text, cur))
            cur, used = [], 0
        cur.append((start, end, tokens))
        used += tokens
    if cur:
        chunks.append(_make_chunk(doc_id, len(chunks), text, cur))
    return chunks


def _budgeted_pieces(
    text: str, spans: Sequence[tuple[int, int]], budget: int, count: Callable[[str], int]
) -> list[tuple[int, int, int]]:
    pieces = []
    for start, end in spans:
        tokens = count(text[start:end])
        if tokens <= budget:
            pieces.append((start, end, tokens))
        else:
            pieces.extend(_cut_long(text, start, end, budget, count))
    return pieces


def _cut_long(text: str, start: int, end: int, budget: int, count: Callable[[str], int]) -> list[tuple[int, int, int]]:
    """Windows of whole words, each within the budget (for run-on text with no sentence breaks)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    out = []
    step = max(8, int(budget * 0.6))  # words per window, shrunk until the window fits
    i = 0
    while i < len(words):
        j = min(len(words), i + step)
        while j > i + 1 and count(text[words[i][0]:words[j - 1][1]]) > budget:
            j = i + max(1, (j - i) * 3 // 4)
        out.append((words[i][0], words[j - 1][1], count(text[words[i][0]:words[j - 1][1]])))
        i = j
    return out


def _make_chunk(doc_id: str, ordinal: int, text: str, pieces: list[tuple[int, int, int]]) -> Chunk:
    start, end = pieces[0][0], pieces[-1][1]
    return Chunk(doc_id=doc_id, ordinal=ordinal, text=text[start:end], start=start, end=end,
                 tokens=sum(p[2] for p in pieces))


def embedding_text(title: str, chunk_text: str) -> str:
    """What the embedder and the keyword index see: the headline keeps every chunk in context."""
    return f"{title}\n{chunk_text}" if title else chunk_text
