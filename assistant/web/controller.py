"""The page's actions and the API endpoints, around one `Assistant`: read the inputs, call the API, render.

Every action turns a result (or a `NewsdeskError`) into HTML from `render`; anything else is logged and said in one
line, and the page keeps serving. Uploads are kept by `sources.uploads`. The same actions are API endpoints
(`/ask`, `/ingest`, `/articles`, `/remove`) for `gradio_client`.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import gradio as gr

from ..assistant import LLM_BACKENDS, Assistant
from ..errors import ArticleError, IndexNotFoundError, NewsdeskError, QuestionError
from ..ingest.pipeline import UPLOADS  # the folder in the index that keeps a copy of every upload
from ..sources.uploads import Uploads
from ..types import Answer, ArticleInfo, IngestReport, Waiting
from .render import (EMPTY_SOURCES, answer_dict, article_choices, article_dict, render_library, render_message,
                     render_messages, render_report, render_settings, render_sources, render_status, render_streaming,
                     render_watched, report_dict)

log = logging.getLogger(__name__)

_STREAM_EVERY = 0.05  # seconds between chat repaints while an answer streams


class Controller:
    """Handlers of the page's events and of the API endpoints, around one `Assistant`."""

    def __init__(self, assistant: Assistant, watch: Sequence[str | Path] = (), watch_samples: bool = True):
        self.qa = assistant
        self.uploads = Uploads(Path(assistant.index_dir) / UPLOADS, int(assistant.settings.max_file_mb * 1e6))
        samples = [Path(assistant.settings.samples_dir)] if watch_samples else []
        folders: list[Path] = []
        for folder in [*samples, self.uploads.folder, *(Path(w).expanduser() for w in watch)]:
            folder = folder.resolve()
            if folder not in folders:
                folders.append(folder)
        self.watched = folders
        self._write_lock = threading.Lock()  # one library change at a time from this page

    def scrub(self, message: str) -> str:
        """Every message shown comes through here: no key or base-URL password in it (`Settings.scrub`)."""
        return self.qa.settings.scrub(message)

    def _answer(self, answer: Answer) -> dict[str, Any]:
        data = answer_dict(answer)
        data["note"] = self.scrub(data["note"])
        return data

    # -- answering ----------------------------------------------------------------------------------------------
    def ask_chat(self, question: str, turns: list[dict], top_k: float) -> Iterator[tuple]:
        """Streams (chat, sources, question box, turns, notice) while the answer is written."""
        question = (question or "").strip()
        history = [(t["question"], t["answer"]["text"]) for t in turns if "answer" in t]
        stream = self.qa.ask_stream(question, history, top_k=int(top_k) if top_k else None)
        if not question:  # nothing to put in the chat: let the API word the message
            try:
                next(stream)
            except NewsdeskError as exc:
                yield gr.skip(), gr.skip(), gr.skip(), turns, render_message(self.scrub(str(exc)))
            return
        turns = [*turns, {"question": question}]
        chat = render_messages(turns)
        yield chat + [{"role": "assistant", "content": render_streaming("")}], gr.skip(), "", turns, ""
        text, last = "", 0.0
        try:
            for item in stream:
                if isinstance(item, Answer):
                    turns[-1] = {"question": question, "answer": self._answer(item)}
                    break
                if isinstance(item, Waiting):
                    if not text:
                        waiting = chat + [{"role": "assistant", "content": render_streaming("", item)}]
                        yield waiting, gr.skip(), gr.skip(), turns, ""
                    continue
                text += item
                if time.monotonic() - last >= _STREAM_EVERY:
                    last = time.monotonic()
                    partial = chat + [{"role": "assistant", "content": render_streaming(text)}]
                    yield partial, gr.skip(), gr.skip(), turns, ""
        except NewsdeskError as exc:
            message = self.scrub(str(exc))
            if isinstance(exc, IndexNotFoundError):
                message += " In this page: “Index the sample articles” above, or add articles in the Library tab."
            turns[-1] = {"question": question, "error": message}
            yield render_messages(turns), gr.skip(), gr.skip(), turns, ""
            return
        except Exception as exc:  # the edge: log it, say it, keep serving
            log.exception("answering %r failed", question)
            turns[-1] = {"question": question, "error": f"Something went wrong ({type(exc).__name__}). "
                                                         "The details are in the server log."}
            yield render_messages(turns), gr.skip(), gr.skip(), turns, ""
            return
        yield render_messages(turns), render_sources(turns), gr.skip(), turns, ""

    @staticmethod
    def clear_chat() -> tuple:
        return [], EMPTY_SOURCES, "", [], ""

    # -- library ------------------------------------------------------------------------------------------------
    def articles(self) -> list[ArticleInfo]:
        try:
            return self.qa.articles()
        except NewsdeskError as exc:
            log.warning("cannot list the articles: %s", exc)
            return []

    def header_html(self, articles: Sequence[ArticleInfo] | None = None) -> str:
        articles = self.articles() if articles is None else articles
        return render_status(articles, self.qa.backend + (f" · {self.qa.model_name()}"
                                                          if self.qa.backend in LLM_BACKENDS else ""))

    def library_outputs(self, query: str | None = "", articles: Sequence[ArticleInfo] | None = None) -> tuple:
        """(table, remove choices, header, empty-index offer visibility, watched folders)."""
        articles = self.articles() if articles is None else articles
        return (render_library(articles, query), gr.update(choices=article_choices(articles), value=[]),
                self.header_html(articles), gr.update(visible=not articles), self.watched_html())

    def refresh(self) -> tuple:
        """On every page load: the index may have changed since (another tab, the CLI)."""
        return (*self.library_outputs(), self.settings_html())

    def search_library(self, query: str | None) -> str:
        return render_library(self.articles(), query)

    def _progress(self, progress: gr.Progress | None, label: str) -> Callable[[int, int, str], None]:
        def report(done: int, total: int, message: str) -> None:
            if progress is not None:
                progress((done, total), desc=f"{label}: {message}", unit="files")
        return report

    def _change(self, work: Callable[[], IngestReport], title: str) -> tuple[str, bool]:
        """Run one change of the library: (summary or error message, whether it worked)."""
        try:
            with self._write_lock:
                report = work()
            return render_report(report, title), True
        except NewsdeskError as exc:
            return render_message(self.scrub(str(exc))), False
        except Exception as exc:  # the edge: log it, say it, keep serving
            log.exception("%s failed", title)
            return render_message(f"{title} failed ({type(exc).__name__}). The details are in the server log."), False

    def _library_change(self, work: Callable[[], IngestReport], title: str, query: str | None) -> tuple:
        """(summary, *library_outputs) after one change of the library."""
        return (self._change(work, title)[0], *self.library_outputs(query))

    def ingest_uploads(self, files: Sequence[Any], progress: gr.Progress | None = None) -> IngestReport:
        """Keep the uploaded files in <index>/uploads and index them (`sources.uploads` decides what stays)."""
        on_progress = self._progress(progress, "Indexing uploads")
        return self.uploads.ingest(uploaded_files(files), lambda paths: self.qa.ingest(paths, progress=on_progress),
                                   self.qa.store.articles_from)

    def upload(self, files: list[str] | None, query: str | None, progress=gr.Progress()) -> tuple:
        if not files:
            return (gr.skip(), *(gr.skip(),) * 5, gr.skip())
        _start(progress, len(files), "Storing uploads")
        return (*self._library_change(lambda: self.ingest_uploads(files, progress), "Uploaded", query), None)

    def paste(self, text: str, title: str, query: str | None) -> tuple:
        if not (text or "").strip():
            return (render_message("Paste the article text first (its first line is the headline unless given)."),
                    *(gr.skip(),) * 5, gr.skip(), gr.skip())
        summary, ok = self._change(lambda: self.qa.ingest_text(text, (title or "").strip()), "Added pasted article")
        keep = gr.skip()  # a failed paste keeps the text for another try
        return (summary, *self.library_outputs(query), "" if ok else keep, "" if ok else keep)

    def remove_articles(self, doc_ids: Sequence[str]) -> IngestReport:
        """Remove articles; an uploaded file whose articles are all removed is deleted too (or updating would
        bring it back)."""
        doc_ids = list(doc_ids or [])
        if not doc_ids:
            raise ArticleError("Choose the articles to remove first.")
        self.uploads.delete_removed(self.articles(), doc_ids)
        return self.qa.remove(doc_ids)

    def remove_selected(self, doc_ids: list[str], query: str | None) -> tuple:
        return self._library_change(lambda: self.remove_articles(doc_ids), "Removed", query)

    def update_index(self, query: str | None, progress=gr.Progress()) -> tuple:
        folders = [f for f in self.watched if f.is_dir()]
        if not folders:
            return (render_message("None of the watched folders exists yet.", "info"), *self.library_outputs(query))
        _start(progress, None, "Looking for changes")

        def update() -> IngestReport:
            report = self.qa.ingest(folders, progress=self._progress(progress, "Updating"))
            self.uploads.drop_rejected(report, self.qa.store.articles_from)  # e.g. left by an earlier page
            return report

        return self._library_change(update, "Index updated", query)

    def index_samples(self, query: str | None, progress=gr.Progress()) -> tuple:
        samples = Path(self.qa.settings.samples_dir)
        if not samples.is_dir():
            return (render_message(f"The sample articles are not in {samples}."), *self.library_outputs(query))
        _start(progress, None, "Loading the embedding model")
        return self._library_change(
            lambda: self.qa.ingest([samples], progress=self._progress(progress, "Indexing samples")),
            "Sample articles indexed", query)

    def watched_html(self) -> str:
        return render_watched([(folder, folder.is_dir()) for folder in self.watched])

    # -- settings -----------------------------------------------------------------------------------------------
    def settings_html(self) -> str:
        s = self.qa.settings
        try:
            status = self.qa.status()
            store, embedder = status.store, status.embedder
        except NewsdeskError as exc:
            store, embedder = f"unavailable: {self.scrub(str(exc))}", "all-MiniLM-L6-v2 (local)"
        rows = [
            ("Answers", self.qa.backend + (" (LLM)" if self.qa.backend in LLM_BACKENDS
                                           else " (sentences quoted from the articles, no LLM)")),
            ("Model", self.qa.model_name() or "—"),
            ("LLM server", self.qa.llm_server() or "—"),
            ("API key", "set (hidden)" if s.openai_api_key else "not set"),
            ("LLM time limit", f"{s.llm_timeout:g} s per answer, {s.llm_max_retries} retries included "
                               "(NEWSDESK_LLM_TIMEOUT, NEWSDESK_LLM_MAX_RETRIES)"),
            ("LLM answer cap", f"{s.llm_max_tokens} tokens (NEWSDESK_LLM_MAX_TOKENS)"),
            ("LLM gate", ("on: an LLM answer is withheld when Newsdesk's gate finds the articles do not answer"
                          if s.llm_gate else "off: LLM answers are checked, not gated") + " (NEWSDESK_LLM_GATE)"),
            ("LLM context", f"{s.llm_context} tokens; lower-ranked passages are left out to fit "
                            "(NEWSDESK_LLM_CONTEXT)"),
            ("Embeddings", embedder),
            ("Store", store),
            ("Index folder", str(self.qa.index_dir)),
        ]
        return render_settings(rows)

    def test_connection(self) -> str:
        try:
            message, kind = self.qa.check_llm(), "ok"
        except NewsdeskError as exc:
            message, kind = str(exc), "error"
        except Exception as exc:  # the edge: a readable line instead of a traceback
            log.exception("LLM connection test failed")
            message = f"The connection test failed ({type(exc).__name__}). The details are in the server log."
            kind = "error"
        message = self.scrub(message)
        if kind == "ok" and message.startswith("No LLM"):
            kind = "info"
        return render_message(message, kind)

    # -- API endpoints ------------------------------------------------------------------------------------------
    def api_ask(self, question: str, history: list[list[str]] | None = None, top_k: int | None = None) -> dict:
        """Answer a question from the indexed articles. history: [[question, answer_text], ...] oldest first.
        Returns {question, text, citations: [{number, title, source, url, quote, sentences, ...}], abstained,
        note, backend, seconds, related}."""
        try:
            question, pairs, top_k = ask_arguments(question, history, top_k)
            return self._answer(self.qa.ask(question, pairs, top_k=top_k))
        except NewsdeskError as exc:
            raise gr.Error(self.scrub(str(exc)), print_exception=False) from None
        except Exception as exc:  # the edge: log it, say it, keep serving
            log.exception("/ask failed")
            raise gr.Error(f"Answering failed ({type(exc).__name__}). The details are in the server log.",
                           print_exception=False) from None

    def api_ingest(self, files: list[gr.FileData] | None = None, text: str = "", title: str = "") -> dict:
        """Add uploaded files (.txt .md .html .json .jsonl; stored in <index>/uploads) and/or one pasted
        article (text, optional title). Returns the ingest report {added, updated, unchanged, removed, failed...}."""
        try:
            with self._write_lock:
                report = self.ingest_uploads(files or [])
                if (text or "").strip():
                    pasted = self.qa.ingest_text(text, (title or "").strip())
                    report = report + pasted
        except NewsdeskError as exc:
            raise gr.Error(self.scrub(str(exc)), print_exception=False) from None
        return report_dict(report)

    def api_articles(self, query: str = "") -> list[dict]:
        """The indexed articles [{doc_id, title, source, url, author, date, chunks, indexed_at}], optionally
        only those whose headline, source, date or author contain every word of `query`."""
        words = (query or "").lower().split()
        try:
            articles = self.qa.articles()
        except NewsdeskError as exc:
            raise gr.Error(self.scrub(str(exc)), print_exception=False) from None
        return [article_dict(a) for a in articles
                if all(w in f"{a.title} {a.source} {a.date} {a.author}".lower() for w in words)]

    def api_remove(self, doc_ids: list[str]) -> dict:
        """Remove articles by doc_id (see /articles). Returns the ingest report."""
        try:
            with self._write_lock:
                return report_dict(self.remove_articles(doc_ids))
        except NewsdeskError as exc:
            raise gr.Error(self.scrub(str(exc)), print_exception=False) from None


