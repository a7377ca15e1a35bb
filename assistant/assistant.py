"""The `Assistant` facade: wires settings, store, embedder, retriever and answerers together."""
from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from .answering.citations import NOT_FOUND, build_citations, renumber
from .answering.extractive import ExtractiveAnswerer
from .answering.grounding import Grounding
from .sources.articles import Article, parse_text
from .errors import ConfigError, IndexNotFoundError, LLMError, QuestionError
from .settings import Settings, passage_count
from .types import Answer, ArticleInfo, IngestReport, Passage, Status, Waiting

if TYPE_CHECKING:
    from .answering.llm import LLMAnswerer
    from .sources.feeds import Feed, FeedRegistry, RefreshReport
    from .sources.fetch import Fetcher
    from .llama_adapters import NewsdeskQueryEngine, NewsdeskRetriever
    from .sources.watch import Watcher

log = logging.getLogger(__name__)

_FOLLOW_UP = re.compile(r"^\s*(and|but|what about|how about|also|so|then)\b|\b(he|she|they|him|her|them|it|his|its|their|that|this|those)\b", re.I)
History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first
LLM_BACKENDS = ("openai", "llama-index")  # the backends whose answers an LLM writes (and Newsdesk checks)


def _index_folder(home: Path) -> Path:
    """The index folder as an absolute path; a symlink that loops is refused with what to do."""
    folder = Path(os.path.realpath(home))  # every link followed: one still a link is a loop
    if folder.is_symlink():
        raise ConfigError(f"The index folder {home} is a symbolic link that points back to itself (a loop). "
                          "Point NEWSDESK_HOME (or --index) at a real folder.")
    return folder


