"""The Gradio web page: chat with streamed, cited answers beside their sources; a library; settings.

Render only: every action calls the public `Assistant` API and turns the result (or a `NewsdeskError`) into
HTML. Everything that came from an article is escaped before it reaches the page, and only http(s) URLs
become links. The same actions are API endpoints (`/ask`, `/ingest`, `/articles`, `/remove`) for
`gradio_client`.
"""
from __future__ import annotations

import html
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

# Before gradio is imported: no usage analytics and no version check leave the machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from ..sources.articles import SUPPORTED_SUFFIXES, too_large  # noqa: E402
from ..assistant import LLM_BACKENDS, Assistant  # noqa: E402
from ..errors import ArticleError, ConfigError, IndexNotFoundError, NewsdeskError, QuestionError  # noqa: E402
from ..ingest.pipeline import UPLOADS  # noqa: E402  (the folder in the index that keeps a copy of every upload)
from ..settings import redact_url  # noqa: E402,F401  (the one credential scrubber; tests import it from here too)
from ..types import Answer, ArticleInfo, Citation, IngestReport, Passage, Waiting  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "What did Lei Jun say about chips?",
    "How many buses is Halbrook buying?",
    "What did Okafor say about fares?",
    "Why did the Reserve Bank of Caldora cut its rate?",
    "How many Norvale Water customers were affected by the breach?",
    "Which film won the Golden Heron?",
]
MAX_UPLOAD_NAME = 100
_MARKER = re.compile(r"\[(\d+)\]")
_STREAM_EVERY = 0.05  # seconds between chat repaints while an answer streams


# ----------------------------------------------------------------------------------------------------------------
# Pure rendering: plain data in, escaped HTML out
# ----------------------------------------------------------------------------------------------------------------
def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def http_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL, else "" (never javascript:, data:, file paths...)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c in url for c in "\x00\r\n\t <>\"'`"):
        return ""
    return url


def source_label(source: str) -> str:
    """What a source looks like on a card: host/path for a URL, the file name for a path."""
    url = http_url(source)
    if url:
        parts = urlsplit(url)
        host = parts.netloc.lower().removeprefix("www.")
        return (host + parts.path.rstrip("/")) or url
    if source.startswith("pasted:"):
        return "pasted text"
    return Path(source).name or source


def source_html(source: str, url: str = "") -> str:
    """A link (new tab) when the article has an http(s) URL, else the file name as text."""
    link = http_url(url) or http_url(source)
    label = esc(source_label(link or source))
    if link:
        return (f'<a class="nd-link" href="{esc(link)}" title="{esc(link)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{label}</a>')
    return f'<span class="nd-file" title="{esc(source)}">{label}</span>'


def highlight(quote: str, sentences: Sequence[str]) -> str:
    """The escaped quote with each supporting sentence wrapped in <mark> (whitespace differences allowed)."""
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        words = sentence.split()
        if not words:
            continue
        match = re.search(r"\s+".join(re.escape(w) for w in words), quote)
        if match:
            spans.append(match.span())
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out += [esc(quote[pos:start]), f"<mark>{esc(quote[start:end])}</mark>"]
        pos = end
    out.append(esc(quote[pos:]))
    return "".join(out)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _meta(source: str, url: str, date: str, author: str) -> str:
    """Source link on one line, then date · author when known."""
    byline = '<span class="nd-dot">·</span>'.join(esc(x) for x in (date, author) if x)
    return (f'<div class="nd-meta"><div class="nd-src">{source_html(source, url)}</div>'
            + (f'<div class="nd-byline">{byline}</div>' if byline else "") + "</div>")


def _paragraphs(text: str) -> str:
    """Escaped text with line breaks kept, on one line so the chat's Markdown sees a single HTML block."""
    return esc(text.strip()).replace("\r", "").replace("\n", "<br>")


def answer_dict(answer: Answer) -> dict[str, Any]:
    """An `Answer` as JSON-able data (what `/ask` returns and what the page keeps per turn)."""
    def citation(c: Citation) -> dict[str, Any]:
        return {"number": c.number, "doc_id": c.doc_id, "title": c.title, "source": c.source, "url": c.url,
                "author": c.author, "date": c.date, "quote": c.quote, "sentences": list(c.sentences),
                "matched": c.matched}

    def passage(p: Passage) -> dict[str, Any]:
        return {"doc_id": p.doc_id, "title": p.title, "source": p.source, "url": p.url, "author": p.author,
                "date": p.date, "text": p.text, "score": round(float(p.score), 4)}

    return {
        "question": answer.question, "text": answer.text, "abstained": answer.abstained, "note": answer.note,
        "backend": answer.backend, "seconds": round(answer.seconds, 3), "raw": answer.raw,
        "citations": [citation(c) for c in answer.citations],
        "related": [passage(p) for p in answer.passages[:3]] if answer.abstained else [],
    }


def report_dict(report: IngestReport) -> dict[str, Any]:
    return {
        "added": report.added, "updated": report.updated, "unchanged": report.unchanged, "removed": report.removed,
        # "file", not "path": gradio_client would take a {"path": ...} dict for a file to download.
        "failed": [{"file": p, "reason": r} for p, r in report.failed], "chunks": report.chunks,
        "seconds": round(report.seconds, 3), "summary": report.summary(),
        "changes": [{"action": a, "source": s} for a, s in report.changes],
    }


def article_dict(a: ArticleInfo) -> dict[str, Any]:
    return {"doc_id": a.doc_id, "title": a.title, "source": a.source, "url": a.url, "author": a.author,
            "date": a.date, "chunks": a.chunks, "indexed_at": a.indexed_at}


