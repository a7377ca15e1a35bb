"""Remembered feeds (RSS 0.9x/1.0/2.0, Atom) and refreshing them: new and changed entries become articles.

The registry is `feeds.json` in the index folder, rewritten atomically. For each feed it keeps the validators of
the last download (ETag, Last-Modified) and the entries already seen, each with a fingerprint of what the feed said
about it. A refresh asks for each feed conditionally, fetches the page of every new or changed entry (falling back
to the feed's own text when the page cannot be had) and hands the articles to the same incremental ingest as files.
Feed metadata (title, link, author, date) wins over what the page suggests; an article is identified by the
canonical form of its link, so the same story twice in a feed, or in two feeds, is one article.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .articles import Article, canonical_url
from ..errors import ArticleError, ConfigError, FeedError, FetchError, IndexBusyError, LockTimeout, NewsdeskError
from .fetch import FEED_ACCEPT, Fetcher, check_url, fetch_article
from ..store.locks import exclusive
from ..types import IngestReport

log = logging.getLogger(__name__)

FEEDS_FILE = "feeds.json"
MAX_PAGE_ATTEMPTS = 3  # an entry indexed from the feed's own text has its page tried this many times in all
FORGET_AFTER_DAYS = 30  # entries gone from the feed this long are dropped from the registry
Progress = Callable[[int, int, str], None]


# -- the registry ------------------------------------------------------------------------------------------------
@dataclass
class Feed:
    """A remembered feed and what the last refreshes learnt about it."""

    url: str
    title: str = ""
    added_at: str = ""
    checked_at: str = ""  # last refresh attempt
    changed_at: str = ""  # last refresh that added or updated articles
    error: str = ""  # why the last refresh failed ("" when it worked)
    etag: str = ""
    last_modified: str = ""
    # canonical link -> {"fingerprint", "seen_at", "in_feed_at", "fallback", "attempts"}
    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> "Feed":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class FeedRegistry:
    """The feeds remembered for one index, in `<index_dir>/feeds.json`."""

    def __init__(self, index_dir: str | os.PathLike):
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / FEEDS_FILE

    def feeds(self) -> list[Feed]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise NewsdeskError(f"Cannot read {self.path}: {exc.strerror or exc}.") from exc
        try:
            data = json.loads(raw)
            return [Feed.from_json(item) for item in data.get("feeds", [])]
        except (ValueError, TypeError, AttributeError) as exc:
            raise NewsdeskError(f"The feed list {self.path} is damaged ({exc}). Fix it, or delete it and add the "
                                "feeds again with `newsdesk add-feed URL`.") from exc

    def add(self, url: str) -> tuple[Feed, bool]:
        """(the feed, True when it was not remembered before)."""
        url = check_url(url)
        with self._locked("feeds.lock", wait=10.0):
            feeds = self.feeds()
            for feed in feeds:
                if canonical_url(feed.url) == canonical_url(url):
                    return feed, False
            feed = Feed(url=url, added_at=_now())
            self._save(feeds + [feed])
            return feed, True

    def remove(self, url: str) -> bool:
        """Forget a feed (its articles stay indexed); False when it was not remembered."""
        with self._locked("feeds.lock", wait=10.0):
            feeds = self.feeds()
            kept = [f for f in feeds if canonical_url(f.url) != canonical_url(url.strip())]
            if len(kept) == len(feeds):
                return False
            self._save(kept)
            return True

    def store(self, feed: Feed) -> None:
        """Save the state of one feed, if it is still remembered (it may have been removed meanwhile)."""
        with self._locked("feeds.lock", wait=10.0):
            feeds = self.feeds()
            key = canonical_url(feed.url)
            self._save([feed if canonical_url(f.url) == key else f for f in feeds])

    @contextlib.contextmanager
    def refreshing(self) -> Iterator[None]:
        """One refresh at a time per index (a file lock): a second one stops at once with a message."""
        try:
            with self._locked("refresh.lock", wait=0.0):
                yield
        except LockTimeout:
            raise NewsdeskError("Another `newsdesk refresh` is running on this index. Wait for it to finish.") from None

    def _save(self, feeds: Sequence[Feed]) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"version": 1, "feeds": [asdict(f) for f in feeds]}, indent=1, ensure_ascii=False)
        tmp = self.path.with_name(f".{FEEDS_FILE}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)  # readers see the old list or the new one, never half of one

    def _locked(self, name: str, wait: float):
        if self.index_dir.is_dir() and not os.access(self.index_dir, os.W_OK):
            raise ConfigError(f"Cannot change the feeds of the index in {self.index_dir}: the folder is read-only for "
                              "this user. Run as its owner, make it writable for this user, or set NEWSDESK_HOME "
                              "(or --index) to a folder this user can write to.")
        return exclusive(self.index_dir / name, wait)


# -- reading a feed document -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedEntry:
    """One entry as the feed describes it; `text` is its content (or summary) as plain text."""

    link: str
    title: str = ""
    author: str = ""
    date: str = ""  # YYYY-MM-DD, from published (else updated)
    updated: str = ""
    text: str = ""

    @property
    def fingerprint(self) -> str:
        """Changes when the feed says something new about the entry (its update time or its text)."""
        parts = [canonical_url(self.link), self.title, self.author, self.date, self.updated, self.text]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]


def parse_feed(body: bytes, url: str = "", content_type: str = "", charset: str = "") -> ParsedFeed:
    """The title and entries of an RSS or Atom document; FeedError when it is not well-formed or not a feed."""
    import xml.sax

    import feedparser

    headers = {"content-location": url} if url else {}
    if content_type:
        headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
    # A stream, never bytes or a str: feedparser treats a string that looks like a URL or a path as one to open.
    doc = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not doc.get("version"):
        if b"<html" in body[:4096].lower():
            raise FeedError("this is a web page, not an RSS or Atom feed (use the address of the site's feed)")
        raise FeedError("this is not an RSS or Atom feed")
    problem = doc.get("bozo_exception")
    if doc.get("bozo") and isinstance(problem, xml.sax.SAXParseException):
        # feedparser's loose parser would guess at the rest; a half-read feed is worse than a clear error.
        raise FeedError(f"the feed is not well-formed XML (line {problem.getLineNumber()}, column "
                        f"{problem.getColumnNumber()}: {problem.getMessage()}); nothing from it was indexed")
    return ParsedFeed(_plain(doc.feed.get("title", "")), [_entry(e) for e in doc.entries])


def _entry(e) -> FeedEntry:
    link = e.get("link") or ""
    if not link and str(e.get("id", "")).startswith(("http://", "https://")):
        link = e["id"]  # RSS <guid isPermaLink="true"> without a <link>
    author = (e.get("author_detail") or {}).get("name") or e.get("author") or ", ".join(
        a.get("name", "") for a in e.get("authors", []) if a.get("name"))
    # `"updated" in e` is the entry's own field; e.get("updated") would fall back to `published` (with a warning).
    stamp = e.get("published_parsed") or e.get("updated_parsed")
    date = time.strftime("%Y-%m-%d", stamp) if stamp else ""
    return FeedEntry(link=link.strip(), title=_plain(e.get("title", "")), author=author.strip(), date=date,
                     updated=(e["updated"] if "updated" in e else "") or "", text=_entry_text(e))


def _entry_text(e) -> str:
    """The fullest text the feed gives: content (Atom content, RSS content:encoded) over the summary."""
    best, best_type = "", ""
    for item in e.get("content", []) or []:
        value = item.get("value", "") or ""
        if len(value) > len(best):
            best, best_type = value, item.get("type", "")
    summary = e.get("summary", "") or ""
    if len(summary) > len(best):
        best, best_type = summary, (e.get("summary_detail") or {}).get("type", "text/html")
    return html_to_text(best) if "html" in best_type or "<" in best else best.strip()


def _plain(text: str) -> str:
    return " ".join(html_to_text(text).split()) if "<" in text else " ".join(text.split())


class _TextCollector(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "pre",
               "section", "article", "header", "footer", "figure", "figcaption", "table", "hr", "dd", "dt"}
    _SKIP = {"script", "style", "noscript", "template", "iframe", "svg"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: block elements become line breaks, scripts and styles are dropped."""
    collector = _TextCollector()
    collector.feed(html or "")
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)


