"""The page's HTML, as pure functions: plain data in, escaped HTML out (no Gradio, no I/O).

Everything that came from an article is escaped before it reaches the page, and only http(s) URLs become links.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from ..types import Answer, ArticleInfo, Citation, IngestReport, Passage, Waiting

_MARKER = re.compile(r"\[(\d+)\]")


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



def render_status(articles: Sequence[ArticleInfo], backend: str) -> str:
    """The header line: how many articles and chunks are indexed, and who writes the answers."""
    chunks = sum(a.chunks for a in articles)
    dot = '<span class="nd-dot">·</span>'
    return (f'<div class="nd-status"><span><b>{len(articles)}</b> articles</span>{dot}'
            f'<span><b>{chunks}</b> chunks</span>{dot}<span>{esc(backend)} answers</span></div>')


def render_watched(folders: Sequence[tuple[Path, bool]]) -> str:
    """The watched folders, as (folder, whether it exists)."""
    missing = ' <span class="nd-muted">(not created yet)</span>'
    items = "".join(f'<li><code>{esc(f)}</code>{"" if exists else missing}</li>' for f, exists in folders)
    return f'<div class="nd-watched"><div class="nd-label">Watched folders</div><ul>{items}</ul></div>'


def render_settings(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="nd-settings">{body}</table>'
