"""Turning a file, an HTML page or a JSON record into an `Article` (pure, apart from reading the file)."""
from __future__ import annotations

import hashlib
import html
import json
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArticleError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")

_SOURCE_RE = re.compile(r"(?i)\b(?:source|url|original(?: url)?)\s*:\s*(https?://[^\s<>\"')\]]+)")
_AUTHOR_LINE_RE = re.compile(r"(?im)^\s*(?:author|by|byline)\s*:\s*(.+?)\s*$")
_AUTHOR_INLINE_RE = re.compile(r"\bAuthor\s*:\s*([A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3})")
_DATE_LINE_RE = re.compile(r"(?im)^\s*(?:date|published|publication date)\s*:\s*(.+?)\s*$")
_META_LINE_RE = re.compile(r"(?i)^\s*(?:source|url|author|by|byline|date|published|publication date)\s*:")
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_MAX_HEADLINE_CHARS = 200
_MIN_HTML_WORDS = 8  # below this, what trafilatura found is menu text, not a story
_TEXT_KEYS = ("text", "content", "body", "article", "story")
_TITLE_KEYS = ("title", "headline", "name")
_URL_KEYS = ("url", "link", "source", "canonical_url")
_AUTHOR_KEYS = ("author", "authors", "byline", "creator")
_DATE_KEYS = ("date", "published", "published_at", "pubDate", "publication_date", "datetime")


@dataclass(frozen=True)
class Article:
    """One news article. `source` is the URL when the article names one, else the file path."""

    title: str
    text: str  # the body, without the headline
    source: str
    path: str = ""  # the file it came from ("" for URLs and pasted text)
    url: str = ""
    author: str = ""
    date: str = ""
    record: int = 0  # position inside a .json/.jsonl file
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def doc_id(self) -> str:
        """Stable identity: the canonical URL if there is one, else the file (and record) it came from."""
        key = canonical_url(self.url) if self.url else f"file:{self.path}#{self.record}"
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is indexed or shown changes."""
        parts = [self.title, self.text, self.source, self.url, self.author, self.date]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no trailing slash, no tracking parameters."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith(("utm_", "fbclid", "gclid"))]
    path = parts.path.rstrip("/") or ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


def decode_bytes(data: bytes) -> str:
    """Decode text in UTF-8 or, failing that, the detected legacy encoding (GBK, Big5, Latin-1...)."""
    if not data.strip():
        raise ArticleError("the file is empty")
    if b"\x00" in data[:8192] or data[:5] == b"%PDF-" or data[:4] in (b"\x89PNG", b"PK\x03\x04") or data[:3] == b"\xff\xd8\xff":
        raise ArticleError("this is a binary file, not text (a PDF, image or archive?)")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ArticleError("the text encoding could not be recognised (not UTF-8, GBK, Big5 or Latin-1)")
    # Short Western text fools the detector (Latin-1 "café" read as cp775): when Windows-1252, Latin-1's
    # superset, is among the plausible readings, it is the one; CJK, Cyrillic and Greek never offer it.
    if best.encoding != "cp1252" and any(m.encoding == "cp1252" for m in matches):
        text = data.decode("cp1252")
    else:
        text = str(best)
    if _control_ratio(text) > 0.05:
        raise ArticleError("this looks like a binary file, not text")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:10000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(sample))


def too_large(size: int, max_bytes: int) -> str:
    """Why a file over the size limit is skipped, and how to raise the limit."""
    mb = f"{size / 1e6:.1f}" if size >= 100_000 else f"{size / 1e6:.2g}"
    return (f"too large: the file is {mb} MB, over the {max_bytes / 1e6:g} MB limit; to index it, "
            f"raise the limit with NEWSDESK_MAX_FILE_MB (e.g. NEWSDESK_MAX_FILE_MB={math.ceil(size / 1e6)})")


@dataclass
class ParsedFile:
    """The articles of one file, and the records in it that were left out, as (where, reason):
    ("feed.jsonl:3", "not valid JSON: ...") for a line of a .jsonl, ("feed.json (record 2)", ...) for a .json list."""

    articles: list[Article]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    skipped_records: set[int] = field(default_factory=set)  # their `Article.record` numbers


def parse_file(path: Path, max_bytes: int | None = None) -> list[Article]:
    """All articles in one file; raises ArticleError with a plain reason when there are none."""
    return read_articles(path, max_bytes).articles


def read_articles(path: Path, max_bytes: int | None = None) -> ParsedFile:
    """`parse_file`, also saying which records of a .json or .jsonl file were left out and why."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # reading a pipe would block
            raise ArticleError("not a regular file (a folder, pipe or device); only regular files are read")
        if max_bytes is not None and info.st_size > max_bytes:
            raise ArticleError(too_large(info.st_size, max_bytes))
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ArticleError(f"cannot read the file: {reason[:1].lower()}{reason[1:]}") from exc
    text = decode_bytes(data)
    where = str(path)
    if suffix in (".html", ".htm"):
        return ParsedFile([parse_html(text, path=where)])
    if suffix == ".json":
        return _parsed(*_json_records(text, where))
    if suffix == ".jsonl":
        return _parsed(*_jsonl_records(text, where))
    return ParsedFile([parse_text(text, path=where)])


