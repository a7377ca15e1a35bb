"""The plain data the public API hands out: passages, citations, answers, ingest reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of one article, ready to be cited."""

    doc_id: str
    title: str
    source: str  # the article's file path or URL
    text: str
    score: float
    chunk_id: str = ""
    start: int = 0  # character offsets of `text` in the article body
    end: int = 0
    url: str = ""
    author: str = ""
    date: str = ""
    speakers: tuple[str, ...] = ()
    dense: float = 0.0  # cosine similarity to the question (0 when only the keyword side found it)
    keyword: float = 0.0  # BM25 score (0 when only the dense side found it)
    # the vectors of the sentences of `text` stored at ingest, a row for each span of
    # assistant.ingest.chunking.split_sentences(text); None when the index has none for this chunk
    sentence_vectors: "np.ndarray | None" = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer; `quote` is the passage text it points to."""

    number: int
    doc_id: str
    title: str
    source: str
    quote: str
    url: str = ""
    author: str = ""
    date: str = ""
    sentences: tuple[str, ...] = ()  # the sentences of `quote` that support the answer
    matched: bool = False  # True when Newsdesk found this source for a claim the LLM left uncited
    chunk_id: str = ""  # the cited passage's chunk (its id in the store, and its node id in llama-index)


@dataclass
class Answer:
    """An answer with [n] markers in `text`; citations[i].number == i + 1."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    backend: str = "extractive"
    abstained: bool = False  # True when the articles do not answer the question
    note: str = ""  # e.g. "The LLM was unreachable; this answer is extractive."
    passages: list[Passage] = field(default_factory=list)  # everything retrieved, cited or not
    seconds: float = 0.0
    raw: str = ""  # the LLM's reply as it wrote it, before the check (empty for extractive answers)


@dataclass(frozen=True)
class Waiting:
    """Yielded by `Assistant.ask_stream` about every second while the LLM has not written anything new."""

    seconds: float  # waited so far
    limit: float  # the time limit (NEWSDESK_LLM_TIMEOUT)


@dataclass
class IngestReport:
    """What one ingest did. Counts are articles; `failed` lists (path, reason)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    tokens: int = 0  # tokens embedded in this run (model word pieces)
    seconds: float = 0.0
    changes: list[tuple[str, str]] = field(default_factory=list)  # (action, source)

    def __add__(self, other: "IngestReport") -> "IngestReport":
        """One report for two ingests (URLs and files, removals and additions): counts and lists add up."""
        return IngestReport(self.added + other.added, self.updated + other.updated, self.unchanged + other.unchanged,
                            self.removed + other.removed, self.failed + other.failed, self.chunks + other.chunks,
                            self.tokens + other.tokens, self.seconds + other.seconds, self.changes + other.changes)

    def summary(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.failed)} failed"
        )
        return text + f" ({self.chunks} chunks embedded in {self.seconds:.1f}s)"


@dataclass(frozen=True)
class ArticleInfo:
    """One indexed article as the library lists it."""

    doc_id: str
    title: str
    source: str
    path: str
    url: str
    author: str
    date: str
    chunks: int
    indexed_at: str


@dataclass(frozen=True)
class Status:
    articles: int
    chunks: int
    index_dir: str
    store: str  # "embedded (path)" or "server host:port"
    backend: str
    model: str
    embedder: str