def _top_k_bounds() -> tuple[int, int]:
    """The passages per answer a request may ask for: what NEWSDESK_TOP_K accepts."""
    from ..settings import Settings

    meta = Settings.model_fields["top_k"].metadata  # pydantic's Ge(1), Le(50)
    return (next(m.ge for m in meta if getattr(m, "ge", None) is not None),
            next(m.le for m in meta if getattr(m, "le", None) is not None))


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def ask_arguments(question: object, history: object, top_k: object) -> tuple[str, list[tuple[str, str]], int | None]:
    """`/ask`'s arguments checked, as (question, [(question, answer), ...], top_k or None); a QuestionError says
    what is wrong with one. The API takes JSON from anyone: a number for the question, a dict for a history turn
    or 10**20 passages must get a readable refusal, not a traceback."""
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise QuestionError(f"question must be text, e.g. \"What did Lei Jun say about chips?\"; "
                            f"got {_shown(question)}.")
    pairs: list[tuple[str, str]] = []
    if history is not None:
        if not isinstance(history, (list, tuple)):
            raise QuestionError(f"history must be a list of [question, answer] pairs, oldest first; "
                                f"got {_shown(history)}.")
        for n, turn in enumerate(history, 1):
            if not (isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, str) for t in turn)):
                raise QuestionError(f"history must be a list of [question, answer] pairs of text, oldest first; "
                                    f"turn {n} is {_shown(turn)}.")
            pairs.append((turn[0], turn[1]))
    if top_k is None:
        return question, pairs, None
    low, high = _top_k_bounds()
    whole = top_k if isinstance(top_k, int) and not isinstance(top_k, bool) else (
        int(top_k) if isinstance(top_k, float) and top_k.is_integer() else None)
    if whole is None or not low <= whole <= high:
        raise QuestionError(f"top_k (passages per answer) must be a whole number from {low} to {high}, or left out "
                            f"for the default; got {_shown(top_k)}.")
    return question, pairs, whole


def _start(progress: gr.Progress | None, total: int | None, message: str) -> None:
    """Show the progress bar at once, before the first file is done (work can start slowly: model loading)."""
    if progress is not None:
        progress((0, total), desc=message, unit="files")


def example_question(evt: gr.SelectData) -> str:
    return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)


def uploaded_files(files: Iterable[Any] | None) -> list[tuple[Path, str]]:
    """Gradio's uploads (paths, FileData, or their dicts) as (temporary file, the name it was uploaded under)."""
    out = []
    for f in files or []:
        src = Path(f if isinstance(f, (str, os.PathLike)) else (f.get("path") if isinstance(f, dict) else f.path))
        original = (f.get("orig_name") if isinstance(f, dict) else getattr(f, "orig_name", None)) or src.name
        out.append((src, original))
    return out