class Assistant:
    """Ingest articles, retrieve passages, answer questions with citations. Collaborators are injectable.

    `llm`: an `LLMAnswerer`, or any llama-index LLM (`llama_index.core.llms.LLM`), which is then wrapped in one so
    that its answers get the same prompts, limits and citation check; with `NEWSDESK_BACKEND=auto` (the default) an
    `llm` given here writes the answers."""

    def __init__(self, index_dir: str | Path | None = None, settings: Settings | None = None, *,
                 embedder=None, chroma_client=None, llm=None, backend: str | None = None, fetcher=None):
        self.settings = settings or Settings()
        if index_dir is not None:
            self.settings = self.settings.model_copy(update={"home": Path(index_dir).expanduser()})
        self.index_dir = _index_folder(self.settings.home)
        self._llm = self._answerer(llm) if llm is not None else None
        given = self._llm is not None and self.settings.backend == "auto"
        self.backend = backend or (self._llm.name if given else self.settings.answer_backend)
        self._embedder = embedder
        self._chroma_client = chroma_client
        self._fetcher = fetcher
        self._store = None
        self._lock = threading.Lock()

    # -- collaborators, made on first use ---------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .ingest.embedder import Embedder

            s = self.settings
            self._embedder = Embedder(s.embed_batch_size, s.embed_precision, cache_dir=s.model_cache)
        return self._embedder

    @property
    def store(self):
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from .store.record import Store, chroma_client

                    s = self.settings
                    embedded = self._chroma_client is None and not s.chroma_host
                    client = self._chroma_client or (None if embedded else
                                                     chroma_client(self.index_dir, s.chroma_host, s.chroma_port))
                    reopen = (lambda: chroma_client(self.index_dir, fresh=True)) if embedded else None
                    connect = (lambda: chroma_client(self.index_dir)) if embedded else None  # opened on first use
                    self._store = Store(self.index_dir, client, s.collection, reopen=reopen,
                                        documents=s.chroma_documents, connect=connect)
        return self._store

    @property
    def llm(self) -> LLMAnswerer:
        """The `LLMAnswerer`: the `llm` given to the constructor, else the one the settings name (the llama-index LLM
        of NEWSDESK_LLAMA_INDEX_LLM for the llama-index backend, the OpenAI-compatible server otherwise)."""
        if self._llm is None:
            s = self.settings
            if self.backend == "llama-index":
                if not s.llama_index_llm:
                    raise ConfigError("The llama-index backend needs an LLM: set NEWSDESK_LLAMA_INDEX_LLM (e.g. "
                                      "llama_index.llms.openai_like.OpenAILike) and NEWSDESK_LLAMA_INDEX_LLM_ARGS, "
                                      "or pass one as Assistant(llm=...).")
                from .answering.llama_index_llm import load_llm

                self._llm = self._answerer(load_llm(s.llama_index_llm, s.llama_index_llm_args))
            else:
                from .answering.llm import OpenAIChat

                key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
                self._llm = self._answerer(OpenAIChat(s.model, key, s.openai_base_url, s.llm_max_retries))
        return self._llm

    def _answerer(self, llm) -> LLMAnswerer:
        """`llm` as an `LLMAnswerer`: a llama-index LLM or a `ChatModel` gets the settings' prompts and limits."""
        from .answering.llama_index_llm import LlamaIndexChat, is_llama_index_llm
        from .answering.llm import LLMAnswerer

        s = self.settings
        if is_llama_index_llm(llm):
            llm = LlamaIndexChat(llm, s.llm_max_retries)
        elif not (hasattr(llm, "stream_chat") and hasattr(llm, "name")):
            return llm  # an LLMAnswerer, or an object that answers like one
        return LLMAnswerer(llm, s.prompts_dir, s.llm_context, s.llm_max_tokens, s.llm_timeout)

    @property
    def retriever(self):
        from .retrieve.hybrid import Retriever

        return Retriever(self.store, self.embedder)

    @property
    def extractive(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.embedder.embed, idf=lambda words: self.store.keyword_index().idf(words))

    @functools.cached_property
    def grounding(self) -> Grounding:
        """Whether a passage carries a claim an LLM cited it for (answering/grounding.py)."""
        return Grounding(self.embedder.embed)

    def article_text(self, doc_id: str) -> str:
        """The headline and body of an indexed article, rebuilt from its chunks."""
        article = self.store.article(doc_id)
        return (article.title if article else "") + "\n" + " ".join(c.text for c in self.store.chunks_of(doc_id))

    # -- ingest ---------------------------------------------------------------------------------------------------
    def _ingestor(self):
        from .ingest.pipeline import Ingestor

        return Ingestor(self.store, self.embedder, self.settings.chunk_tokens, int(self.settings.max_file_mb * 1e6))

    def ingest(self, paths: str | Path | Sequence[str | Path], progress=None) -> IngestReport:
        """Add, update or remove articles so the index matches these files and folders (http(s) URLs are fetched)."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        urls = [p for p in paths if isinstance(p, str) and p.lower().startswith(("http://", "https://"))]
        if urls:
            files = [p for p in paths if p not in urls]
            report = self.ingest_urls(urls, progress)
            return report + self.ingest(files, progress) if files else report
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

    # -- URLs, feeds and watched folders (fetch.py, feeds.py, watch.py) ------------------------------------------------
    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from .sources.fetch import Fetcher

            s = self.settings
            self._fetcher = Fetcher(s.user_agent, s.fetch_timeout, int(s.fetch_max_mb * 1e6), s.fetch_host_delay)
        return self._fetcher

    def ingest_urls(self, urls: Sequence[str], progress=None) -> IngestReport:
        """Fetch article pages, extract their main text and metadata, and index them under their canonical URL."""
        from dataclasses import replace

        from .errors import ArticleError, FetchError
        from .sources.fetch import fetch_article

        articles, failed = [], []
        for n, url in enumerate(urls):
            if progress:
                progress(n, len(urls), f"fetching {url}")
            try:
                articles.append(fetch_article(url, self.fetcher))
            except FetchError as exc:
                failed.append((url, exc.reason))
            except ArticleError as exc:
                failed.append((url, str(exc)))
        if progress:
            progress(len(urls), len(urls), "fetched")
        from_feeds = {link for feed in self.feeds() for link in feed.entries} if articles else set()
        for i, article in enumerate(articles):
            old = self.store.article(article.doc_id) if article.url in from_feeds else None
            if old is not None:  # a feed item's title, author and date win over what the page suggests
                articles[i] = replace(article, title=old.title, author=old.author or article.author,
                                      date=old.date or article.date)
        report = self.ingest_articles(articles) if articles else IngestReport()
        return IngestReport(failed=failed) + report  # the URLs that failed first

    def feed_registry(self) -> FeedRegistry:
        from .sources.feeds import FeedRegistry

        return FeedRegistry(self.index_dir)

    def feeds(self) -> list[Feed]:
        """The remembered feeds (`Feed`: url, title, checked_at, changed_at, error...)."""
        return self.feed_registry().feeds()

    def add_feed(self, url: str) -> Feed:
        """Remember an RSS or Atom feed (nothing is fetched until `refresh_feeds`); returns its `Feed`."""
        return self.feed_registry().add(url)[0]

    def remove_feed(self, url: str) -> bool:
        """Forget a feed; the articles it brought stay indexed."""
        return self.feed_registry().remove(url)

    def refresh_feeds(self, progress=None) -> RefreshReport:
        """Fetch every remembered feed once and index new and changed entries; a `RefreshReport`, errors per feed."""
        from .sources.feeds import refresh_feeds

        def is_indexed(link: str) -> bool:
            return self.store.article(Article(title="", text="", source=link, url=link).doc_id) is not None

        return refresh_feeds(self.feed_registry(), self.fetcher, self.ingest_articles, is_indexed, progress)

    def watcher(self, folders: Sequence[str | Path], debounce: float | None = None, reconcile: float | None = None,
                on_report=None) -> Watcher:
        """A `Watcher` keeping the index in step with these folders; call `start()` (and later `stop()`)."""
        from .sources.watch import Watcher

        s = self.settings
        return Watcher(self, folders, s.watch_debounce if debounce is None else debounce,
                       s.watch_reconcile if reconcile is None else reconcile, on_report)

    # -- reading ----------------------------------------------------------------------------------------------------
    def articles(self) -> list[ArticleInfo]:
        return [ArticleInfo(a.doc_id, a.title, a.source, a.path, a.url, a.author, a.date, a.chunk_count, a.indexed_at)
                for a in self.store.articles()]

    def status(self) -> Status:
        articles, chunks = self.store.counts()
        model = self.model_name()
        return Status(articles, chunks, str(self.index_dir), self.store.describe(), self.backend, model,
                      "all-MiniLM-L6-v2 (local)")

    def model_name(self) -> str:
        """The LLM that writes answers ("" for extractive answers), without loading it."""
        if self.backend not in LLM_BACKENDS:
            return ""
        if self._llm is not None:
            return self._llm.model
        if self.backend == "llama-index":
            args = self.settings.llama_index_llm_args
            return str(args.get("model") or args.get("model_name") or self.settings.llama_index_llm or "")
        return self.settings.model

    def llm_server(self) -> str:
        """Where LLM answers are written, safe to show (no credentials); "" for extractive answers."""
        from .settings import redact_url

        s = self.settings
        if self.backend == "llama-index":
            where = getattr(getattr(self._llm, "chat", None), "where", "")
            url = s.llama_index_llm_args.get("api_base") or s.llama_index_llm_args.get("base_url")
            return where or f"{s.llama_index_llm or 'llama-index LLM'}" + (f" at {redact_url(str(url))}" if url else "")
        return (redact_url(s.openai_base_url) or "OpenAI") if self.backend == "openai" else ""

    def retrieve(self, question: str, top_k: int = 10) -> list[Passage]:
        question = self._check_question(question)
        return self.retriever.retrieve(question, top_k=passage_count(top_k))

    # -- llama-index (llama_adapters.py; llama-index is imported only when one is asked for) --------------------------
    def as_retriever(self, top_k: int | None = None) -> NewsdeskRetriever:
        """Newsdesk's retrieval as a llama-index `BaseRetriever`, for any llama-index query or chat engine: nodes
        `NodeWithScore(TextNode(text, id_=chunk_id, metadata={doc_id, title, source, url, author, date}))` in
        Newsdesk's fused order, `top_k` of them (default NEWSDESK_TOP_K)."""
        from .llama_adapters import NewsdeskRetriever

        return NewsdeskRetriever(self, passage_count(self.settings.top_k if top_k is None else top_k))

    def as_query_engine(self, streaming: bool = False, top_k: int | None = None) -> NewsdeskQueryEngine:
        """Newsdesk's checked answers as a llama-index query engine: `Response.response` is `Answer.text`,
        `source_nodes` are the cited passages in citation order ([1] first), `metadata["answer"]` the `Answer`.
        `streaming=True` gives a `StreamingResponse` whose text, once read, is the checked answer."""
        from .llama_adapters import NewsdeskQueryEngine

        return NewsdeskQueryEngine(self, streaming=streaming, top_k=None if top_k is None else passage_count(top_k))

    # -- answering ----------------------------------------------------------------------------------------------------
    def ask(self, question: str, history: History = (), top_k: int | None = None) -> Answer:
        answer = None
        for item in self.ask_stream(question, history, top_k):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history: History = (), top_k: int | None = None
                   ) -> Iterator[str | Waiting | Answer]:
        """Text deltas as the answer is written, `Waiting` while an LLM is slow to start, then the checked `Answer`.

        An LLM's reply is checked before it becomes the answer (see answering/check.py): the `Answer`'s text can
        differ from the deltas, and then its note says what changed and why."""
        started = time.perf_counter()
        question = self._check_question(question)
        top_k = passage_count(self.settings.top_k if top_k is None else top_k)
        query, note = self._standalone(question, history)
        retriever = self.retriever
        vector = self.embedder.embed_query(query)
        passages = retriever.retrieve(query, top_k=top_k, query_vector=vector)
        passages = retriever.with_next(passages)
        # A follow-up retrieves with its context but is answered as asked ("and what did Lei say?").
        focus, focus_vector = (question, None) if query != question else (query, vector)
        if self.backend in LLM_BACKENDS and passages:
            raw = ""
            fitted = self.llm.fit(query, passages)  # the LLM reads a follow-up as rewritten
            try:
                for delta in self.llm.stream(query, fitted.passages):
                    if isinstance(delta, str):
                        raw += delta
                    yield delta
            except LLMError as exc:
                if raw:
                    yield "\n\n"
                note = f"{exc} Showing an extractive answer instead."
            else:
                if fitted.left_out:
                    note = _join(note, f"{fitted.left_out} lower-ranked passage{'s' * (fitted.left_out > 1)} left "
                                       f"out to fit the model's context (NEWSDESK_LLM_CONTEXT={self.llm.context_tokens}).")
                yield self._checked(question, focus, focus_vector, raw, fitted.passages, passages, note, started)
                return
        text = ""
        extractive = self.extractive
        for delta in extractive.stream(focus, passages, focus_vector):
            text += delta
            yield delta
        yield self._finish(question, text, passages, "extractive", _join(note, extractive.why), started)

    def _checked(self, question: str, focus: str, focus_vector, raw: str, passages: list[Passage],
                 retrieved: list[Passage], note: str, started: float) -> Answer:
        """The LLM's reply once checked against the `passages` it read; the extractive answer from everything
        `retrieved` (with a note) when nothing in the reply could be matched."""
        from .answering.check import check_reply

        checked = check_reply(raw, passages, question, self.grounding)
        vetoed = self.extractive.refuses(focus, retrieved, focus_vector) if checked.kept and \
            self.settings.llm_gate else ""
        if checked.kept and not vetoed:
            answer = self._finish(question, checked.text, passages, self.llm.name, _join(note, checked.note()),
                                  started, matched=checked.matched)
            found = [f"[{c.number}]" for c in answer.citations if c.matched]
            if found:
                answer.note = _join(answer.note, f"{', '.join(found)}: found by Newsdesk for sentences the LLM left "
                                                 "uncited.")
        elif vetoed or checked.refused:  # withheld by the gate, or refused by the model itself
            why = f"The LLM's answer is withheld: {vetoed} (NEWSDESK_LLM_GATE=false shows it.)" if vetoed else \
                checked.note()
            answer = Answer(NOT_FOUND, [], question, self.llm.name, True, _join(note, why), passages,
                            time.perf_counter() - started)
        else:
            why = "The LLM's answer could not be matched to the articles, so this answer is extractive."
            if checked.removed:
                why += " " + checked.note()
            text = "".join(self.extractive.stream(focus, retrieved, focus_vector))
            answer = self._finish(question, text, retrieved, "extractive", _join(note, why), started)
        answer.raw = raw
        return answer

    def _finish(self, question: str, text: str, passages: list[Passage], backend: str, note: str, started: float,
                matched: set[int] = frozenset()) -> Answer:
        text, order = renumber(text, len(passages))
        if not order:
            return Answer(NOT_FOUND, [], question, backend, True, note, passages, time.perf_counter() - started)
        citations = build_citations(text, passages, order, matched)
        return Answer(text, citations, question, backend, False, note, passages, time.perf_counter() - started)

    def _standalone(self, question: str, history: History) -> tuple[str, str]:
        """The question to retrieve with: rewritten by the LLM, or joined to the last question when it is a follow-up."""
        if not history:
            return question, ""
        if self.backend in LLM_BACKENDS:
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
        if not re.search(r"[^\W_]", question):
            raise QuestionError("The question has no words to search for: ask about something in the articles, "
                                "e.g. “What did Lei Jun say about chips?”")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"The question is {len(question):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (NEWSDESK_MAX_QUESTION_CHARS). Shorten it.")
        if self.store.is_empty():
            raise IndexNotFoundError(str(self.index_dir))
        return question

    def check_llm(self) -> str:
        if not self.settings.llm_configured and self.backend not in LLM_BACKENDS:
            return "No LLM is configured: answers are extractive. Set OPENAI_API_KEY (and OPENAI_BASE_URL) to use one."
        return self.llm.check()


def _join(*notes: str) -> str:
    return " ".join(n for n in notes if n)


_default: Assistant | None = None


def answer(question: str, history: History = ()) -> Answer:
    """Answer a question from the default index (NEWSDESK_HOME, else ./index)."""
    global _default
    if _default is None:
        _default = Assistant()
    return _default.ask(question, history)
