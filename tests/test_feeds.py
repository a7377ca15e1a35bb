"""Feeds and article URLs, against a local HTTP server on 127.0.0.1 that records every request (no other network)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant import Assistant
from assistant.errors import FeedError, FetchError
from assistant.sources.feeds import FeedEntry, html_to_text, parse_feed
from assistant.sources.fetch import Fetcher
from assistant.settings import Settings

from .conftest import ROOT

UA_PREFIX = "Newsdesk/"


# -- a small recording web server ------------------------------------------------------------------------------
@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str = ""
    last_modified: str = ""
    delay: float = 0.0
    location: str = ""


@dataclass
class Request:
    path: str
    headers: dict = field(default_factory=dict)


class NewsServer:
    def __init__(self):
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
                page = server.pages.get(self.path)
                try:
                    if page is None:
                        return self._send(404, "text/plain", b"not found")
                    if page.delay:
                        time.sleep(page.delay)
                    if page.etag and self.headers.get("If-None-Match") == page.etag:
                        return self._send(304, "", b"", page)
                    if page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified:
                        return self._send(304, "", b"", page)
                    self._send(page.status, page.content_type, page.body, page)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def _send(self, status, content_type, body, page=None):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if page is not None and page.etag:
                    self.send_header("ETag", page.etag)
                if page is not None and page.last_modified:
                    self.send_header("Last-Modified", page.last_modified)
                if page is not None and page.location:
                    self.send_header("Location", page.location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> Counter:
        return Counter(r.path for r in self.requests)


@pytest.fixture
def server():
    srv = NewsServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def story_page(title: str, paragraphs: list[str], canonical: str = "") -> bytes:
    """An article page as news sites make them: navigation, ads, scripts and a footer around the story."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!doctype html><html><head><title>{title} | The Daily Lantern</title>{link}
<script>window.dataLayer = []; function track() {{ return "ad-tracker"; }}</script>
<style>.ad {{ display: block }}</style></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe now for unlimited access</a></li></ul></nav>
<div class="ad">ADVERTISEMENT Buy the Zorblax turbo blender today, limited offer for lantern readers only</div>
<main><article><h1>{title}</h1>{body}</article></main>
<aside class="ad">Sponsored: Zorblax blenders are the best blenders in the whole wide world</aside>
<footer><p>Copyright The Daily Lantern. All rights reserved. Privacy policy. Cookie settings.</p></footer>
<script>track(); console.log("tracking pixel loaded for the advertisement network");</script>
</body></html>""".encode()


TUNNEL = ["The Kelvale harbour tunnel opened to traffic on Monday after six years of construction.",
          "City engineer Mara Oduya said the tunnel would carry forty thousand cars a day and cut the crossing "
          "time from twenty minutes to four.",
          "Residents of the old quay had campaigned against the project, citing noise during the works."]
COMET = ["Astronomers at the Velmont observatory discovered a bright comet on Saturday night.",
         "Observatory director Ines Farrow said the comet, named Velmont-7, will be visible without a telescope "
         "in late April.",
         "The discovery was confirmed by two other observatories within a day."]
APRICOTS = ["Orchard growers in Tessaly reported a record apricot harvest this summer.",
            "The growers' cooperative said warm spring weather and the absence of late frost doubled the yield.",
            "Prices at the Tessaly market fell by a third as a result."]


def rss(server: NewsServer, extra_items: str = "", tunnel_desc: str = "The harbour tunnel opened on Monday.",
        tunnel_updated: str = "Mon, 04 Mar 2024 08:00:00 GMT") -> bytes:
    apricot_html = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in APRICOTS)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Lantern News</title><link>{server.base}/</link><description>Local news</description>
<item><title>Harbour tunnel opens to traffic</title><link>{server.base}/news/harbour-tunnel</link>
  <dc:creator>Tom Reyes</dc:creator><pubDate>{tunnel_updated}</pubDate>
  <description>{tunnel_desc}</description></item>
<item><title>Library to open until midnight</title><link>{server.base}/news/library-hours</link>
  <dc:creator>Ada Moss</dc:creator><pubDate>Tue, 05 Mar 2024 09:30:00 GMT</pubDate>
  <description>The Brennock library will stay open until midnight during exam weeks, the council announced on Tuesday. Librarian Olu Banks said students had asked for longer hours.</description></item>
<item><title>Record apricot harvest in Tessaly</title><link>{server.base}/news/apricots</link>
  <dc:creator>Lin Park</dc:creator><pubDate>Wed, 06 Mar 2024 10:00:00 GMT</pubDate>
  <description>Apricot growers had a record year.</description>
  <content:encoded>{apricot_html}</content:encoded></item>
<item><title>Harbour tunnel opens to traffic</title><link>{server.base}/news/harbour-tunnel?utm_source=rss&amp;utm_medium=feed</link>
  <pubDate>{tunnel_updated}</pubDate><description>{tunnel_desc}</description></item>
{extra_items}
</channel></rss>""".encode()


