"""The web page: rendering helpers (pure), then the real page in headless Chromium over a copy of the sample index."""
from __future__ import annotations

import ipaddress
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.errors import ArticleError
from assistant.web.ui import (answer_dict, highlight, http_url, redact_url, render_card, render_library, render_messages,
                          render_sources, safe_upload_name, source_html, source_label)
from assistant.types import Answer, ArticleInfo, Citation, Passage

from .conftest import ARTIFACTS, free_port, start_page

LONG = 90_000  # ms: the machine is small and shared; the page itself answers in about a second
CHROMIUM = "/usr/bin/chromium"


# -- pure rendering ------------------------------------------------------------------------------------------------
def test_only_http_urls_become_links():
    assert http_url("https://aicnbc.com/844.html") == "https://aicnbc.com/844.html"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/etc/passwd", "file:///etc/passwd",
                "https://x.example/\"onmouseover=alert(1)", "http:///nohost", ""):
        assert http_url(bad) == "", bad
    assert "<a" not in source_html("javascript:alert(1)", "javascript:alert(1)")
    assert 'href="https://aicnbc.com/844.html"' in source_html("https://aicnbc.com/844.html")
    assert 'target="_blank"' in source_html("https://aicnbc.com/844.html")


def test_source_labels():
    assert source_label("https://www.aicnbc.com/844.html") == "aicnbc.com/844.html"
    assert source_label("/work/main/examples/articles/11_xi.txt") == "11_xi.txt"
    assert source_label("pasted:abc123") == "pasted text"


def test_highlight_marks_supporting_sentences_and_escapes():
    quote = "First <b>bold</b> claim.\nSecond   sentence here. Third."
    out = highlight(quote, ["Second sentence here."])
    assert "<mark>Second   sentence here.</mark>" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out and "<b>" not in out


def test_cards_and_messages_escape_article_text():
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    citation = Citation(1, "d1", f"Headline {evil}", "javascript:alert(3)", f"Quote {evil}.",
                        sentences=(f"Quote {evil}.",))
    answer = Answer(f"Answer {evil} [1].", [citation], "q?")
    turns = [{"question": f"q {evil}", "answer": answer_dict(answer)}]
    html = render_sources(turns) + "".join(m["content"] for m in render_messages(turns))
    html += render_card(0, answer_dict(answer)["citations"][0])
    html += render_library([ArticleInfo("d1", evil, "javascript:alert(3)", "", "", evil, evil, 1, "")])
    assert "<script" not in html and "<img" not in html and "javascript:" not in html.replace("javascript:alert(3)", "")
    assert "&lt;script&gt;" in html
    assert 'href="#nd-src-0-1"' in html  # the marker is a link to its card


def test_abstained_answer_shows_related_passages():
    passage = Passage("d1", "Closest headline", "https://a.example/1", "Some related text.", 0.1)
    answer = Answer("The articles don't say: this is not in the indexed articles.", [], "q", abstained=True,
                    note="The LLM was unreachable.", passages=[passage] * 4)
    data = answer_dict(answer)
    assert len(data["related"]) == 3
    html = render_sources([{"question": "q", "answer": data}])
    assert "Not in the articles" in html and "related, but not an answer" in html and "Closest headline" in html
    assert "The LLM was unreachable." in html


@pytest.mark.parametrize("name, expected", [
    ("story.md", "story.md"), ("../../etc/evil.txt", "evil.txt"), ("/abs/path/x.HTML", "x.html"),
    ("C:\\Users\\me\\y.json", "y.json"), ("a\x00b.txt", "ab.txt"), (".hidden.md", "hidden.md"),
    ("weird <name>;rm -rf.jsonl", "weird _name_rm -rf.jsonl"),
])
def test_safe_upload_names(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "..", "", "noext", "x.txt/..", "photo.png", "..txt"])
def test_unsafe_upload_names_are_refused(name):
    with pytest.raises(ArticleError):
        safe_upload_name(name)


def test_redact_url_hides_credentials():
    assert redact_url("https://user:secret@llm.example:8443/v1?key=abc") == "https://llm.example:8443/v1"
    assert redact_url(None) == ""


def test_secrets_are_scrubbed_from_messages(tmp_path):
    from assistant import Assistant
    from assistant.settings import Settings
    from assistant.web.ui import NewsdeskPage

    settings = Settings(home=tmp_path, openai_api_key="sk-very-secret", openai_base_url="https://me:pw@llm.example/v1")
    page = NewsdeskPage(Assistant(settings=settings))
    message = page.scrub("Cannot reach https://me:pw@llm.example/v1 with key sk-very-secret.")
    assert "pw" not in message and "sk-very-secret" not in message and "https://llm.example/v1" in message
    assert "very-secret" not in page.settings_html() and "pw@" not in page.settings_html()


