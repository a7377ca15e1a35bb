import json

import pytest

from assistant.sources.articles import (Article, canonical_url, decode_bytes, parse_file, parse_html, parse_json, parse_jsonl,
                                parse_text, read_articles)
from assistant.errors import ArticleError


def test_text_headline_and_metadata_lines():
    a = parse_text("Big vote tonight\nSource: https://ex.org/vote?utm_source=x\nAuthor: Ann Lee\nDate: 2025-03-01\n\nThe council met. It voted.", path="/a.txt")
    assert a.title == "Big vote tonight"
    assert a.text == "The council met. It voted."
    assert a.url == "https://ex.org/vote?utm_source=x" and a.source == a.url
    assert a.author == "Ann Lee" and a.date == "2025-03-01"


def test_numeric_character_references_are_the_characters_they_stand_for():
    a = parse_text("Pel&#233; looks back\n\nPel&#233; scored 1,281 goals &#x2014; or so he says. AT&T and R&amp;D stay.")
    assert a.title == "Pelé looks back"
    assert a.text == "Pelé scored 1,281 goals — or so he says. AT&T and R&amp;D stay."
    assert parse_text("Odd\n\nA bell&#7; rang.").text == "A bell rang."


def test_markdown_front_matter_wins_over_first_line():
    a = parse_text("---\ntitle: Real headline\nauthor: Bo\n---\n# Not the headline\n\nBody text here.", path="/b.md")
    assert a.title == "Real headline" and a.author == "Bo"
    assert "Body text here." in a.text


def test_inline_source_line_at_the_end_wins():
    a = parse_text("Headline\n\nStory body.\nPlease indicate the source:https://aicnbc.com/844.html", path="/c.txt")
    assert a.source == "https://aicnbc.com/844.html"


def test_long_first_line_is_not_a_headline():
    line = "A very long opening paragraph " * 10
    a = parse_text(line + "\nSecond para.", path="/d.txt")
    assert a.text.startswith("A very long opening")
    assert len(a.title) < 120


def test_html_main_text_and_metadata():
    html = """<html><head><title>Dock strike ends</title><meta name="author" content="Ann Lee">
    <meta property="article:published_time" content="2025-04-02"><link rel="canonical" href="https://news.example/strike"></head>
    <body><nav>Home | Sport | Weather</nav><script>var x = 1;</script><article><h1>Dock strike ends</h1>
    <p>The strike at the port ended on Tuesday after nine days, union leaders said in a statement.</p>
    <p>"We got what we came for," said Tom Reyes, the union's chair, outside the gates.</p></article>
    <footer>Copyright</footer></body></html>"""
    a = parse_html(html, path="/s.html")
    assert a.title == "Dock strike ends"
    assert a.url == "https://news.example/strike" and a.author == "Ann Lee"
    assert "nine days" in a.text and "var x" not in a.text and "Home | Sport" not in a.text


def test_html_without_article_text_fails():
    with pytest.raises(ArticleError, match="no article text"):
        parse_html("<html><head><script>alert(1)</script><style>p{}</style></head><body><nav>Home</nav></body></html>")


def test_json_and_jsonl_records():
    arts = parse_json(json.dumps([{"headline": "One", "body": "Text one.", "link": "https://x.org/1"},
                                  {"title": "Two", "content": "Text two.", "author": {"name": "Kim"}}]), path="/f.json")
    assert [a.title for a in arts] == ["One", "Two"]
    assert arts[0].source == "https://x.org/1" and arts[1].author == "Kim"
    assert arts[0].doc_id != arts[1].doc_id
    lines = '{"title": "A", "text": "Body A."}\n{broken\n{"title": "B", "text": "Body B."}\n'
    assert [a.title for a in parse_jsonl(lines, path="/g.jsonl")] == ["A", "B"]


def test_json_that_is_not_an_article_fails():
    with pytest.raises(ArticleError, match="no article text"):
        parse_json('{"foo": 1}')
    with pytest.raises(ArticleError, match="malformed JSON"):
        parse_json('{"title": ')


def test_decoding_rejects_binary_and_empty_and_reads_gbk():
    with pytest.raises(ArticleError, match="empty"):
        decode_bytes(b"  \n")
    with pytest.raises(ArticleError, match="binary"):
        decode_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    chinese = "小米创始人雷军表示，世界不会永远属于强者，新来者总有机会。芯片研发需要坚持。" * 3
    assert decode_bytes(chinese.encode("gbk")) == chinese


def test_identity_is_the_canonical_url_when_there_is_one():
    a = Article(title="t", text="x", source="https://Ex.org/a/", url="https://Ex.org/a/?utm_medium=rss")
    b = Article(title="t", text="y", source="https://ex.org/a", url="https://ex.org/a")
    assert a.doc_id == b.doc_id
    assert canonical_url("HTTPS://Ex.org/a/#top") == "https://ex.org/a"


def test_parse_file_reports_unsupported_and_oversized(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(ArticleError, match="unsupported"):
        parse_file(tmp_path / "x.pdf")
    big = tmp_path / "big.txt"
    big.write_text("Headline\n\n" + "word " * 1000)
    with pytest.raises(ArticleError, match="limit"):
        parse_file(big, max_bytes=100)


_GOOD = '{"title": "Mill closes", "text": "The old mill in Tarrow closed for good."}'
_NO_TEXT = "no article text (expected one of the keys text, content, body, article, story)"


@pytest.mark.parametrize("name, content, skipped", [
    ("feed.jsonl", f"{_GOOD}\n{{oops\n{_GOOD}\n",
     [("feed.jsonl:2", "not valid JSON: Expecting property name enclosed in double quotes at column 2")]),
    ("feed.jsonl", f"{_GOOD}\n\n[1, 2]\n", [("feed.jsonl:3", "not a JSON object with a title and text")]),
    ("feed.jsonl", f'{_GOOD}\n{{"title": "No body"}}\n', [("feed.jsonl:2", _NO_TEXT)]),
    ("feed.json", f'[{_GOOD}, {{"title": "No body"}}, {_GOOD}]', [("feed.json (record 2)", _NO_TEXT)]),
    ("feed.jsonl", f"{_GOOD}\n{_GOOD}\n", []),
])
def test_records_left_out_of_a_json_file_are_listed_with_where_and_why(tmp_path, name, content, skipped):
    (tmp_path / name).write_text(content)
    parsed = read_articles(tmp_path / name)
    assert [a.title for a in parsed.articles] == ["Mill closes"] * (content.count(_GOOD))
    assert [(where.replace(str(tmp_path) + "/", ""), why) for where, why in parsed.skipped] == skipped


@pytest.mark.parametrize("raw, reason", [
    ('{"title": "x', "malformed JSON: Unterminated string starting at line 1, column 11"),
    ('{"title": ', "malformed JSON: Expecting value at line 1, column 11"),
    ('[\n  {"title": "x"}\n  {"title": "y"}\n]', "malformed JSON: Expecting ',' delimiter at line 3, column 3"),
])
def test_malformed_json_says_what_and_where_once(raw, reason):
    with pytest.raises(ArticleError) as caught:
        parse_json(raw)
    assert str(caught.value) == reason