def _parsed(articles: list[Article], skipped: list[tuple[int, str, str]]) -> ParsedFile:
    return ParsedFile(articles, [(where, why) for _, where, why in skipped], {record for record, _, _ in skipped})


_NUMERIC_REFERENCE = re.compile(r"&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")


def parse_text(raw: str, path: str = "", url: str = "") -> Article:
    """Plain text or Markdown: front matter or the first non-empty line is the headline. Numeric character references
    left in the text by an export ("Pel&#233;") are read as the characters they stand for."""
    raw = _NUMERIC_REFERENCE.sub(lambda m: html.unescape(m.group(0)), raw.replace("\r\n", "\n").replace("\r", "\n"))
    meta: dict[str, str] = {}
    match = _FRONT_MATTER_RE.match(raw)
    if match:
        meta = _parse_front_matter(match.group(1))
        raw = raw[match.end():]
    lines = raw.split("\n")
    title = meta.get("title", "")
    if not title:
        for i, line in enumerate(lines):
            if line.strip():
                title = _clean_heading(line)
                if len(title) > _MAX_HEADLINE_CHARS:
                    # No headline line: the story starts at once. Keep the line in the body.
                    title = _first_words(title)
                else:
                    lines = lines[i + 1:]
                break
    body_lines = []
    for line in lines:
        # Header-style metadata lines ("Source: ...", "Author: ...") near the top are metadata, not story.
        if len(body_lines) < 6 and not "".join(body_lines).strip() and _META_LINE_RE.match(line):
            meta.setdefault(_meta_key(line), line.split(":", 1)[1].strip())
            continue
        body_lines.append(line)
    body = _tidy("\n".join(body_lines))
    if not title and not body:
        raise ArticleError("the file has no text")
    if not body:
        body, title = title, _first_words(title)
    found_url = meta.get("url") or meta.get("source") or _first(_SOURCE_RE, raw) or url
    found_url = found_url if found_url.startswith(("http://", "https://")) else url
    author = meta.get("author") or _first(_AUTHOR_LINE_RE, raw) or _first(_AUTHOR_INLINE_RE, raw)
    date = meta.get("date") or _first(_DATE_LINE_RE, raw)
    return Article(title=title, text=body, source=found_url or path, path=path, url=found_url,
                   author=author.strip(" ."), date=date)