def atom(server: NewsServer) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Lantern Science</title><id>urn:lantern:science</id>
<updated>2024-03-07T12:00:00Z</updated>
<entry><title>Comet spotted from Velmont</title><id>urn:lantern:comet</id>
  <link rel="alternate" href="{server.base}/science/comet"/>
  <author><name>Ines Farrow</name></author><published>2024-03-07T11:00:00Z</published><updated>2024-03-07T11:00:00Z</updated>
  <summary>A comet was discovered at Velmont.</summary></entry>
</feed>""".encode()


BROKEN = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>
<item><title>Half an item</titel><link>http://127.0.0.1:9/never</link></item></channel></rss>"""


def serve_news(server: NewsServer) -> None:
    server.pages["/rss.xml"] = Page(rss(server), "application/rss+xml", etag='"rss-v1"')
    server.pages["/atom.xml"] = Page(atom(server), "application/atom+xml", last_modified="Thu, 07 Mar 2024 12:00:00 GMT")
    server.pages["/broken.xml"] = Page(BROKEN, "application/rss+xml")
    server.pages["/news/harbour-tunnel"] = Page(story_page("Harbour tunnel opens to traffic", TUNNEL))
    # /news/library-hours is missing (404): the entry's description is indexed instead
    server.pages["/news/apricots"] = Page(story_page("Apricots", APRICOTS), delay=3.0)  # times out
    server.pages["/science/comet"] = Page(story_page("Comet spotted", COMET))


def make_assistant(tmp_path, embedder, name="idx") -> Assistant:
    settings = Settings(home=tmp_path / name, fetch_timeout=1.0, fetch_host_delay=0.0)
    return Assistant(settings=settings, embedder=embedder, backend="extractive")


def by_url(qa: Assistant) -> dict:
    return {a.url: a for a in qa.articles()}


def text_of(qa: Assistant, doc_id: str) -> str:
    return " ".join(c.text for c in qa.store.chunks_of(doc_id))


