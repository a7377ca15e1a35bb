"""The `Assistant` facade: wires settings, store, embedder, retriever and answerers together."""
from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from .answering.citations import NOT_FOUND, build_citations, drop_unsupported, is_refusal, renumber
from .answering.extractive import ExtractiveAnswerer
from .articles import Article, parse_text
from .errors import IndexNotFoundError, LLMError, QuestionError
from .settings import Settings
from .types import Answer, ArticleInfo, IngestReport, Passage, Status

log = logging.getLogger(__name__)

_FOLLOW_UP = re.compile(r"^\s*(and|but|what about|how about|also|so|then)\b|\b(he|she|they|him|her|them|it|his|its|their|that|this|those)\b", re.I)
History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first


class Assistant:
    """Ingest articles, retrieve passages, answer questions with citations. Collaborators are injectable."""

    def __init__(self, index_dir: str | Path | None = None, settings: Settings | None = None, *,
                 embedder=None, chroma_client=None, llm=None, backend: str | None = None):
        self.settings = settings or Settings()
        if index_dir is not None:
            self.settings = self.settings.model_copy(update={"home": Path(index_dir).expanduser()})
        self.index_dir = self.settings.home.resolve()
        self.backend = backend or self.settings.answer_backend
        self._embedder = embedder
        self._chroma_client = chroma_client
        self._llm = llm
        self._store = None
        self._lock = threading.Lock()

    # -- collaborators, made on first use ---------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .embedder import Embedder

            self._embedder = Embedder(self.settings.embed_batch_size, self.settings.embed_precision)
        return self._embedder

    @property
    def store(self):
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from .store import Store, chroma_client

                    client = self._chroma_client or chroma_client(
                        self.index_dir, self.settings.chroma_host, self.settings.chroma_port)
                    self._store = Store(self.index_dir, client, self.settings.collection)
        return self._store

    @property
    def llm(self):
        if self._llm is None:
            from .answering.llm import OpenAIAnswerer

            s = self.settings
            key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
            self._llm = OpenAIAnswerer(s.model, s.prompts_dir, key, s.openai_base_url, s.llm_timeout, s.llm_max_retries)
        return self._llm

    @property
    def retriever(self):
        from .retrieval import Retriever

        return Retriever(self.store, self.embedder)

    @property
    def extractive(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.embedder.embed, idf=lambda words: self.store.keyword_index().idf(words),
                                  article_text=self.article_text)

    def article_text(self, doc_id: str) -> str:
        """The headline and body of an indexed article, rebuilt from its chunks."""
        article = self.store.article(doc_id)
        return (article.title if article else "") + "\n" + " ".join(c.text for c in self.store.chunks_of(doc_id))

    # -- ingest ---------------------------------------------------------------------------------------------------
    def _ingestor(self):
        from .ingest import Ingestor

        return Ingestor(self.store, self.embedder, self.settings.chunk_tokens, int(self.settings.max_file_mb * 1e6))

    def ingest(self, paths: str | Path | Sequence[str | Path], progress=None) -> IngestReport:
        """Add, update or remove articles so the index matches these files and folders."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self._ingestor().ingest_paths(list(paths), progress)

    def ingest_articles(self, articles: Sequence[Article], progress=None) -> IngestReport:
        return self._ingestor().ingest_articles(articles, progress)

    def ingest_text(self, text: str, title: str = "", source: str = "") -> IngestReport:
        """A pasted article: the first line is the headline unless `title` is given."""
        article = parse_text(f"{title}\n\n{text}" if title else text, path="", url=source)
        if not article.url:
            import hashlib

            digest = hashlib.sha1(article.text.encode("utf-8")).hexdigest()[:12]
            article = Article(title=article.title, text=article.text, source=source or f"pasted:{digest}",
                              path=f"pasted:{digest}", author=article.author, date=article.date)
        return self.ingest_articles([article])

    def remove(self, doc_ids: Sequence[str]) -> IngestReport:
        return self._ingestor().remove(list(doc_ids))

    # -- reading ----------------------------------------------------------------------------------------------------
    def articles(self) -> list[ArticleInfo]:
        return [ArticleInfo(a.doc_id, a.title, a.source, a.path, a.url, a.author, a.date, a.chunk_count, a.indexed_at)
                for a in self.store.articles()]

    def status(self) -> Status:
        articles, chunks = self.store.counts()
        model = self.settings.model if self.backend == "openai" else ""
        return Status(articles, chunks, str(self.index_dir), self.store.describe(), self.backend, model,
                      "all-MiniLM-L6-v2 (local)")

    def retrieve(self, question: str, top_k: int = 10) -> list[Passage]:
        question = self._check_question(question)
        return self.retriever.retrieve(question, top_k=top_k)

    # -- answering ----------------------------------------------------------------------------------------------------
    def ask(self, question: str, history: History = (), top_k: int | None = None) -> Answer:
        answer = None
        for item in self.ask_stream(question, history, top_k):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history: History = (), top_k: int | None = None) -> Iterator[str | Answer]:
        """Text deltas as the answer is written, then the checked `Answer` as the last item."""
        started = time.perf_counter()
        question = self._check_question(question)
        query, note = self._standalone(question, history)
        retriever = self.retriever
        vector = self.embedder.embed_query(query)
        passages = retriever.retrieve(query, top_k=top_k or self.settings.top_k, query_vector=vector)
        backend = self.backend
        raw = ""
        if backend == "openai" and passages:
            try:
                for delta in self.llm.stream(question if query == question else query, passages):
                    raw += delta
                    yield delta
            except LLMError as exc:
                if raw:
                    yield "\n\n"
                note = f"{exc} Showing an extractive answer instead."
                backend, raw = "extractive", ""
        if backend == "extractive" or not passages:
            backend = "extractive"
            # A follow-up retrieves with its context but is answered as asked ("and what did Lei say?").
            focus, focus_vector = (question, None) if query != question else (query, vector)
            for delta in self.extractive.stream(focus, passages, focus_vector):
                raw += delta
                yield delta
        yield self._finish(question, raw, passages, backend, note, started)

    def _finish(self, question: str, raw: str, passages: list[Passage], backend: str, note: str, started: float) -> Answer:
        warnings: list[str] = []
        text = raw
        if backend == "openai":
            text, warnings = drop_unsupported(text, passages)
        text, order = renumber(text, len(passages))
        if not order or is_refusal(text) and len(order) == 0:
            return Answer(NOT_FOUND if not order else text, [], question, backend, True, note, passages,
                          time.perf_counter() - started)
        citations = build_citations(text, passages, order)
        if warnings:
            note = (note + " " if note else "") + "Unsupported citations removed: " + "; ".join(warnings)
        return Answer(text, citations, question, backend, False, note, passages, time.perf_counter() - started)

    def _standalone(self, question: str, history: History) -> tuple[str, str]:
        """The question to retrieve with: rewritten by the LLM, or joined to the last question when it is a follow-up."""
        if not history:
            return question, ""
        if self.backend == "openai":
            try:
                return self.llm.condense(question, history), ""
            except LLMError as exc:
                log.info("could not rewrite the follow-up question: %s", exc)
        if _FOLLOW_UP.search(question) or len(question.split()) <= 5:
            return f"{history[-1][0]} {question}", ""
        return question, ""

    def _check_question(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("Type a question about the articles, e.g. “What did Lei Jun say about chips?”")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"The question is {len(question):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (NEWSDESK_MAX_QUESTION_CHARS). Shorten it.")
        if self.store.counts()[0] == 0:
            raise IndexNotFoundError(str(self.index_dir))
        return question

    def check_llm(self) -> str:
        if not self.settings.llm_configured and self.backend != "openai":
            return "No LLM is configured: answers are extractive. Set OPENAI_API_KEY (and OPENAI_BASE_URL) to use one."
        return self.llm.check()


_default: Assistant | None = None


def answer(question: str, history: History = ()) -> Answer:
    """Answer a question from the default index (NEWSDESK_HOME, else ./index)."""
    global _default
    if _default is None:
        _default = Assistant()
    return _default.ask(question, history)
