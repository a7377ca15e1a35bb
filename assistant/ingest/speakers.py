"""Who speaks in each chunk: found when an article is chunked, and found again from the record alone when the
attribution rules change, so a rule change rebuilds the keyword text without re-embedding anything."""
from __future__ import annotations

import logging
import time
from typing import Sequence

from ..store.record import ChunkRow, Store
from ..text.quotes import sentence_speakers
from .chunking import split_sentences

log = logging.getLogger(__name__)

# Bump when assistant/text/quotes.py attributes quotes differently. Only the speakers (and the keyword text they are
# part of) are redone, from the record; chunking and embedding changes bump pipeline.PIPELINE (a re-embed) instead.
SPEAKER_RULES = "7"
_RECORD_KEY = "speaker_rules"


def chunk_speakers(text: str, spans: Sequence[tuple[int, int]], chunks: Sequence[tuple[int, int]]
                   ) -> list[tuple[str, ...]]:
    """The names speaking in each chunk (start, end) of an article body whose sentence spans are `spans`."""
    speakers = sentence_speakers(text, spans)
    out = []
    for start, end in chunks:
        names: list[str] = []
        for (s, e), who in zip(spans, speakers):
            if s < end and e > start:
                names += [n for n in who if n not in names]
        out.append(tuple(names))
    return out


def body_from_chunks(chunks: Sequence[ChunkRow]) -> str:
    """An article body rebuilt from its chunks (in order), which hold every sentence at its offset; the whitespace
    between two chunks is not kept, so a one-character gap is read as a space and a longer one as line breaks (a
    paragraph). On the BBC corpus the speakers found in the rebuilt bodies are the original ones for all 7,640
    chunks (a space everywhere: 7,635)."""
    parts, pos = [], 0
    for chunk in chunks:
        gap = chunk.start - pos
        parts.append(" " if gap == 1 else "\n" * max(gap, 0))
        parts.append(chunk.text)
        pos = chunk.end
    return "".join(parts)


def refresh_speakers(store: Store) -> int:
    """Under the write lock: when the record's speakers were found by other rules, find them again from the record
    (no file read, no model run) and store the chunks whose speakers changed; returns how many changed."""
    found_by = store.meta(_RECORD_KEY)
    if found_by == SPEAKER_RULES:
        return 0
    if found_by is None:  # made before the rules had a version of their own: by these rules (PIPELINE 8)
        store.set_meta(_RECORD_KEY, SPEAKER_RULES)
        return 0
    started = time.perf_counter()
    changed: dict[str, tuple[str, ...]] = {}
    checked = 0
    for chunks in store.chunks_by_article():
        body = body_from_chunks(chunks)
        names = chunk_speakers(body, split_sentences(body), [(c.start, c.end) for c in chunks])
        checked += len(chunks)
        changed.update({c.chunk_id: n for c, n in zip(chunks, names) if n != c.speakers})
    store.set_speakers(changed, meta={_RECORD_KEY: SPEAKER_RULES})
    log.info("speaker rules changed (%s -> %s): found the speakers of %d chunks again from the record in %.1fs; "
             "%d changed (nothing re-embedded)", found_by, SPEAKER_RULES, checked, time.perf_counter() - started,
             len(changed))
    return len(changed)