# -- feeds end to end ----------------------------------------------------------------------------------------------
def test_refresh_indexes_feeds_with_feed_metadata_fallbacks_and_conditional_requests(server, embedder, tmp_path):
    serve_news(server)
    qa = make_assistant(tmp_path, embedder)
    for path in ("/rss.xml", "/atom.xml", "/broken.xml"):
        qa.add_feed(server.url(path))
    qa.add_feed(server.url("/rss.xml"))  # remembered once
    assert len(qa.feeds()) == 3

    report = qa.refresh_feeds()

    results = {r.url: r for r in report.feeds}
    broken = results[server.url("/broken.xml")]
    assert broken.status == "error" and "not well-formed XML" in broken.error and "line 2" in broken.error
    assert results[server.url("/rss.xml")].ok and results[server.url("/atom.xml")].ok
    assert results[server.url("/rss.xml")].new == 3 and results[server.url("/atom.xml")].new == 1
    fallbacks = dict(results[server.url("/rss.xml")].fallbacks)
    assert "404" in fallbacks[server.url("/news/library-hours")]
    assert "no answer within 1 s" in fallbacks[server.url("/news/apricots")]

    # Every feed and page once (the tunnel appears twice in the feed), nothing else; the product's user agent.
    assert server.paths() == Counter({"/rss.xml": 1, "/atom.xml": 1, "/broken.xml": 1, "/news/harbour-tunnel": 1,
                                      "/news/library-hours": 1, "/news/apricots": 1, "/science/comet": 1})
    assert all(r.headers["user-agent"].startswith(UA_PREFIX) for r in server.requests)

    articles = by_url(qa)
    assert sorted(articles) == sorted(server.url(p) for p in ("/news/harbour-tunnel", "/news/library-hours",
                                                            "/news/apricots", "/science/comet"))
    tunnel = articles[server.url("/news/harbour-tunnel")]
    assert (tunnel.title, tunnel.author, tunnel.date) == ("Harbour tunnel opens to traffic", "Tom Reyes", "2024-03-04")
    assert tunnel.source == tunnel.url and tunnel.path == ""
    body = text_of(qa, tunnel.doc_id)
    assert "forty thousand cars" in body  # the page's story, not the feed's one-line description
    assert "Zorblax" not in body and "Subscribe" not in body and "tracking" not in body
    comet = articles[server.url("/science/comet")]
    assert (comet.title, comet.author, comet.date) == ("Comet spotted from Velmont", "Ines Farrow", "2024-03-07")
    library = articles[server.url("/news/library-hours")]
    assert "Olu Banks" in text_of(qa, library.doc_id) and library.author == "Ada Moss"
    apricots = articles[server.url("/news/apricots")]
    assert "doubled the yield" in text_of(qa, apricots.doc_id)  # content:encoded, as the page timed out
    assert "broken" not in " ".join(articles) and "never" not in " ".join(articles)

    answer = qa.ask("How many cars a day will the Kelvale harbour tunnel carry?")
    assert answer.citations and answer.citations[0].source == server.url("/news/harbour-tunnel")

    # Unchanged feeds answer 304 to the conditional request: nothing transferred, nothing fetched, nothing indexed.
    server.requests.clear()
    second = qa.refresh_feeds()
    assert [r.status for r in second.feeds] == ["not modified", "not modified", "error"]
    assert server.paths() == Counter({"/rss.xml": 1, "/atom.xml": 1, "/broken.xml": 1})
    sent = {r.path: r.headers for r in server.requests}
    assert sent["/rss.xml"]["if-none-match"] == '"rss-v1"'
    assert sent["/atom.xml"]["if-modified-since"] == "Thu, 07 Mar 2024 12:00:00 GMT"
    assert (second.added, second.updated) == (0, 0) and len(qa.articles()) == 4

    # The feed changes: an updated entry is fetched again, a new one fetched, seen ones are not; pages that
    # failed before are tried again (the slow one now answers), the missing one still falls back.
    server.requests.clear()
    new_item = (f"<item><title>Ferry timetable changes</title><link>{server.base}/news/ferry</link>"
                f"<pubDate>Fri, 08 Mar 2024 07:00:00 GMT</pubDate><description>The ferry runs hourly.</description></item>")
    server.pages["/rss.xml"] = Page(rss(server, new_item, tunnel_desc="The tunnel closed briefly for repairs.",
                                        tunnel_updated="Thu, 07 Mar 2024 18:00:00 GMT"),
                                    "application/rss+xml", etag='"rss-v2"')
    server.pages["/news/harbour-tunnel"] = Page(story_page("Harbour tunnel opens to traffic", TUNNEL + [
        "On Thursday the tunnel closed for two hours for repairs to a ventilation fan."]))
    server.pages["/news/apricots"] = Page(story_page("Apricots", APRICOTS + ["Jam makers welcomed the glut."]))
    server.pages["/news/ferry"] = Page(story_page("Ferry timetable", [
        "The Kelvale ferry will run every hour from April, the port authority said on Friday.",
        "Night crossings will be dropped because the new tunnel has taken most of the traffic."]))
    third = qa.refresh_feeds()
    rss_result = {r.url: r for r in third.feeds}[server.url("/rss.xml")]
    assert (rss_result.new, rss_result.changed) == (1, 3)
    assert server.paths() == Counter({"/rss.xml": 1, "/atom.xml": 1, "/broken.xml": 1, "/news/harbour-tunnel": 1,
                                      "/news/ferry": 1, "/news/library-hours": 1, "/news/apricots": 1})
    articles = by_url(qa)
    assert len(articles) == 5
    tunnel = articles[server.url("/news/harbour-tunnel")]
    assert "ventilation fan" in text_of(qa, tunnel.doc_id) and tunnel.date == "2024-03-07"
    assert "Jam makers" in text_of(qa, articles[server.url("/news/apricots")].doc_id)
    assert third.added == 1 and third.updated == 2  # the library entry fell back to the same text: unchanged


def test_same_story_as_file_url_and_feed_item_is_one_article(server, embedder, tmp_path):
    link = server.url("/news/harbour-tunnel")
    server.pages["/news/harbour-tunnel"] = Page(story_page("Harbour tunnel opens to traffic", TUNNEL))
    server.pages["/other"] = Page(story_page("Comet spotted", COMET))
    server.pages["/feed.xml"] = Page(rss(server), "application/rss+xml")
    saved = tmp_path / "saved" / "tunnel.html"
    saved.parent.mkdir()
    saved.write_bytes(story_page("Harbour tunnel opens to traffic", TUNNEL, canonical=link))
    qa = make_assistant(tmp_path, embedder)

    assert qa.ingest([saved]).added == 1
    report = qa.ingest([link + "?utm_source=newsletter", server.url("/other"), server.url("/missing"),
                        server.url("/feed.xml")])
    assert report.added == 1  # /other; the tunnel is the saved file's story (same canonical URL)
    failed = dict(report.failed)
    assert "404" in failed[server.url("/missing")]
    assert "add-feed" in failed[server.url("/feed.xml")]
    urls = [a.url for a in qa.articles()]
    assert sorted(urls) == sorted([link, server.url("/other")])

    qa.add_feed(server.url("/feed.xml"))
    server.requests.clear()
    refresh = qa.refresh_feeds()
    assert refresh.feeds[0].seen == 1  # already indexed: its page is not fetched again
    assert "/news/harbour-tunnel" not in server.paths()
    assert [a.url for a in qa.articles()].count(link) == 1

    # found under the address it was fetched from (whether the answerer's gate then answers is test_answers' part)
    assert qa.retrieve("Who is Ines Farrow?", top_k=1)[0].source == server.url("/other")