# -- refreshing ----------------------------------------------------------------------------------------------------
@dataclass
class FeedResult:
    """What one refresh did with one feed."""

    url: str
    title: str = ""
    status: str = "ok"  # "ok", "not modified" (the server answered 304) or "error"
    error: str = ""
    entries: int = 0  # entries in the feed document
    new: int = 0  # entries seen for the first time and indexed
    changed: int = 0  # entries whose feed text or page changed, fetched again
    seen: int = 0  # entries skipped: already seen, or already indexed from elsewhere
    fetched: int = 0  # article pages requested
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # (link, why the page was not used)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (link, why the entry was not indexed)
    report: IngestReport = field(default_factory=IngestReport)

    @property
    def ok(self) -> bool:
        return self.status != "error"

    def summary(self) -> str:
        name = f"{self.title} ({self.url})" if self.title else self.url
        if self.status == "error":
            return f"{name}: not refreshed: {self.error}"
        if self.status == "not modified":
            return f"{name}: not modified since the last refresh"
        text = f"{name}: {self.new} new, {self.changed} changed, {self.seen} already seen"
        if self.fallbacks:
            text += f"; {len(self.fallbacks)} from the feed's own text (page not available)"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return text


@dataclass
class RefreshReport:
    """One refresh of every remembered feed."""

    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[FeedResult]:
        return [f for f in self.feeds if not f.ok]

    @property
    def added(self) -> int:
        return sum(f.report.added for f in self.feeds)

    @property
    def updated(self) -> int:
        return sum(f.report.updated for f in self.feeds)

    def summary(self) -> str:
        return (f"{len(self.feeds)} feeds refreshed, {len(self.errors)} failed: {self.added} articles added, "
                f"{self.updated} updated ({self.seconds:.1f}s)")


