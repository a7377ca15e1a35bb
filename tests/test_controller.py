"""web/controller.py: the page's actions on a real `Assistant` (no browser; the page itself: test_page.py)."""
from __future__ import annotations

def test_secrets_are_scrubbed_from_messages(tmp_path):
    from assistant import Assistant
    from assistant.settings import Settings
    from assistant.web.controller import Controller

    settings = Settings(home=tmp_path, openai_api_key="sk-very-secret", openai_base_url="https://me:pw@llm.example/v1")
    page = Controller(Assistant(settings=settings))
    message = page.scrub("Cannot reach https://me:pw@llm.example/v1 with key sk-very-secret.")
    assert "pw" not in message and "sk-very-secret" not in message and "https://llm.example/v1" in message
    assert "very-secret" not in page.settings_html() and "pw@" not in page.settings_html()


def test_the_settings_tab_shows_a_llama_index_llm_without_its_secrets(tmp_path):
    from assistant import Assistant
    from assistant.settings import Settings
    from assistant.web.controller import Controller

    settings = Settings(home=tmp_path, llama_index_llm="llama_index.llms.openai_like.OpenAILike",
                        llama_index_llm_args={"model": "qwen2.5:1.5b", "api_key": "sk-very-secret",
                                              "api_base": "https://me:pw@llm.example/v1"})
    page = Controller(Assistant(settings=settings))
    html = page.settings_html()
    assert "llama-index (LLM)" in html and "qwen2.5:1.5b" in html
    assert "llama_index.llms.openai_like.OpenAILike at https://llm.example/v1" in html
    assert "very-secret" not in html and "pw@" not in html
    assert "llama-index · qwen2.5:1.5b answers" in page.header_html([])


def test_update_index_reingests_watched_folders(fresh_copy, embedder, tmp_path):
    from assistant import Assistant
    from assistant.web.controller import Controller

    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "ferry.txt").write_text("Marlow ferry fares frozen\n\nThe Marlow ferry will keep its fares at 3 dollars "
                                    "until 2027, the operator said.\n", encoding="utf-8")
    page = Controller(Assistant(index_dir=fresh_copy, embedder=embedder, backend="extractive"), watch=[desk])
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
    from assistant.web.controller import Controller

    uploads = fresh_copy / "uploads"
    uploads.mkdir()
    (uploads / "empty.txt").write_text("")
    (uploads / "story.txt").write_text("Marlow ferry fares frozen\n\nThe Marlow ferry keeps its fares at 3 dollars.\n")
    page = Controller(Assistant(index_dir=fresh_copy, embedder=embedder, backend="extractive"))
    summary, *_ = page.update_index("", progress=None)
    assert "<b>1</b> added" in summary and "empty.txt: the file is empty; the upload was removed" in summary
    assert sorted(p.name for p in uploads.iterdir()) == ["story.txt"]
    summary, *_ = page.update_index("", progress=None)
    assert "<b>0</b> failed" in summary
