"""web/render.py: plain data in, escaped HTML out."""
from __future__ import annotations

from assistant.types import Answer, ArticleInfo, Citation, Passage
from assistant.web.render import (answer_dict, highlight, http_url, render_answer, render_card, render_library,
                                  render_messages, render_sources, render_streaming, source_html, source_label)


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


def test_a_slow_llm_is_shown_against_its_time_limit_while_the_answer_is_awaited():
    from assistant.types import Waiting

    html = render_streaming("", Waiting(seconds=6.2, limit=30))
    assert "Waiting for the LLM: 6 s so far (limit 30 s, NEWSDESK_LLM_TIMEOUT" in html
    assert "Searching the articles" in render_streaming("")


def test_a_citation_newsdesk_found_is_marked_in_the_answer_and_on_its_card():
    cite = Citation(number=1, doc_id="d", title="Harbour", source="/h.txt", quote="The harbour reopened.",
                    matched=True)
    data = answer_dict(Answer(text="The harbour reopened [1].", citations=[cite], backend="openai", raw="x"))
    assert 'class="nd-cite nd-matched"' in render_answer(0, data) and "found by Newsdesk" in render_answer(0, data)
    assert "Found by Newsdesk" in render_card(0, data["citations"][0])
    assert data["raw"] == "x" and data["citations"][0]["matched"] is True