def refresh_feeds(registry: FeedRegistry, fetcher: Fetcher, ingest: Callable[[list[Article]], IngestReport],
                  is_indexed: Callable[[str], bool], progress: Progress | None = None) -> RefreshReport:
    """Fetch every remembered feed once and ingest what is new or changed; one feed failing stops no other."""
    started = time.perf_counter()
    report = RefreshReport()
    progress = progress or (lambda done, total, msg: None)
    with registry.refreshing():
        feeds = registry.feeds()
        for n, feed in enumerate(feeds):
            progress(n, len(feeds), feed.url)
            result = refresh_feed(feed, fetcher, ingest, is_indexed)
            registry.store(feed)
            report.feeds.append(result)
        progress(len(feeds), len(feeds), "done")
    report.seconds = time.perf_counter() - started
    return report


def refresh_feed(feed: Feed, fetcher: Fetcher, ingest: Callable[[list[Article]], IngestReport],
                 is_indexed: Callable[[str], bool]) -> FeedResult:
    """Refresh one feed, updating `feed` in place; errors end up in the result, not raised."""
    result = FeedResult(feed.url, feed.title)
    now = _now()
    feed.checked_at = now
    try:
        resp = fetcher.get(feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT)
        if resp.not_modified:
            feed.error, result.status = "", "not modified"
            return result
        parsed = parse_feed(resp.body, resp.url, resp.content_type, resp.charset)
    except FetchError as exc:
        return _failed(feed, result, exc.reason)
    except FeedError as exc:
        return _failed(feed, result, str(exc))
    result.title = feed.title = parsed.title or feed.title
    result.entries = len(parsed.entries)

    todo: list[tuple[FeedEntry, str, bool]] = []  # (entry, canonical link, seen before)
    in_feed: set[str] = set()
    for entry in parsed.entries:
        if not entry.link.lower().startswith(("http://", "https://")):
            result.skipped.append((entry.link or entry.title or "(untitled entry)",
                                   "the entry has no http(s) link to identify it by"))
            continue
        link = canonical_url(entry.link)
        if link in in_feed:
            continue  # the same story twice in one feed is one article
        in_feed.add(link)
        old = feed.entries.get(link)
        if old is not None:
            old["in_feed_at"] = now
            retry = old.get("fallback") and old.get("attempts", 1) < MAX_PAGE_ATTEMPTS
            if old.get("fingerprint") == entry.fingerprint and not retry:
                result.seen += 1
                continue
        elif is_indexed(link):
            # Already indexed from a file, a URL or another feed: remember it without fetching the page again.
            feed.entries[link] = {"fingerprint": entry.fingerprint, "seen_at": now, "in_feed_at": now}
            result.seen += 1
            continue
        todo.append((entry, link, old is not None))

    articles: list[Article] = []
    states: dict[str, dict] = {}
    for entry, link, seen_before in todo:
        article, why = entry_article(entry, fetcher)
        result.fetched += 1
        old = feed.entries.get(link) or {}
        if article is None:
            result.skipped.append((entry.link, why))
            continue
        if why:
            result.fallbacks.append((entry.link, why))
        articles.append(article)
        attempts = (old.get("attempts", 1) + 1) if seen_before and old.get("fallback") else 1
        states[link] = {"fingerprint": entry.fingerprint, "seen_at": old.get("seen_at", now), "in_feed_at": now,
                        "fallback": bool(why), "attempts": attempts}
    try:
        result.report = ingest(articles) if articles else IngestReport()
    except NewsdeskError as exc:  # e.g. IndexBusyError: keep the old validators so the next refresh tries again
        reason = str(exc) if isinstance(exc, IndexBusyError) else f"could not index its articles: {exc}"
        return _failed(feed, result, reason)
    failed = {source for source, _ in result.report.failed}
    for link, state in states.items():
        if link in failed:
            result.skipped.append((link, dict(result.report.failed).get(link, "could not be indexed")))
            continue
        if link in feed.entries:
            result.changed += 1
        else:
            result.new += 1
        feed.entries[link] = state
    feed.etag, feed.last_modified, feed.error = resp.etag, resp.last_modified, ""
    if result.report.added or result.report.updated:
        feed.changed_at = now
    _forget_old_entries(feed, in_feed)
    return result