def parse_html(html: str, path: str = "", url: str = "") -> Article:
    """Main text and metadata of a web page, via trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False,
                                      include_tables=True, favor_precision=True)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text.split()) < _MIN_HTML_WORDS:
        raise ArticleError("no article text found in the HTML (only navigation, scripts or styles?)")
    title = (doc.title or "").strip()
    lines = text.split("\n")
    if title and lines and lines[0].strip() == title:
        text = "\n".join(lines[1:]).strip()
    if not title:
        title = _first_words(text)
    page_url = doc.url if doc.url and doc.url.startswith(("http://", "https://")) else url
    return Article(title=title, text=_tidy(text), source=page_url or path, path=path, url=page_url or "",
                   author=(doc.author or "").strip(), date=(doc.date or "").strip())


def parse_json(raw: str, path: str = "") -> list[Article]:
    return _json_records(raw, path)[0]


def parse_jsonl(raw: str, path: str = "") -> list[Article]:
    """One article per line; broken lines are skipped when the others are good (`read_articles` lists them)."""
    return _jsonl_records(raw, path)[0]


def _json_records(raw: str, path: str) -> tuple[list[Article], list[tuple[int, str, str]]]:
    """The articles, and the records left out as (record number, where, reason)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArticleError(f"malformed JSON: {json_problem(exc)}") from exc
    records = data if isinstance(data, list) else data.get("articles", [data]) if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ArticleError("the JSON is not an article or a list of articles")
    articles, skipped, reasons = [], [], []
    for i, record in enumerate(records):
        try:
            articles.append(parse_record(record, path=path, record=i))
        except ArticleError as exc:
            reasons.append(f"record {i + 1}: {exc}")
            skipped.append((i, f"{path} (record {i + 1})", str(exc)))
    if not articles:
        raise ArticleError(reasons[0] if len(reasons) == 1 else "no article records: " + "; ".join(reasons[:3]))
    return articles, skipped


def _jsonl_records(raw: str, path: str) -> tuple[list[Article], list[tuple[int, str, str]]]:
    """The articles, and the lines left out as (record number, where, reason); a line's record number is its index."""
    articles, skipped, reasons = [], [], []
    for i, line in enumerate(raw.splitlines()):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            reasons.append(f"line {i + 1}: malformed JSON ({exc.msg})")
            skipped.append((i, f"{path}:{i + 1}", f"not valid JSON: {json_problem(exc, line_known=True)}"))
            continue
        try:
            articles.append(parse_record(record, path=path, record=i))
        except ArticleError as exc:
            reasons.append(f"line {i + 1}: {exc}")
            skipped.append((i, f"{path}:{i + 1}", str(exc)))
    if not articles:
        raise ArticleError("no article records: " + "; ".join(reasons[:3]) if reasons else "the file has no records")
    return articles, skipped


def json_problem(exc: json.JSONDecodeError, line_known: bool = False) -> str:
    """"Expecting value at line 1, column 5": the parser's words and where (its message may end in "at" already)."""
    where = f"column {exc.colno}" if line_known else f"line {exc.lineno}, column {exc.colno}"
    msg = exc.msg.rstrip()
    return f"{msg} {where}" if msg.endswith(" at") else f"{msg} at {where}"


def parse_record(obj: object, path: str = "", record: int = 0) -> Article:
    """One JSON object: title, text/content/body, url, author, date."""
    if not isinstance(obj, dict):
        raise ArticleError("not a JSON object with a title and text")
    text = _pick(obj, _TEXT_KEYS)
    if not text.strip():
        raise ArticleError(f"no article text (expected one of the keys {', '.join(_TEXT_KEYS)})")
    title = _pick(obj, _TITLE_KEYS).strip()
    url = _pick(obj, _URL_KEYS).strip()
    url = url if url.startswith(("http://", "https://")) else ""
    body = _tidy(text)
    if not title:
        title = _first_words(body)
    return Article(title=title, text=body, source=url or path, path=path, url=url,
                   author=_pick(obj, _AUTHOR_KEYS).strip(), date=_pick(obj, _DATE_KEYS).strip(), record=record)


def _pick(obj: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
        if isinstance(value, dict):
            value = value.get("name") or value.get("href") or ""
        if value:
            return str(value)
    return ""


def _parse_front_matter(block: str) -> dict[str, str]:
    meta = {}
    for line in block.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[_meta_key(key + ":")] = value.strip().strip("\"'")
    return meta


def _meta_key(line: str) -> str:
    key = line.split(":", 1)[0].strip().lower()
    return {"by": "author", "byline": "author", "published": "date", "publication date": "date",
            "headline": "title", "link": "url"}.get(key, key)


def _first(pattern: re.Pattern, text: str) -> str:
    match = pattern.search(text)
    return match.group(1).strip() if match else ""


def _clean_heading(line: str) -> str:
    return re.sub(r"^\s*#+\s*", "", line).strip().strip("*_").strip()


def _first_words(text: str, n: int = 12) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