def render_answer(turn: int, data: dict[str, Any]) -> str:
    """The chat bubble of a finished answer: [n] markers become links to the source cards of this turn."""
    numbers = {c["number"]: c for c in data["citations"]}

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        title = esc(numbers[n]["title"]) + (" (found by Newsdesk: the LLM left this uncited)"
                                            if numbers[n].get("matched") else "")
        cls = "nd-cite nd-matched" if numbers[n].get("matched") else "nd-cite"
        return f'<a class="{cls}" href="#nd-src-{turn}-{n}" title="{title}">{n}</a>'

    body = _MARKER.sub(link, _paragraphs(data["text"]))
    # The chat's sanitizer keeps class and href but drops data-* attributes: the turn rides in a class.
    cls = f"nd-answer nd-t-{turn}" + (" nd-abstained" if data["abstained"] else "")
    parts = [f'<div class="{cls}">']
    if data["abstained"]:
        parts.append('<div class="nd-badge">Not in the articles</div>')
    parts.append(f'<div class="nd-text">{body}</div>')
    if data.get("note"):
        parts.append(f'<div class="nd-note" role="note"><b>Note:</b> {esc(data["note"])}</div>')
    count = len(data["citations"])
    sources = f"{count} source{'s' if count != 1 else ''}" if count else "no sources"
    parts.append(f'<div class="nd-foot">{sources} · {esc(data["backend"])} · {data["seconds"]:.1f} s</div></div>')
    return "".join(parts)


def render_streaming(text: str, waiting: Waiting | None = None) -> str:
    """A bubble while the answer is being written (markers are not links yet: numbers settle at the end)."""
    wait = "Searching the articles" if waiting is None else (
        f"Waiting for the LLM: {waiting.seconds:.0f} s so far (limit {waiting.limit:g} s, NEWSDESK_LLM_TIMEOUT; "
        "then an extractive answer)")
    body = _MARKER.sub(r'<span class="nd-cite nd-pending">\1</span>', _paragraphs(text)) if text else (
        f'<span class="nd-wait">{esc(wait)}</span>')
    return f'<div class="nd-answer nd-streaming"><div class="nd-text">{body}<span class="nd-caret"></span></div></div>'


def render_error(message: str) -> str:
    return f'<div class="nd-answer nd-error" role="alert"><div class="nd-text">{esc(message)}</div></div>'


def render_card(turn: int, c: dict[str, Any]) -> str:
    sentences = c.get("sentences") or []
    return (
        f'<article class="nd-card" id="nd-src-{turn}-{c["number"]}" data-n="{c["number"]}">'
        f'<header><span class="nd-num">{c["number"]}</span><h4 class="nd-title">{esc(c["title"])}</h4></header>'
        + ('<div class="nd-matched-note">Found by Newsdesk for a sentence the LLM left uncited</div>'
           if c.get("matched") else "") +
        f'{_meta(c["source"], c.get("url", ""), c.get("date", ""), c.get("author", ""))}'
        f'<blockquote class="nd-quote">{highlight(c["quote"], sentences)}</blockquote></article>'
    )


def render_related(p: dict[str, Any]) -> str:
    return (
        f'<article class="nd-card nd-related"><header><h4 class="nd-title">{esc(p["title"])}</h4></header>'
        f'{_meta(p["source"], p.get("url", ""), p.get("date", ""), p.get("author", ""))}'
        f'<blockquote class="nd-quote">{esc(_shorten(p["text"], 420))}</blockquote></article>'
    )


EMPTY_SOURCES = (
    '<div class="nd-sources nd-empty"><div class="nd-empty-box"><div class="nd-empty-title">Sources</div>'
    "<p>Each answer cites the passages it came from. Click a number in the answer to see its source here: "
    "headline, link, date and the cited passage with the supporting sentences marked.</p></div></div>"
)


def render_sources(turns: Sequence[dict[str, Any]]) -> str:
    """Every answered turn's sources; the latest is shown, a click on an older [n] switches (in the browser)."""
    answered = [(i, t) for i, t in enumerate(turns) if "answer" in t]
    if not answered:
        return EMPTY_SOURCES
    sections = []
    for i, turn in answered:
        data = turn["answer"]
        active = " nd-active" if i == answered[-1][0] else ""
        parts = [f'<section class="nd-turn{active}" data-turn="{i}">',
                 f'<div class="nd-turn-head"><span class="nd-label">Sources</span>'
                 f'<span class="nd-for">for “{esc(_shorten(turn["question"], 90))}”</span></div>']
        if data.get("note"):
            parts.append(f'<div class="nd-note" role="note"><b>Note:</b> {esc(data["note"])}</div>')
        if data["abstained"]:
            parts.append('<div class="nd-abstain"><strong>Not in the articles.</strong> None of the indexed '
                         "articles answers this question.")
            if data["related"]:
                parts.append(" The closest passages are below: related, but not an answer.")
            parts.append("</div>")
            parts += [render_related(p) for p in data["related"]]
        else:
            parts += [render_card(i, c) for c in data["citations"]]
        parts.append("</section>")
        sections.append("".join(parts))
    return f'<div class="nd-sources">{"".join(sections)}</div>'


def render_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    messages = []
    for i, turn in enumerate(turns):
        messages.append({"role": "user", "content": f'<div class="nd-q">{_paragraphs(turn["question"])}</div>'})
        if "answer" in turn:
            messages.append({"role": "assistant", "content": render_answer(i, turn["answer"])})
        elif "error" in turn:
            messages.append({"role": "assistant", "content": render_error(turn["error"])})
    return messages