def entry_article(entry: FeedEntry, fetcher: Fetcher) -> tuple[Article | None, str]:
    """(the article, why the feed's own text was used instead of the page); the article is None with the reason
    when neither the page nor the feed gives any text."""
    link = canonical_url(entry.link)
    page, why = None, ""
    try:
        page = fetch_article(entry.link, fetcher)
    except FetchError as exc:
        why = exc.reason
    except ArticleError as exc:
        why = str(exc)
    text = page.text if page is not None else entry.text
    if not text.strip():
        return None, f"the page could not be used ({why}) and the feed gives no text for it"
    title = entry.title or (page.title if page is not None else "") or " ".join(text.split()[:12])
    return Article(title=title, text=text, source=link, path="", url=link,
                   author=entry.author or (page.author if page is not None else ""),
                   date=entry.date or (page.date if page is not None else "")), why


def _failed(feed: Feed, result: FeedResult, reason: str) -> FeedResult:
    feed.error = result.error = reason
    result.status = "error"
    return result


def _forget_old_entries(feed: Feed, in_feed: set[str]) -> None:
    cutoff = (datetime.now(timezone.utc) - timedelta(days=FORGET_AFTER_DAYS)).isoformat(timespec="seconds")
    for link in [k for k, v in feed.entries.items() if k not in in_feed and v.get("in_feed_at", "") < cutoff]:
        del feed.entries[link]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