def test_the_settings_tab_shows_a_llama_index_llm_without_its_secrets(tmp_path):
    from assistant import Assistant
    from assistant.settings import Settings
    from assistant.web.ui import NewsdeskPage

    settings = Settings(home=tmp_path, llama_index_llm="llama_index.llms.openai_like.OpenAILike",
                        llama_index_llm_args={"model": "qwen2.5:1.5b", "api_key": "sk-very-secret",
                                              "api_base": "https://me:pw@llm.example/v1"})
    page = NewsdeskPage(Assistant(settings=settings))
    html = page.settings_html()
    assert "llama-index (LLM)" in html and "qwen2.5:1.5b" in html
    assert "llama_index.llms.openai_like.OpenAILike at https://llm.example/v1" in html
    assert "very-secret" not in html and "pw@" not in html
    assert "llama-index · qwen2.5:1.5b answers" in page.header_html([])


def test_update_index_reingests_watched_folders(fresh_copy, embedder, tmp_path):
    from assistant import Assistant
    from assistant.web.ui import NewsdeskPage

    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "ferry.txt").write_text("Marlow ferry fares frozen\n\nThe Marlow ferry will keep its fares at 3 dollars "
                                    "until 2027, the operator said.\n", encoding="utf-8")
    page = NewsdeskPage(Assistant(index_dir=fresh_copy, embedder=embedder, backend="extractive"), watch=[desk])
    assert desk.resolve() in page.watched and (fresh_copy / "uploads").resolve() in page.watched
    summary, library, *_ = page.update_index("marlow", progress=None)
    assert "<b>1</b> added" in summary and "<b>14</b> unchanged" in summary
    assert "Marlow ferry fares frozen" in library and "1 of 15" in library

    (desk / "ferry.txt").unlink()
    summary, library, *_ = page.update_index("", progress=None)
    assert "<b>1</b> removed" in summary and "Marlow" not in library


def test_update_index_removes_rejected_uploads_left_by_an_earlier_page(fresh_copy, embedder):
    """Uploads the page kept before it removed rejected ones: "Update index" reports each once and removes it."""
    from assistant import Assistant
    from assistant.web.ui import NewsdeskPage

    uploads = fresh_copy / "uploads"
    uploads.mkdir()
    (uploads / "empty.txt").write_text("")
    (uploads / "story.txt").write_text("Marlow ferry fares frozen\n\nThe Marlow ferry keeps its fares at 3 dollars.\n")
    page = NewsdeskPage(Assistant(index_dir=fresh_copy, embedder=embedder, backend="extractive"))
    summary, *_ = page.update_index("", progress=None)
    assert "<b>1</b> added" in summary and "empty.txt: the file is empty; the upload was removed" in summary
    assert sorted(p.name for p in uploads.iterdir()) == ["story.txt"]
    summary, *_ = page.update_index("", progress=None)
    assert "<b>0</b> failed" in summary


def test_app_reads_host_and_port_from_the_environment(monkeypatch):
    import app
    from assistant.settings import Settings

    monkeypatch.setenv("NEWSDESK_HOST", "0.0.0.0")
    monkeypatch.setenv("NEWSDESK_PORT", "8123")
    args = app.build_parser().parse_args(["--watch", "a", "--watch", "b"])
    assert (args.host, args.port, args.watch, args.no_samples) == (None, None, ["a", "b"], False)
    assert (Settings().host, Settings().port) == ("0.0.0.0", 8123)  # what app.py falls back to
    assert app.build_parser().parse_args(["--port", "9000"]).port == 9000