def render_report(report: IngestReport, title: str = "Done") -> str:
    bits = [("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged),
            ("removed", report.removed), ("failed", len(report.failed))]
    chips = "".join(f'<span class="nd-chip nd-{name}{" nd-zero" if not n else ""}"><b>{n}</b> {name}</span>'
                    for name, n in bits)
    rows = "".join(f'<li><span class="nd-act nd-{esc(a)}">{esc(a)}</span> {esc(source_label(s))}</li>'
                   for a, s in report.changes[:50])
    if len(report.changes) > 50:
        rows += f"<li>… and {len(report.changes) - 50} more</li>"
    fails = "".join(f'<li><span class="nd-act nd-failed">failed</span> {esc(Path(p).name or p)}: {esc(r)}</li>'
                    for p, r in report.failed)
    detail = f'<ul class="nd-changes">{rows}{fails}</ul>' if rows or fails else ""
    timing = f"{report.chunks} chunks embedded in {report.seconds:.1f} s"
    return (f'<div class="nd-report" role="status"><div class="nd-report-head"><strong>{esc(title)}</strong>'
            f'<span class="nd-muted">{timing}</span></div><div class="nd-chips">{chips}</div>{detail}</div>')


def render_message(message: str, kind: str = "error") -> str:
    """kind: error, ok or info (the colour says which; no icon glyphs, which system fonts may lack)."""
    return f'<div class="nd-msg nd-msg-{kind}" role="{"alert" if kind == "error" else "status"}">{esc(message)}</div>'


def render_library(articles: Sequence[ArticleInfo], query: str | None = "") -> str:
    query = query or ""  # a component on a tab never opened sends None
    words = query.lower().split()
    shown = [a for a in articles
             if all(w in f"{a.title} {a.source} {a.date} {a.author} {a.doc_id}".lower() for w in words)]
    if not articles:
        return '<div class="nd-lib-empty">No articles yet. Upload files, paste an article, or index the samples.</div>'
    head = (f'<div class="nd-lib-count">{len(shown)} of {len(articles)} articles'
            f'{f" matching “{esc(query.strip())}”" if words else ""}</div>')
    rows = "".join(
        f'<tr><td class="nd-lib-title">{esc(a.title)}</td><td class="nd-lib-src">{source_html(a.source, a.url)}</td>'
        f'<td class="nd-nowrap">{esc(a.date) or "—"}</td><td class="nd-num-col">{a.chunks}</td>'
        f'<td><code>{esc(a.doc_id)}</code></td></tr>'
        for a in sorted(shown, key=lambda a: (a.date or "", a.title), reverse=True))
    table = ('<table class="nd-lib"><thead><tr><th>Headline</th><th>Source</th><th>Date</th><th>Chunks</th>'
             f'<th>ID</th></tr></thead><tbody>{rows}</tbody></table>')
    return f'<div class="nd-lib-wrap">{head}{table if shown else ""}</div>'


def article_choices(articles: Sequence[ArticleInfo]) -> list[tuple[str, str]]:
    return [(f"{_shorten(a.title, 80)} — {source_label(a.source)}", a.doc_id)
            for a in sorted(articles, key=lambda a: a.title.lower())]


def safe_upload_name(name: str) -> str:
    """A file name safe to create in the uploads folder, or ArticleError: no folders, no NUL, supported suffix."""
    name = unicodedata.normalize("NFKC", (name or "").replace("\x00", ""))
    name = re.split(r"[\\/]", name)[-1]  # drops any folder part: "../x.txt", "/etc/x.txt", "C:\\x.txt"
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    stem = stem.lstrip(".")[:MAX_UPLOAD_NAME] or "upload"
    return stem + suffix.lower()


# ----------------------------------------------------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------------------------------------------------
class NewsdeskPage:
    """Handlers of the page and of the API endpoints, around one `Assistant`."""

    def __init__(self, assistant: Assistant, watch: Sequence[str | Path] = (), watch_samples: bool = True):
        self.qa = assistant
        self.uploads = Path(assistant.index_dir) / UPLOADS
        samples = [Path(assistant.settings.samples_dir)] if watch_samples else []
        folders: list[Path] = []
        for folder in [*samples, self.uploads, *(Path(w).expanduser() for w in watch)]:
            folder = folder.resolve()
            if folder not in folders:
                folders.append(folder)
        self.watched = folders
        self.max_bytes = int(assistant.settings.max_file_mb * 1e6)
        self._write_lock = threading.Lock()  # one library change at a time from this page

    def scrub(self, message: str) -> str:
        """Never show a secret: the API key, or credentials inside OPENAI_BASE_URL (error messages may carry them)."""
        s = self.qa.settings
        key = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
        if len(key) >= 4:
            message = message.replace(key, "•••")
        if s.openai_base_url:
            try:
                netloc = urlsplit(s.openai_base_url).netloc
            except ValueError:
                netloc = ""
            if "@" in netloc:
                message = message.replace(netloc.rsplit("@", 1)[0] + "@", "")
        return message

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
    def _articles(self) -> list[ArticleInfo]:
        try:
            return self.qa.articles()
        except NewsdeskError as exc:
            log.warning("cannot list the articles: %s", exc)
            return []

    def header_html(self, articles: Sequence[ArticleInfo] | None = None) -> str:
        articles = self._articles() if articles is None else articles
        chunks = sum(a.chunks for a in articles)
        backend = self.qa.backend + (f" · {self.qa.model_name()}" if self.qa.backend in LLM_BACKENDS else "")
        dot = '<span class="nd-dot">·</span>'
        return (f'<div class="nd-status"><span><b>{len(articles)}</b> articles</span>{dot}'
                f'<span><b>{chunks}</b> chunks</span>{dot}<span>{esc(backend)} answers</span></div>')

    def library_outputs(self, query: str | None = "", articles: Sequence[ArticleInfo] | None = None) -> tuple:
        """(table, remove choices, header, empty-index offer visibility, watched folders)."""
        articles = self._articles() if articles is None else articles
        return (render_library(articles, query), gr.update(choices=article_choices(articles), value=[]),
                self.header_html(articles), gr.update(visible=not articles), self.watched_html())

    def refresh(self) -> tuple:
        """On every page load: the index may have changed since (another tab, the CLI)."""
        return (*self.library_outputs(), self.settings_html())

    def search_library(self, query: str | None) -> str:
        return render_library(self._articles(), query)

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

    def store_uploads(self, files: Sequence[Any]) -> tuple[list[Path], list[tuple[str, str]], dict[Path, Path]]:
        """Copy uploaded files into <index>/uploads under safe names: (copied, refused with reasons, earlier uploads
        of the same names, moved aside to hidden files until the new ones are accepted)."""
        copied: list[Path] = []
        refused: list[tuple[str, str]] = []
        earlier: dict[Path, Path] = {}
        for f in files or []:
            src = Path(f if isinstance(f, (str, os.PathLike)) else (f.get("path") if isinstance(f, dict) else f.path))
            original = (f.get("orig_name") if isinstance(f, dict) else getattr(f, "orig_name", None)) or src.name
            try:
                name = safe_upload_name(original)
                size = src.stat().st_size
                if size > self.max_bytes:
                    raise ArticleError(too_large(size, self.max_bytes))
                self.uploads.mkdir(parents=True, exist_ok=True)
                target = (self.uploads / name).resolve()
                if target.parent != self.uploads.resolve():
                    raise ArticleError("the file name is not allowed")
                if target.is_file() and not target.is_symlink() and target not in copied:
                    # A new version of an earlier upload; the earlier one comes back if the new one is rejected.
                    aside = target.with_name(f".{target.name}.earlier")  # hidden: no ingest reads it
                    os.replace(target, aside)
                    earlier[target] = aside
                elif target.is_symlink() or target.exists():
                    target.unlink()
                shutil.copyfile(src, target)
                if target not in copied:
                    copied.append(target)
            except ArticleError as exc:
                refused.append((str(original), str(exc)))
            except OSError as exc:
                refused.append((str(original), f"cannot store the upload: {exc.strerror or exc}"))
        return copied, refused, earlier

    def ingest_uploads(self, files: Sequence[Any], progress: gr.Progress | None = None) -> IngestReport:
        copied, refused, earlier = self.store_uploads(files)
        report = IngestReport()
        try:
            if copied:
                report = self.qa.ingest(copied, progress=self._progress(progress, "Indexing uploads"))
            self.drop_rejected_uploads(report, earlier)
        finally:
            for aside in earlier.values():  # the new versions were accepted (or the ingest did not run)
                aside.unlink(missing_ok=True)
        report.failed = refused + report.failed
        return report

    def drop_rejected_uploads(self, report: IngestReport, earlier: dict[Path, Path] | None = None) -> None:
        """An upload the ingest rejected (empty, binary...) is not kept, or every "Update index" would report it
        again: its earlier version comes back if it replaced one, else the file is deleted (unless articles are
        indexed from it). The report says which."""
        earlier = earlier if earlier is not None else {}
        uploads = self.uploads.resolve()
        for i, (path, reason) in enumerate(report.failed):
            file = Path(path)
            if file.parent != uploads:
                continue
            if file in earlier:
                os.replace(earlier.pop(file), file)
                note = "the upload was not kept; the earlier upload of this name stays"
            elif file.is_file() and not file.is_symlink() and not self.qa.store.articles_from(str(file)):
                file.unlink()
                note = "the upload was removed"
            else:
                continue
            report.failed[i] = (path, f"{reason}; {note}")

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
        articles = self._articles()
        chosen = set(doc_ids)
        uploads = self.uploads.resolve()
        for path in {a.path for a in articles if a.doc_id in chosen and a.path}:
            file = Path(path)
            others = [a for a in articles if a.path == path and a.doc_id not in chosen]
            if not others and file.parent == uploads and file.is_file():
                file.unlink()
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
            self.drop_rejected_uploads(report)  # e.g. left there by an earlier version of this page
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
        missing = ' <span class="nd-muted">(not created yet)</span>'
        items = "".join(f'<li><code>{esc(f)}</code>{"" if f.is_dir() else missing}</li>' for f in self.watched)
        return f'<div class="nd-watched"><div class="nd-label">Watched folders</div><ul>{items}</ul></div>'

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
            ("LLM context", f"{s.llm_context} tokens; lower-ranked passages are left out to fit "
                            "(NEWSDESK_LLM_CONTEXT)"),
            ("Embeddings", embedder),
            ("Store", store),
            ("Index folder", str(self.qa.index_dir)),
        ]
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        return f'<table class="nd-settings">{body}</table>'

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


