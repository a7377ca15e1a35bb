"""The page's API endpoints, called with gradio_client against the running app (real index, real embedder)."""
from __future__ import annotations

import shutil
import socket

import pytest

from .conftest import SAMPLES, start_page

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(sample_index_dir, embedder, tmp_path_factory):
    app, url, _, _ = start_page(sample_index_dir, embedder, tmp_path_factory.mktemp("ui-api"))
    yield gradio_client.Client(url, verbose=False)
    app.close()


def test_endpoints_are_listed(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/ingest", "/articles", "/remove"} <= set(endpoints)
    assert not any("lambda" in name or name.startswith("/ask_chat") for name in endpoints)  # page handlers stay private


def test_ask_returns_text_with_citations(client):
    result = client.predict(question="What did Lei Jun say about chips?", api_name="/ask")
    assert "[1]" in result["text"] and not result["abstained"]
    assert set(result) >= {"text", "citations", "abstained", "note"}
    first = result["citations"][0]
    assert first["number"] == 1 and first["source"] == "https://aicnbc.com/844.html" and "Lei Jun" in first["title"]
    assert first["quote"] and first["sentences"]


def test_ask_follow_up_and_top_k(client):
    history = [["What did Lei Jun say about chips?", "Lei said persistence creates opportunities [1]."]]
    result = client.predict(question="And what did he write on Weibo?", history=history, top_k=4, api_name="/ask")
    assert "newcomers" in result["text"]


def test_ask_outside_the_articles_abstains_with_related_passages(client):
    result = client.predict(question="What is the capital of Peru?", api_name="/ask")
    assert result["abstained"] and result["citations"] == [] and 1 <= len(result["related"]) <= 3


def test_empty_question_is_a_readable_error(client):
    with pytest.raises(Exception, match="Type a question"):
        client.predict(question="  ", api_name="/ask")


def test_articles_lists_the_samples(client):
    articles = client.predict(api_name="/articles")
    assert len(articles) == len(list(SAMPLES.iterdir()))
    assert any("Lei Jun" in a["title"] and a["source"] == "https://aicnbc.com/844.html" for a in articles)
    assert [a["title"] for a in client.predict(query="halbrook", api_name="/articles")] == [
        "Halbrook council approves fare cut and 40 new electric buses"]


def test_ingest_and_remove(client, tmp_path):
    story = tmp_path / "quarry.txt"
    story.write_text("Ossington quarry reopens after 20 years\nDate: 2025-08-01\n\nThe Ossington quarry reopened on "
                     "Friday after 20 years, employing 85 people, the owner Petra Lume said.\n", encoding="utf-8")
    bad = tmp_path / "payload.exe"
    bad.write_text("not an article", encoding="utf-8")
    report = client.predict(files=[gradio_client.handle_file(str(story)), gradio_client.handle_file(str(bad))],
                            text="Pasted headline about Wexley pier\n\nThe Wexley pier reopened on Sunday.",
                            api_name="/ingest")
    assert report["added"] == 2 and len(report["failed"]) == 1 and "unsupported" in report["failed"][0]["reason"]
    answer = client.predict(question="How many people does the Ossington quarry employ?", api_name="/ask")
    assert "85" in answer["text"] and "Ossington" in answer["citations"][0]["title"]

    added = [a["doc_id"] for a in client.predict(api_name="/articles")
             if "Ossington" in a["title"] or "Wexley" in a["title"]]
    assert len(added) == 2
    assert client.predict(doc_ids=added, api_name="/remove")["removed"] == 2
    assert len(client.predict(api_name="/articles")) == len(list(SAMPLES.iterdir()))


def test_ingest_reports_a_bad_line_of_a_jsonl_and_indexes_the_good_ones(client, tmp_path):
    feed = tmp_path / "wires.jsonl"
    feed.write_text('{"title": "Tarrow mill closes", "text": "The old mill in Tarrow closed for good on Friday."}\n'
                    "{oops\n"
                    '{"title": "Kelvale ferry returns", "text": "The Kelvale ferry returned on Monday."}\n')
    report = client.predict(files=[gradio_client.handle_file(str(feed))], text="", title="", api_name="/ingest")
    assert report["added"] == 2
    assert [(f["file"].rsplit("/", 1)[-1], f["reason"]) for f in report["failed"]] == [
        ("wires.jsonl:2", "not valid JSON: Expecting property name enclosed in double quotes at column 2")]
    added = [a["doc_id"] for a in client.predict(api_name="/articles") if a["title"].startswith(("Tarrow", "Kelvale"))]
    assert len(added) == 2 and client.predict(doc_ids=added, api_name="/remove")["removed"] == 2