# -- the fetcher -------------------------------------------------------------------------------------------------
def test_fetcher_limits_schemes_size_redirects_and_spaces_requests_per_host(server):
    server.pages["/big"] = Page(b"x" * 5000, "text/plain")
    server.pages["/to-file"] = Page(b"", status=302, location="file:///etc/passwd")
    server.pages["/moved"] = Page(b"", status=301, location=server.url("/small"))
    server.pages["/small"] = Page(b"small page", "text/plain")
    fetcher = Fetcher("Newsdesk/test", timeout=2.0, max_bytes=1000, host_delay=0.0)
    for bad in ("file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "http://"):
        with pytest.raises(FetchError, match="only http"):
            fetcher.get(bad)
    with pytest.raises(FetchError, match="larger than"):
        fetcher.get(server.url("/big"))
    with pytest.raises(FetchError, match="not an http"):
        fetcher.get(server.url("/to-file"))
    moved = fetcher.get(server.url("/moved"))
    assert moved.body == b"small page" and moved.url == server.url("/small")
    with pytest.raises(FetchError, match="refused"):
        fetcher.get("http://127.0.0.1:9/closed")

    now, slept = [100.0], []
    polite = Fetcher("Newsdesk/test", host_delay=0.5, clock=lambda: now[0], sleep=lambda s: slept.append(s))
    polite.get(server.url("/small"))
    polite.get(server.url("/small"))
    assert slept == [0.5]


def test_parse_feed_reads_rss_atom_and_rejects_what_is_not_a_feed():
    rss1 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://x/"><title>One</title></channel>
      <item rdf:about="http://x/a"><title>A &amp; B</title><link>http://x/a</link><description>&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</description></item></rdf:RDF>"""
    feed = parse_feed(rss1)
    assert feed.title == "One" and feed.entries == [FeedEntry("http://x/a", "A & B", "", "", "", "Hi there")]
    rss091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
      <item><title>T</title><link>http://x/t</link><description>Body text.</description></item></channel></rss>"""
    assert parse_feed(rss091).entries[0].link == "http://x/t"
    with pytest.raises(FeedError, match="web page"):
        parse_feed(b"<html><body><p>Hello</p></body></html>")
    with pytest.raises(FeedError, match="not an RSS or Atom"):
        parse_feed(b'{"items": []}')
    with pytest.raises(FeedError, match="not well-formed"):
        parse_feed(BROKEN)
    assert html_to_text("<p>One</p><script>x()</script><p>Two &amp; three</p>") == "One\nTwo & three"


# -- the command line ----------------------------------------------------------------------------------------------
def test_cli_feeds_report_errors_in_plain_words(server, tmp_path):
    server.pages["/broken.xml"] = Page(BROKEN, "application/rss+xml")
    server.pages["/page.html"] = Page(story_page("Comet spotted", COMET))
    env = {**os.environ, "NEWSDESK_HOME": str(tmp_path / "idx"), "NEWSDESK_FETCH_TIMEOUT": "2"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)

    bad = run("add-feed", "ftp://example.org/feed")
    assert bad.returncode == 1 and "only http" in bad.stderr and "Traceback" not in bad.stderr
    added = run("add-feed", server.url("/broken.xml"), server.url("/page.html"), "http://127.0.0.1:9/feed.xml")
    assert added.returncode == 0 and added.stdout.count("remembered:") == 3 and "newsdesk refresh" in added.stdout
    refresh = run("refresh")
    assert refresh.returncode == 1 and "Traceback" not in refresh.stderr + refresh.stdout
    assert "not well-formed XML" in refresh.stdout
    assert "web page, not an RSS or Atom feed" in refresh.stdout
    assert "connection was refused" in refresh.stdout
    assert "3 feeds refreshed, 3 failed" in refresh.stdout
    listed = run("feeds")
    assert listed.stdout.count("last refresh failed") == 3
    missing = run("ingest", server.url("/nothing-here"))
    assert missing.returncode == 0 and "404" in missing.stdout and "Traceback" not in missing.stderr
    removed = run("remove-feed", "http://127.0.0.1:9/feed.xml")
    assert removed.returncode == 0 and "forgotten" in removed.stdout
    assert len(Assistant(index_dir=tmp_path / "idx").feeds()) == 2