def build_app(assistant: Assistant, watch: Sequence[str | Path] = (), watch_samples: bool = True) -> gr.Blocks:
    """The page and its API endpoints; launch it with `serve` (which adds the theme, CSS and script)."""
    page = NewsdeskPage(assistant, watch, watch_samples)
    articles = page._articles()  # first paint; every page load refreshes it (another process may have ingested)
    private = {"api_visibility": "private"}
    with gr.Blocks(title="Newsdesk", analytics_enabled=False, fill_width=True) as app:
        turns = gr.State([])
        with gr.Row(elem_id="nd-header", equal_height=True):
            gr.HTML('<div class="nd-brand"><span class="nd-logo">N</span><div><div class="nd-name">Newsdesk</div>'
                    '<div class="nd-tag">Answers from your articles — every claim cited</div></div></div>')
            status = gr.HTML(page.header_html(articles), elem_id="nd-status-box")
        with gr.Column(visible=not articles, elem_id="nd-offer") as offer:
            offer_text = gr.HTML('<div class="nd-offer-text"><strong>The index is empty.</strong> Index the sample '
                                 "news articles to try Newsdesk now, or add your own in the Library tab.</div>",
                                 elem_id="nd-offer-text")
            offer_btn = gr.Button("Index the sample articles", variant="primary", size="sm", elem_id="nd-offer-btn")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False, elem_id="nd-ask-row"):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            show_label=False, elem_id="nd-chat", height="calc(100vh - 290px)", min_height=420,
                            latex_delimiters=[], feedback_options=None, buttons=[], layout="panel",
                            examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                            placeholder="<div class='nd-placeholder'><div class='nd-ph-title'>Ask about the news</div>"
                                        "Answers quote the articles and cite them. Try one of these:</div>",
                        )
                        with gr.Row(elem_id="nd-input-row", equal_height=True):
                            question = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…",
                                                  lines=1, max_lines=4, scale=8, elem_id="nd-question", autofocus=True)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="nd-ask")
                        with gr.Row(elem_id="nd-tools"):
                            notice = gr.HTML("", elem_id="nd-notice")
                            clear_btn = gr.Button("New conversation", size="sm", variant="secondary", scale=0,
                                                  min_width=150, elem_id="nd-clear")
                    with gr.Column(scale=2, min_width=320, elem_id="nd-sources-col"):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="nd-sources-box")
            with gr.Tab("Library", id="library"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        search = gr.Textbox(show_label=False, placeholder="Search headlines, sources, dates…",
                                            elem_id="nd-search")
                        library = gr.HTML(render_library(articles), elem_id="nd-library")
                    with gr.Column(scale=2, min_width=320):
                        report_box = gr.HTML("", elem_id="nd-report-box")
                        with gr.Group():
                            files = gr.File(label="Upload articles (.txt .md .html .json .jsonl, several at once)",
                                            file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                                            elem_id="nd-upload", height=120)
                        with gr.Accordion("Paste an article", open=False, elem_id="nd-paste"):
                            paste_title = gr.Textbox(label="Headline (optional: else the first line)",
                                                     elem_id="nd-paste-title")
                            paste_text = gr.Textbox(label="Article text", lines=6, max_lines=20,
                                                    elem_id="nd-paste-text")
                            paste_btn = gr.Button("Add pasted article", size="sm", elem_id="nd-paste-btn")
                        with gr.Accordion("Remove articles", open=False, elem_id="nd-remove"):
                            remove_pick = gr.Dropdown(choices=article_choices(articles), multiselect=True,
                                                      filterable=True, show_label=False,
                                                      info="Pick articles by headline", elem_id="nd-remove-pick")
                            remove_btn = gr.Button("Remove selected", size="sm", variant="stop",
                                                   elem_id="nd-remove-btn")
                        with gr.Group():
                            watched = gr.HTML(page.watched_html(), elem_id="nd-watched")
                            update_btn = gr.Button("Update index from watched folders", size="sm",
                                                   elem_id="nd-update-btn")
            with gr.Tab("Settings", id="settings"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        settings_box = gr.HTML(page.settings_html(), elem_id="nd-settings")
                        with gr.Row():
                            test_btn = gr.Button("Test connection", size="sm", scale=0, min_width=160,
                                                 elem_id="nd-test-btn")
                        test_result = gr.HTML("", elem_id="nd-test-result")
                    with gr.Column(scale=2):
                        top_k = gr.Slider(1, 20, value=assistant.settings.top_k, step=1,
                                          label="Passages per answer (top-k)",
                                          info="How many retrieved passages the answerer reads.",
                                          elem_id="nd-topk")
                        gr.HTML('<p class="nd-muted">LLM settings come from the environment (OPENAI_API_KEY, '
                                "OPENAI_BASE_URL, NEWSDESK_MODEL, NEWSDESK_BACKEND, NEWSDESK_LLM_TIMEOUT, "
                                "NEWSDESK_LLM_MAX_TOKENS, NEWSDESK_LLM_CONTEXT); restart to change them.</p>")

        # -- wiring: the API endpoints first (they own their names), then the page's private events ---------------
        gr.api(page.api_ask, api_name="ask", concurrency_limit=2)
        gr.api(page.api_ingest, api_name="ingest")
        gr.api(page.api_articles, api_name="articles")
        gr.api(page.api_remove, api_name="remove")
        lib_outputs = [library, remove_pick, status, offer, watched]
        ask_io = {"fn": page.ask_chat, "inputs": [question, turns, top_k],
                  "outputs": [chatbot, sources, question, turns, notice], "show_progress": "hidden",
                  "concurrency_limit": 2, **private}
        question.submit(**ask_io)
        ask_btn.click(**ask_io)
        chatbot.example_select(example_question, None, question, **private).then(**ask_io)
        clear_btn.click(page.clear_chat, None, [chatbot, sources, question, turns, notice], **private)
        chatbot.clear(page.clear_chat, None, [chatbot, sources, question, turns, notice], **private)

        search.change(page.search_library, search, library, show_progress="hidden", **private)
        files.upload(page.upload, [files, search], [report_box, *lib_outputs, files],
                     show_progress_on=[report_box], **private)
        paste_btn.click(page.paste, [paste_text, paste_title, search],
                        [report_box, *lib_outputs, paste_text, paste_title], show_progress_on=[report_box], **private)
        remove_btn.click(page.remove_selected, [remove_pick, search], [report_box, *lib_outputs],
                         show_progress_on=[report_box], **private)
        update_btn.click(page.update_index, search, [report_box, *lib_outputs], show_progress_on=[report_box],
                         **private)
        offer_btn.click(page.index_samples, search, [notice, *lib_outputs], show_progress_on=[offer_text], **private)
        test_btn.click(page.test_connection, None, test_result, **private)
        app.load(page.refresh, None, [*lib_outputs, settings_box], show_progress="hidden", **private)
    return app


# ----------------------------------------------------------------------------------------------------------------
# Look and behaviour
# ----------------------------------------------------------------------------------------------------------------
def theme() -> gr.themes.Base:
    """System fonts only: the page must load with no request leaving the machine."""
    return gr.themes.Soft(
        primary_hue="indigo", secondary_hue="slate", neutral_hue="slate", radius_size="md",
        font=["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
              "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
    )


CSS = """
:root { --nd-accent: #3b4bc8; --nd-accent-soft: #eef0ff; --nd-mark: #fff1a8; --nd-ink: #1c2333; --nd-muted: #667085;
        --nd-line: #e4e7ec; --nd-card: #ffffff; --nd-serif: Georgia, "Iowan Old Style", "Times New Roman", serif; }
.dark { --nd-accent: #9aa5ff; --nd-accent-soft: #23284a; --nd-mark: #5c4d00; --nd-ink: #e7e9ef; --nd-muted: #98a2b3;
        --nd-line: #2f3645; --nd-card: #151a24; }
.gradio-container { max-width: 1600px !important; margin: 0 auto !important; }
footer { opacity: .7; }
#nd-header { align-items: center; padding: 6px 4px 2px; border-bottom: 1px solid var(--nd-line); margin-bottom: 4px; }
.nd-brand { display: flex; gap: 12px; align-items: center; }
.nd-logo { display: inline-flex; width: 38px; height: 38px; border-radius: 9px; background: var(--nd-ink);
  color: var(--body-background-fill);
           align-items: center; justify-content: center; font: 700 22px var(--nd-serif); }
.nd-name { font: 700 22px/1.1 var(--nd-serif); color: var(--nd-ink); letter-spacing: -.01em; }
.nd-tag { color: var(--nd-muted); font-size: 13px; }
.nd-status { text-align: right; color: var(--nd-muted); font-size: 13px; }
.nd-status b { color: var(--nd-ink); }
.nd-dot { margin: 0 6px; color: var(--nd-muted); }
.nd-muted { color: var(--nd-muted); font-size: 13px; }
#nd-offer { border: 1px solid var(--nd-accent); background: var(--nd-accent-soft); border-radius: 10px;
  padding: 10px 14px;
            flex-direction: row !important; align-items: center; gap: 12px; }
#nd-offer > * { flex: 1 1 auto; }
#nd-offer button { flex: 0 0 auto; max-width: 260px; }
/* chat */
#nd-chat { border-radius: 12px; }
.nd-placeholder { text-align: center; color: var(--nd-muted); }
.nd-ph-title { font: 600 20px var(--nd-serif); color: var(--nd-ink); margin-bottom: 6px; }
.nd-answer { line-height: 1.6; }
.nd-text { font-size: 15px; }
.nd-q { font-size: 15px; }
a.nd-cite, span.nd-cite { display: inline-block; min-width: 1.35em; padding: 0 .35em; margin: 0 1px;
  border-radius: 6px;
  font-size: .78em; font-weight: 700; line-height: 1.5; text-align: center; vertical-align: .15em;
  text-decoration: none !important;
  background: var(--nd-accent-soft); color: var(--nd-accent) !important;
  border: 1px solid color-mix(in srgb, var(--nd-accent) 35%, transparent);
  cursor: pointer; transition: background .15s, color .15s; }
a.nd-cite::before, span.nd-cite::before { content: "["; opacity: .55;
  } a.nd-cite::after, span.nd-cite::after { content: "]"; opacity: .55; }
a.nd-cite:hover, a.nd-cite:focus-visible { background: var(--nd-accent); color: #fff !important; outline: none; }
span.nd-pending { opacity: .6; cursor: default; }
.nd-foot { margin-top: 6px; font-size: 12px; color: var(--nd-muted); }
.nd-note { margin-top: 8px; padding: 6px 10px; border-radius: 8px; font-size: 13px; background: #fff7e6;
  color: #7a4b00;
           border: 1px solid #f5d9a0; }
.dark .nd-note { background: #3a2a06; color: #f5d9a0; border-color: #6b4e12; }
.nd-badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase;
  letter-spacing: .06em;
            color: #9a3412; background: #ffedd5; border-radius: 999px; padding: 1px 9px; margin-bottom: 4px; }
.dark .nd-badge { color: #fed7aa; background: #4a2511; }
.nd-error .nd-text { color: #b42318; }
.dark .nd-error .nd-text { color: #fda29b; }
.nd-wait { color: var(--nd-muted); }
a.nd-cite.nd-matched { border-style: dashed; }
.nd-matched-note { font-size: 12px; color: var(--nd-muted); margin: 2px 0 4px; }
.nd-wait::after { content: "…"; animation: nd-blink 1s steps(2) infinite; }
.nd-caret { display: inline-block; width: .5em; height: 1em; margin-left: 2px; vertical-align: -.12em;
            background: var(--nd-accent); opacity: .6; animation: nd-blink 1s steps(2) infinite; }
@keyframes nd-blink { 50% { opacity: 0; } }
#nd-tools { align-items: center; }
#nd-notice:empty { display: none; }
/* sources */
#nd-sources-col { position: sticky; top: 8px; align-self: flex-start; }
.nd-sources:not(.nd-empty) { max-height: calc(100vh - 190px); overflow-y: auto; padding: 2px 6px 2px 2px; }
.nd-empty-box { border: 1px dashed var(--nd-line); border-radius: 12px; padding: 18px; color: var(--nd-muted);
  font-size: 14px; }
.nd-empty-title, .nd-label { font-size: 12px; font-weight: 700; text-transform: uppercase;
  letter-spacing: .08em; color: var(--nd-muted); }
.nd-turn { display: none; } .nd-turn.nd-active { display: block; }
.nd-turn-head { display: flex; gap: 8px; align-items: baseline; margin: 2px 0 10px; }
.nd-for { color: var(--nd-muted); font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nd-card { background: var(--nd-card); border: 1px solid var(--nd-line); border-radius: 12px;
  padding: 12px 14px; margin-bottom: 10px;
           box-shadow: 0 1px 2px rgba(16,24,40,.04); transition: border-color .2s, box-shadow .2s;
  scroll-margin: 12px; }
.nd-card header { display: flex; gap: 10px; align-items: flex-start; }
.nd-num { flex: 0 0 auto; display: inline-flex; align-items: center; justify-content: center; width: 24px;
  height: 24px; border-radius: 7px;
          background: var(--nd-accent-soft); color: var(--nd-accent); font-weight: 700; font-size: 13px; }
.nd-title { margin: 0 !important; font: 600 16px/1.3 var(--nd-serif) !important; color: var(--nd-ink) !important; }
.nd-meta { margin: 4px 0 8px; font-size: 12.5px; color: var(--nd-muted); line-height: 1.5; }
.nd-card:not(.nd-related) .nd-meta { padding-left: 34px; }
.nd-src { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nd-meta a, .nd-lib a { padding: 0 !important; margin: 0 !important; }
.nd-turn > .nd-note { margin: 0 0 10px; }
.nd-byline .nd-dot { margin: 0 5px; }
.nd-link { color: var(--nd-accent) !important; text-decoration: none; }
.nd-link:hover { text-decoration: underline; }
.nd-file { font-family: var(--font-mono); font-size: 12px; }
.nd-quote { margin: 0 !important; padding: 8px 12px !important;
  border-left: 3px solid var(--nd-line) !important; font-size: 13.5px; line-height: 1.55;
            color: var(--nd-ink); white-space: pre-wrap; background: transparent !important; }
.nd-quote mark { background: var(--nd-mark); color: inherit; padding: 0 1px; border-radius: 3px; }
.nd-card.nd-selected { border-color: var(--nd-accent);
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--nd-accent) 22%, transparent); }
.nd-card.nd-selected .nd-quote { border-left-color: var(--nd-accent) !important; }
.nd-card.nd-flash { animation: nd-flash 1.2s ease-out; }
@keyframes nd-flash { 0% { background: var(--nd-accent-soft); } 100% { background: var(--nd-card); } }
.nd-abstain { padding: 10px 12px; border-radius: 10px; background: #fff4ed; border: 1px solid #fbd3b5;
  color: #7c2d12; font-size: 14px; margin-bottom: 10px; }
.dark .nd-abstain { background: #3b1d0c; border-color: #6b3412; color: #fed7aa; }
.nd-related { opacity: .92; border-style: dashed; }
/* library */
.nd-lib-wrap { overflow-x: auto; }
.nd-lib-count { color: var(--nd-muted); font-size: 13px; margin: 4px 0 8px; }
table.nd-lib { width: 100%; border-collapse: collapse; font-size: 13.5px; table-layout: fixed;
  border: none !important; }
table.nd-lib th, table.nd-lib td { border: none !important; border-bottom: 1px solid var(--nd-line) !important; }
table.nd-lib th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .05em;
  color: var(--nd-muted);
                  padding: 6px 8px; background: transparent !important; }
table.nd-lib td { padding: 7px 8px; vertical-align: top; }
table.nd-lib th:nth-child(1) { width: 42%; } table.nd-lib th:nth-child(2) { width: 28%; }
table.nd-lib th:nth-child(3) { width: 11%; } table.nd-lib th:nth-child(4) { width: 7%;
  } table.nd-lib th:nth-child(5) { width: 12%; }
.nd-lib-src { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nd-lib-src .nd-link { word-break: normal; }
table.nd-lib td:nth-child(5) { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.nd-lib tr:hover td { background: var(--nd-accent-soft); }
.nd-lib-title { font-family: var(--nd-serif); font-size: 14.5px; color: var(--nd-ink); }
.nd-nowrap { white-space: nowrap; } .nd-num-col { text-align: right; }
.nd-lib code, .nd-watched code { font-size: 11.5px; color: var(--nd-muted); }
.nd-lib-empty { padding: 20px; color: var(--nd-muted); border: 1px dashed var(--nd-line); border-radius: 12px; }
.nd-watched { padding: 8px 12px 0; } .nd-watched ul { margin: 4px 0 6px 16px; padding: 0; font-size: 13px; }
.nd-report { border: 1px solid var(--nd-line); border-radius: 12px; padding: 10px 12px; background: var(--nd-card); }
.nd-report-head { display: flex; justify-content: space-between; gap: 8px; align-items: baseline;
  margin-bottom: 6px; }
.nd-chips { display: flex; flex-wrap: wrap; gap: 6px; }
.nd-chip { font-size: 12.5px; padding: 2px 9px; border-radius: 999px; background: var(--nd-accent-soft);
  color: var(--nd-ink); }
.nd-chip.nd-zero { opacity: .5; }
.nd-chip.nd-failed:not(.nd-zero) { background: #fee4e2; color: #912018; }
.nd-changes { margin: 8px 0 0; padding-left: 0; list-style: none; font-size: 13px; max-height: 220px;
  overflow-y: auto; }
.nd-changes li { padding: 2px 0; word-break: break-word; }
.nd-act { display: inline-block; min-width: 64px; font-size: 11px; font-weight: 700; text-transform: uppercase;
  color: var(--nd-muted); }
.nd-act.nd-added { color: #067647; } .nd-act.nd-removed, .nd-act.nd-failed { color: #b42318;
  } .nd-act.nd-updated { color: #b54708; }
.nd-msg { padding: 8px 12px; border-radius: 10px; font-size: 14px; margin: 4px 0; }
.nd-msg-error { background: #fef3f2; color: #b42318; border: 1px solid #fecdca; }
.nd-msg-ok { background: #ecfdf3; color: #067647; border: 1px solid #abefc6; }
.nd-msg-info { background: var(--nd-accent-soft); color: var(--nd-ink); border: 1px solid var(--nd-line); }
.dark .nd-msg-error { background: #3b1512; color: #fda29b; border-color: #7a271a; }
.dark .nd-msg-ok { background: #0b2e1f; color: #75e0a7; border-color: #085d3a; }
table.nd-settings { border-collapse: collapse; font-size: 14px; width: 100%; border: none !important; }
table.nd-settings th, table.nd-settings td { border: none !important;
  border-bottom: 1px solid var(--nd-line) !important;
  background: transparent !important; }
table.nd-settings th { text-align: left; color: var(--nd-muted); font-weight: 600; padding: 6px 16px 6px 0;
  white-space: nowrap; vertical-align: top; }
table.nd-settings td { padding: 6px 0; word-break: break-all; }
"""

# Citation clicks are handled in the browser: the cards of every answer are already in the sources panel,
# so a click only has to show the right answer's cards and mark the card (no round trip, no race).
JS = r"""
() => {
  if (window.__newsdeskCites) return;
  window.__newsdeskCites = true;
  const showTurn = (panel, turn) => panel.querySelectorAll('.nd-turn').forEach(
    (s) => s.classList.toggle('nd-active', s.dataset.turn === String(turn)));
  const open = (id, tries) => {
    const card = document.getElementById(id);
    if (!card) { if (tries < 40) setTimeout(() => open(id, tries + 1), 100); return; }
    const panel = card.closest('.nd-sources');
    const section = card.closest('.nd-turn');
    if (panel && section) showTurn(panel, section.dataset.turn);
    document.querySelectorAll('.nd-card.nd-selected').forEach((c) => c.classList.remove('nd-selected', 'nd-flash'));
    void card.offsetWidth;
    card.classList.add('nd-selected', 'nd-flash');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  };
  document.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const cite = target.closest('a.nd-cite, a[href^="#nd-src-"]');
    if (cite) {
      ev.preventDefault();
      ev.stopPropagation();
      open(cite.getAttribute('href').slice(1), 0);
      return;
    }
    const bubble = target.closest('.nd-answer');
    const turn = bubble && [...bubble.classList].map((c) => /^nd-t-(\d+)$/.exec(c)).find(Boolean);
    const panel = document.querySelector('.nd-sources');
    if (turn && panel && !target.closest('a')) showTurn(panel, turn[1]);
  }, true);
}
"""


def launch_options() -> dict[str, Any]:
    """What Gradio 6 takes at launch() rather than in Blocks(): theme, CSS, script; plus the offline settings."""
    return {"theme": theme(), "css": CSS, "js": JS, "ssr_mode": False, "footer_links": ["api", "settings"],
            "pwa": False, "mcp_server": False}


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def page_auth(host: str, auth: str | None, insecure_public: bool) -> tuple[str, str] | None:
    """Gradio's (user, password), or an error when the page would be open to the network without one."""
    if auth:
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise ConfigError("NEWSDESK_AUTH must look like user:password.")
        return user, password
    if host not in _LOOPBACK and not (host.startswith("127.") and host.count(".") == 3) and not insecure_public:
        raise ConfigError(
            f"Listening on {host} would let anyone on the network use this page. Set NEWSDESK_AUTH=user:password, "
            "or pass --insecure-public (NEWSDESK_INSECURE_PUBLIC=1) if you really mean it.")
    return None


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, watch: Sequence[str | Path] = (),
          watch_samples: bool = True, index_samples: bool = False, block: bool = True, quiet: bool = False,
          progress: Callable[[int, int, str], None] | None = None,
          insecure_public: bool = False) -> tuple[gr.Blocks, str]:
    """Start the web page on http://host:port; returns (app, url) when `block` is False.

    index_samples: when the index is empty, index the sample articles first (progress on `progress`), so the
    first page already answers questions. Otherwise an empty index gets an "Index the sample articles" button.
    """
    settings = assistant.settings
    auth = page_auth(host, settings.auth.get_secret_value() if settings.auth else None,
                     insecure_public or settings.insecure_public)
    status = assistant.status()  # opens the index: a wrong NEWSDESK_HOME stops here with its message
    if index_samples:
        samples = Path(assistant.settings.samples_dir)
        if status.articles == 0 and samples.is_dir():
            if not quiet:
                print(f"The index in {assistant.index_dir} is empty: indexing the sample articles from {samples} …",
                      flush=True)
            report = assistant.ingest([samples], progress=progress)
            if not quiet:
                print(report.summary(), flush=True)
    app = build_app(assistant, watch, watch_samples)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=quiet, auth=auth,
                           max_file_size=f"{assistant.settings.max_file_mb:g}mb", show_error=False,
                           **launch_options())
    url = url or f"http://{host}:{port}/"
    # Load the embedding model and indexes now, so the first question does not wait for them.
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True, name="newsdesk-warm-up").start()
    if not block:
        return app, url
    try:
        app.block_thread()
    finally:
        app.close()
    return app, url


def _warm_up(assistant: Assistant) -> None:
    try:
        assistant.retrieve("warm up", top_k=1)
    except NewsdeskError:
        pass  # an empty index: nothing to warm
    except Exception:  # a background nicety must not take the server down; the next request reports it
        log.warning("warm-up failed", exc_info=True)