def test_app_py_serves_the_page(fresh_copy, tmp_path):
    """`python app.py` as a user runs it: the page and the API answer on the chosen port."""
    import subprocess
    import urllib.request

    from .conftest import ROOT

    port = free_port()
    env = {**os.environ, "NEWSDESK_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--index", str(fresh_copy)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200 and "Newsdesk" in response.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "app.py did not start in 120 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=10) as response:
            assert "/ask" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- the page in a browser ---------------------------------------------------------------------------------------
_outbound: list[str] = []


def _record_outbound(event: str, args: tuple) -> None:
    """Every socket this process connects to that is not on this machine (the app runs in-process)."""
    if event != "socket.connect" or len(args) < 2 or not isinstance(args[1], tuple) or not args[1]:
        return
    host = str(args[1][0])
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    _outbound.append(host)


@pytest.fixture(scope="module")
def ui(sample_index_dir, embedder, tmp_path_factory):
    """The app on a free localhost port over a copy of the sample index (extractive answers, no LLM)."""
    sys.addaudithook(_record_outbound)
    app, url, qa, index = start_page(sample_index_dir, embedder, tmp_path_factory.mktemp("ui"))
    yield SimpleNamespace(url=url, qa=qa, index=index)
    app.close()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, ui):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(LONG)
    page = context.new_page()
    remote: list[str] = []
    local = (ui.url.rstrip("/"), "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else remote.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    outbound_before = len(_outbound)
    page.goto(ui.url)
    page.wait_for_selector("#nd-question textarea")
    yield page
    context.close()
    assert remote == [], f"the page made requests off this machine: {remote}"
    assert _outbound[outbound_before:] == [], f"the server connected off this machine: {_outbound[outbound_before:]}"
    assert errors == [], errors


def _watch_page(page) -> None:
    """Remember what flashed by: streaming bubbles and progress texts."""
    page.evaluate("""() => {
      window.__nd = {streaming: 0, progress: []};
      new MutationObserver(() => {
        if (document.querySelector('.nd-streaming')) window.__nd.streaming += 1;
        document.querySelectorAll('.progress-text, .progress-level').forEach(
          (e) => window.__nd.progress.push(e.textContent.trim()));
      }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")


def _ask(page, question: str) -> None:
    """Ask and wait until the answer is final (no streaming bubble, one more finished answer)."""
    before = page.locator("#nd-chat .nd-answer:not(.nd-streaming)").count()
    page.get_by_role("tab", name="Ask").click()
    page.fill("#nd-question textarea", question)
    page.click("#nd-ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#nd-chat .nd-answer:not(.nd-streaming)').length > n"
        " && !document.querySelector('#nd-chat .nd-streaming')", arg=before)


def _last_answer(page):
    return page.locator("#nd-chat .nd-answer").last


def _open_citation(page, answer, number: int = 1):
    answer.locator("a.nd-cite", has_text=str(number)).first.click()
    card = page.locator(".nd-card.nd-selected")
    card.wait_for(state="visible")
    return card


@pytest.mark.browser
def test_ask_cite_upload_remove(page, ui, tmp_path):
    started = time.monotonic()
    _watch_page(page)
    assert page.locator("#nd-chat").get_by_text("What did Lei Jun say about chips?").count() >= 1  # an example

    _ask(page, "What did Lei Jun say about chips?")
    answer = _last_answer(page)
    assert page.evaluate("window.__nd.streaming") > 0, "the answer never showed while being written"
    assert "persistence" in answer.inner_text() or "chip" in answer.inner_text().lower()
    card = _open_citation(page, answer, 1)
    assert "Lei Jun" in card.locator(".nd-title").inner_text()
    link = card.locator("a.nd-link")
    assert link.inner_text() == "aicnbc.com/844.html"
    assert link.get_attribute("href") == "https://aicnbc.com/844.html" and link.get_attribute("target") == "_blank"
    assert "chip effort" in card.locator(".nd-quote mark").first.inner_text()
    assert card.is_visible() and card.bounding_box()["y"] < 900
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1300)  # let the card's highlight animation finish
    page.screenshot(path=str(ARTIFACTS / "answered_chat.png"))

    # A follow-up question uses the conversation.
    _ask(page, "And what did he write on Weibo?")
    assert "newcomers" in _last_answer(page).inner_text()

    # Upload an article only it can answer; progress, then a summary.
    article = tmp_path / "brenmouth lighthouse.md"
    article.write_text(
        "# Brenmouth lighthouse keeper logs 10,000th night\n\nSource: https://brenmouthherald.example/lighthouse\n"
        "Author: Mara Quill\nDate: 2025-11-02\n\nTobias Wren, the keeper of the Brenmouth lighthouse, marked his "
        "10,000th night on duty on Saturday. \"The lamp has never once gone dark on my watch,\" Wren said.\n\n"
        "The Brenmouth lighthouse was built in 1871 and stands 34 metres tall on Gull Point.\n", encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#nd-upload input[type=file]", str(article))
    report = page.locator("#nd-report-box .nd-report")
    report.wait_for()
    assert "1 added" in report.inner_text().replace("\n", " ")
    assert any(re.search(r"\d+/1 files", text) for text in page.evaluate("window.__nd.progress"))
    assert (ui.index / "uploads" / "brenmouth lighthouse.md").is_file()
    assert "Brenmouth lighthouse keeper" in page.locator("#nd-library").inner_text()
    page.fill("#nd-search textarea, #nd-search input", "brenmouth")
    page.wait_for_function("() => document.querySelector('#nd-library').innerText.includes('1 of 15')")

    _ask(page, "When was the Brenmouth lighthouse built?")
    answer = _last_answer(page)
    assert "1871" in answer.inner_text()
    card = _open_citation(page, answer, 1)
    assert "Brenmouth lighthouse" in card.locator(".nd-title").inner_text()
    assert card.locator("a.nd-link").inner_text() == "brenmouthherald.example/lighthouse"

    # Remove it: the same question is no longer answered from the articles.
    page.get_by_role("tab", name="Library").click()
    page.locator("#nd-remove").get_by_text("Remove articles").click()
    page.locator("#nd-remove-pick input").click()
    page.keyboard.type("Brenmouth")
    page.get_by_role("option", name=re.compile("Brenmouth")).click()
    page.click("#nd-remove-btn")
    page.wait_for_function("() => (document.querySelector('#nd-report-box') || {}).innerText?.includes('Removed')")
    assert "1 removed" in page.locator("#nd-report-box").inner_text().replace("\n", " ")
    assert not (ui.index / "uploads" / "brenmouth lighthouse.md").exists()

    _ask(page, "When was the Brenmouth lighthouse built?")
    answer = _last_answer(page)
    assert "nd-abstained" in answer.get_attribute("class"), answer.inner_text()
    assert "not in the articles" in answer.inner_text().lower()
    sources = page.locator(".nd-turn.nd-active")
    assert "related, but not an answer" in sources.inner_text()
    assert sources.locator(".nd-card.nd-related").count() >= 1

    # An older answer's citation still opens its own card.
    first = page.locator("#nd-chat .nd-answer").first
    card = _open_citation(page, first, 1)
    assert "Lei Jun" in card.locator(".nd-title").inner_text()

    # Errors are messages, and the page keeps working.
    page.fill("#nd-question textarea", "   ")
    page.click("#nd-ask")
    page.locator("#nd-notice .nd-msg-error").wait_for()
    assert "Type a question" in page.locator("#nd-notice").inner_text()
    assert time.monotonic() - started < 75


@pytest.mark.browser
def test_article_text_is_escaped(page, ui):
    headline = '<script>window.__xss=1</script>Zorblat tariff <img src=x onerror="window.__xss=2"> rises'
    page.get_by_role("tab", name="Library").click()
    page.locator("#nd-paste").get_by_text("Paste an article").click()
    page.fill("#nd-paste-title textarea, #nd-paste-title input", headline)
    page.fill("#nd-paste-text textarea",
              "The Zorblat tariff on quartz imports rose to 12 percent on Monday, said minister Ilse Varn. "
              "<b onmouseover=\"window.__xss=3\">Traders</b> expect <script>window.__xss=4</script> higher prices.")
    page.click("#nd-paste-btn")
    page.wait_for_function("() => (document.querySelector('#nd-report-box') || {}).innerText?.includes('Added pasted')")
    assert "Zorblat tariff <img" in page.locator("#nd-library").inner_text()

    _ask(page, "What is the Zorblat tariff on quartz imports?")
    card = _open_citation(page, _last_answer(page), 1)
    title = card.locator(".nd-title").inner_text()
    assert "<script>window.__xss=1</script>" in title and '<img src=x onerror="window.__xss=2">' in title
    assert "<script>window.__xss=4</script>" in card.locator(".nd-quote").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0 and page.locator("#nd-sources-box script").count() == 0


def test_the_page_is_not_exposed_beyond_loopback_without_a_password():
    from assistant.errors import ConfigError
    from assistant.web.ui import page_auth

    assert page_auth("127.0.0.1", None, False) is None
    assert page_auth("localhost", None, False) is None
    with pytest.raises(ConfigError, match="NEWSDESK_AUTH"):
        page_auth("0.0.0.0", None, False)
    assert page_auth("0.0.0.0", None, True) is None
    assert page_auth("0.0.0.0", "desk:s3cret", False) == ("desk", "s3cret")
    with pytest.raises(ConfigError, match="user:password"):
        page_auth("0.0.0.0", "nopassword", False)


def test_a_slow_llm_is_shown_against_its_time_limit_while_the_answer_is_awaited():
    from assistant.types import Waiting
    from assistant.web.ui import render_streaming

    html = render_streaming("", Waiting(seconds=6.2, limit=30))
    assert "Waiting for the LLM: 6 s so far (limit 30 s, NEWSDESK_LLM_TIMEOUT" in html
    assert "Searching the articles" in render_streaming("")


def test_a_citation_newsdesk_found_is_marked_in_the_answer_and_on_its_card():
    from assistant.web.ui import render_answer

    cite = Citation(number=1, doc_id="d", title="Harbour", source="/h.txt", quote="The harbour reopened.",
                    matched=True)
    data = answer_dict(Answer(text="The harbour reopened [1].", citations=[cite], backend="openai", raw="x"))
    assert 'class="nd-cite nd-matched"' in render_answer(0, data) and "found by Newsdesk" in render_answer(0, data)
    assert "Found by Newsdesk" in render_card(0, data["citations"][0])
    assert data["raw"] == "x" and data["citations"][0]["matched"] is True
