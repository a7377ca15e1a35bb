"""The page in headless Chromium over a copy of the sample index: ask, cite, upload, remove, escaping."""
from __future__ import annotations

import ipaddress
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from .conftest import ANSWERED, ARTIFACTS, start_page

LONG = 90_000  # ms: the machine is small and shared; the page itself answers in about a second
CHROMIUM = "/usr/bin/chromium"


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

    _ask(page, ANSWERED)
    answer = _last_answer(page)
    assert page.evaluate("window.__nd.streaming") > 0, "the answer never showed while being written"
    assert "Lei" in answer.inner_text() and "don't say" not in answer.inner_text()  # what it says: test_answers
    card = _open_citation(page, answer, 1)
    assert "Lei Jun" in card.locator(".nd-title").inner_text()
    link = card.locator("a.nd-link")
    assert link.inner_text() == "aicnbc.com/844.html"
    assert link.get_attribute("href") == "https://aicnbc.com/844.html" and link.get_attribute("target") == "_blank"
    marks = card.locator(".nd-quote mark").all_inner_texts()  # the cited words, highlighted in the passage
    assert marks and all(" ".join(m.split()[:6]) in " ".join(answer.inner_text().split()) for m in marks)
    assert card.is_visible() and card.bounding_box()["y"] < 900
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1300)  # let the card's highlight animation finish
    page.screenshot(path=str(ARTIFACTS / "answered_chat.png"))

    # A follow-up question uses the conversation.
    _ask(page, "And what did he write on Weibo?")
    # it reaches Lei Jun's story through the history: the answer, or the related passages shown beside a refusal
    # (the offline answerer refuses this one today; see docs/quality.md)
    latest = page.locator(".nd-sources .nd-turn.nd-active")
    assert "newcomers" in _last_answer(page).inner_text() + latest.inner_text()

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
