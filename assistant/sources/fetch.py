"""Fetching web pages and feeds over HTTP(S), politely, and turning an article URL into an `Article`.

One `Fetcher` per run: it names the product in its user agent, waits between requests to the same host, gives up
after a timeout or a size limit, follows redirects only to http/https, and sends conditional requests (ETag /
Last-Modified) so an unchanged feed transfers nothing.
"""
from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Callable
from urllib.parse import urljoin, urlsplit

from .articles import Article, canonical_url, decode_bytes, parse_html, parse_text
from ..errors import ArticleError, FetchError

log = logging.getLogger(__name__)

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5,*/*;q=0.1"
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.1"
_BLOCK = 64 * 1024
_MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Response:
    """What a server sent: `status` is 200-ish, or 304 when the resource has not changed since the last fetch."""

    url: str  # the final URL, after redirects
    status: int
    body: bytes = b""
    content_type: str = ""  # media type only, lower case, e.g. "text/html"
    charset: str = ""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body decoded with the charset the server named, else UTF-8 or a detected legacy encoding."""
        if self.charset:
            try:
                return self.body.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                pass
        try:
            return decode_bytes(self.body)
        except ArticleError as exc:
            raise FetchError(self.url, str(exc)) from exc


def check_url(url: str) -> str:
    """The URL stripped, or FetchError unless it is an http(s) URL with a host."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise FetchError(url, "not a valid web address") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FetchError(url or "(empty)", "only http:// and https:// addresses can be fetched")
    return url


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = _MAX_REDIRECTS

    def http_error_302(self, req, fp, code, msg, headers):
        target = urljoin(req.full_url, headers.get("Location") or headers.get("URI") or "")
        if urlsplit(target).scheme.lower() not in ("http", "https"):
            fp.close()
            raise FetchError(req.full_url, f"redirected to {target}, which is not an http(s) address")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class Fetcher:
    """GET requests with a product user agent, a per-host delay, a timeout and a size limit."""

    def __init__(self, user_agent: str, timeout: float = 15.0, max_bytes: int = 10_000_000, host_delay: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host_delay = host_delay
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}  # host -> when the last request to it started
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_Redirects)

    def get(self, url: str, etag: str = "", last_modified: str = "", accept: str = HTML_ACCEPT) -> Response:
        """Fetch `url`; a 304 answer to the conditional headers comes back as `Response.not_modified`."""
        url = check_url(url)
        headers = {"User-Agent": self.user_agent, "Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self._wait_turn(urlsplit(url).hostname or "")
        request = urllib.request.Request(url, headers=headers, method="GET")
        started = self._clock()
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                body = self._read(resp, url, started)
                return _response(resp.geturl(), resp.status, body, resp.headers)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return _response(exc.geturl() or url, 304, b"", exc.headers)
            raise FetchError(url, f"the server answered {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise FetchError(url, _reason(exc.reason, self.timeout)) from None
        except (TimeoutError, socket.timeout):
            raise FetchError(url, _reason(TimeoutError(), self.timeout)) from None
        except (http.client.InvalidURL, ValueError) as exc:  # spaces or control characters in the address
            raise FetchError(url, f"not a valid web address ({exc})") from None
        except (http.client.HTTPException, ConnectionError, ssl.SSLError) as exc:
            raise FetchError(url, f"the connection broke ({type(exc).__name__}: {exc})") from None

    def _wait_turn(self, host: str) -> None:
        """Sleep so that requests to one host start at least `host_delay` seconds apart."""
        with self._lock:
            now = self._clock()
            due = self._last.get(host, float("-inf")) + self.host_delay
            wait = max(0.0, due - now)
            self._last[host] = now + wait
        if wait:
            log.debug("waiting %.2fs before the next request to %s", wait, host)
            self._sleep(wait)

    def _read(self, resp, url: str, started: float) -> bytes:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(url, self._too_big())
        chunks, size = [], 0
        while True:
            block = resp.read(_BLOCK)
            if not block:
                break
            size += len(block)
            if size > self.max_bytes:
                raise FetchError(url, self._too_big())
            # The socket timeout bounds each read; this bounds the whole body (a server dripping bytes).
            if self._clock() - started > self.timeout:
                raise FetchError(url, _reason(TimeoutError(), self.timeout))
            chunks.append(block)
        return b"".join(chunks)

    def _too_big(self) -> str:
        return f"the response is larger than {self.max_bytes / 1e6:g} MB (NEWSDESK_FETCH_MAX_MB)"


def _response(url: str, status: int, body: bytes, headers) -> Response:
    content_type = (headers.get_content_type() if headers is not None else "") or ""
    charset = (headers.get_content_charset() if headers is not None else "") or ""
    return Response(url, status, body, content_type.lower(), charset,
                    (headers.get("ETag") or "") if headers is not None else "",
                    (headers.get("Last-Modified") or "") if headers is not None else "")


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s (NEWSDESK_FETCH_TIMEOUT)"
    if isinstance(reason, socket.gaierror):
        return "the host name is not known (check the address, or the network connection)"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (is the server running?)"
    if isinstance(reason, ssl.SSLError):
        return f"the secure connection failed ({reason})"
    if isinstance(reason, FetchError):
        return reason.reason
    return f"cannot connect ({reason})"


def looks_like_feed(resp: Response) -> bool:
    if any(kind in resp.content_type for kind in ("rss", "atom", "rdf")):
        return True
    head = resp.body[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head)


def article_from_response(resp: Response, url: str) -> Article:
    """The article on a fetched page, identified by the canonical form of `url` (the link as given)."""
    if looks_like_feed(resp):
        raise ArticleError("this is a feed, not an article page: remember it with `newsdesk add-feed URL`")
    link = canonical_url(url)
    if resp.content_type in ("text/html", "application/xhtml+xml", "") or resp.body.lstrip()[:1] == b"<":
        article = parse_html(resp.text(), url=link)
    elif resp.content_type.startswith("text/"):
        article = parse_text(resp.text(), url=link)
    else:
        raise ArticleError(f"not a web page (the server sent {resp.content_type})")
    return replace(article, url=link, source=link, path="")


def fetch_article(url: str, fetcher: Fetcher) -> Article:
    """Fetch one article URL and extract its main text and metadata (FetchError or ArticleError otherwise)."""
    resp = fetcher.get(url, accept=HTML_ACCEPT)
    return article_from_response(resp, url)
