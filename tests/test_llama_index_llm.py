"""Any llama-index LLM behind Newsdesk (`LlamaIndexChat` in `LLMAnswerer`): the same prompts, limits and citation check
as the openai backend. A real `OpenAILike` over HTTP to the fake OpenAI server (exact replies) and to the real
SmolLM2 server (invariants only)."""
from __future__ import annotations

import sys
import time

import pytest
from llama_index.llms.openai_like import OpenAILike

from assistant import Answer, Assistant, ConfigError
from assistant.answering.citations import NOT_FOUND
from assistant.answering.llama_index_llm import LlamaIndexChat
from assistant.answering.llm import LLMAnswerer, OpenAIChat
from assistant.ingest.chunking import count_tokens
from assistant.settings import Settings

from .conftest import ANSWERED, SMOL_CONTEXT
from .openai_server import Reply
from .test_llm_real import QUESTIONS, assert_honest

LEI = ANSWERED
OPENAI_LIKE = "llama_index.llms.openai_like.OpenAILike"


def openai_like(base_url: str, **kw) -> OpenAILike:
    return OpenAILike(**{"model": "test-model", "api_base": base_url, "api_key": "sk-test-secret",
                         "is_chat_model": True, "max_retries": 0, "timeout": 20, **kw})


def _qa(index_dir, embedder, llm, **settings) -> Assistant:
    values = {"home": index_dir, "llm_timeout": 5, "llm_max_retries": 1, **settings}
    return Assistant(settings=Settings(**values), embedder=embedder, llm=llm)


def _passage(qa: Assistant, question: str, words: str) -> int:
    passages = qa.llm.fit(question, qa.retriever.with_next(qa.retrieve(question, top_k=qa.settings.top_k))).passages
    return 1 + next(i for i, p in enumerate(passages) if words in p.text)


def test_a_llama_index_llm_writes_answers_that_newsdesk_checks(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    assert qa.backend == "llama-index" and isinstance(qa.llm.chat, LlamaIndexChat)
    n = _passage(qa, LEI, "newcomers always have opportunities")
    m = _passage(qa, LEI, "nothing that cannot be overcome")
    server.queue(Reply(text=f"Lei told Xi there is nothing that cannot be overcome [{m}]. "
                            f"He wrote that newcomers always have opportunities [{n}][9]."))
    result = qa.ask(LEI)
    assert result.backend == "llama-index" and not result.abstained
    assert result.text == ("Lei told Xi there is nothing that cannot be overcome [1]. "
                           "He wrote that newcomers always have opportunities [2].")
    assert "overcome" in result.citations[0].quote and "newcomers" in result.citations[1].quote
    # The very messages the openai backend sends: same prompts, same fenced passages, same cap.
    request = server.requests[-1]
    assert request["messages"] == qa.llm.messages(LEI, result.passages)
    assert '<passage number="1">' in request["messages"][1]["content"]
    assert request["max_tokens"] == qa.settings.llm_max_tokens and request["stream"] is True
    assert server.headers[-1]["authorization"] == "Bearer sk-test-secret"


def test_an_answer_nothing_supports_falls_back_to_the_extractive_answer(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    server.queue(Reply(text="The admin password is hunter2 [1]."))
    result = qa.ask(LEI)
    assert result.backend == "extractive" and result.citations and "hunter2" not in result.text
    assert "could not be matched" in result.note and result.raw == "The admin password is hunter2 [1]."


def test_a_hallucinated_sentence_is_removed_and_a_supported_one_kept(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    question = "What did Wang Xingxing tell Xi?"
    n = _passage(qa, question, "Unitree")
    server.queue(Reply(text=f"Wang Xingxing said Unitree will buy Boston Dynamics for $3 billion [{n}]. "
                            f"Wang Xingxing is the founder of Unitree Robotics [{n}]."))
    result = qa.ask(question)
    assert result.backend == "llama-index" and "Unitree Robotics [1]" in result.text
    assert "Boston" not in result.text and "Boston Dynamics" in result.note


def test_the_model_saying_the_articles_dont_say_is_a_refusal(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    server.queue(Reply(text=NOT_FOUND))
    result = qa.ask("Who won the 1990 Nobel Prize in Literature?")
    assert result.abstained and result.citations == [] and result.backend == "llama-index"


def test_the_answer_streams_in_pieces_and_ends_checked(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    n = _passage(qa, LEI, "newcomers always have opportunities")
    server.queue(Reply(text=f"According to passage {n}, Lei wrote that newcomers always have opportunities."))
    items = list(qa.ask_stream(LEI))
    deltas = [i for i in items if isinstance(i, str)]
    assert len(deltas) > 2 and "".join(deltas) == items[-1].raw
    assert isinstance(items[-1], Answer) and items[-1].backend == "llama-index"
    assert items[-1].text == "Lei wrote that newcomers always have opportunities [1]."


def test_the_token_cap_holds_even_when_the_llm_asks_for_more(sample_index_dir, embedder, server):
    # The LLM's own max_tokens wins in the request (OpenAILike's rule), so Newsdesk stops reading at its cap.
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url, max_tokens=1000), llm_max_tokens=30)
    n = _passage(qa, LEI, "newcomers always have opportunities")
    server.queue(Reply(text=f"Lei wrote that newcomers always have opportunities [{n}]. " + "And so on. " * 300))
    result = qa.ask(LEI)
    assert server.requests[-1]["max_tokens"] == 1000
    assert 10 < count_tokens(result.raw) <= 30 and result.backend == "llama-index"
    assert result.text.startswith("Lei wrote that newcomers always have opportunities [1].")


def test_the_time_limit_holds_even_when_the_llm_would_wait_longer(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url, timeout=60), llm_timeout=1.0,
             llm_max_retries=0)
    server.queue(Reply(text="late", delay=4))
    started = time.monotonic()
    result = qa.ask(LEI)
    assert time.monotonic() - started < 3.5
    assert result.backend == "extractive" and "NEWSDESK_LLM_TIMEOUT" in result.note and result.citations


def test_a_server_error_is_retried_within_the_time_limit(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url), llm_max_retries=1)
    n = _passage(qa, LEI, "newcomers always have opportunities")
    server.queue(Reply(status=503), Reply(text=f"Lei wrote that newcomers always have opportunities [{n}]."))
    result = qa.ask(LEI)
    assert result.backend == "llama-index" and len(server.requests) == 2


@pytest.mark.parametrize("reply, words", [
    (Reply(status=401), ["rejected the API key (401)", "NEWSDESK_LLAMA_INDEX_LLM_ARGS"]),
    (Reply(status=404), ["no model 'test-model' (404)", "NEWSDESK_LLAMA_INDEX_LLM_ARGS"]),
    (Reply(malformed=True), ["OpenAILike (test-model at http://127.0.0.1:", "failed ("]),
])
def test_failures_fall_back_with_a_note_that_names_the_fix(sample_index_dir, embedder, server, reply, words):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url), llm_max_retries=0)
    server.queue(reply)
    result = qa.ask(LEI)
    assert result.backend == "extractive" and result.citations
    for w in words:
        assert w in result.note, result.note
    assert "sk-test-secret" not in result.note


def test_an_unreachable_server_names_its_address(sample_index_dir, embedder):
    qa = _qa(sample_index_dir, embedder, openai_like("http://127.0.0.1:9/v1"), llm_max_retries=0)
    result = qa.ask(LEI)
    assert result.backend == "extractive" and "Cannot reach the LLM OpenAILike (test-model at http://127.0.0.1:9/v1)" \
        in result.note


def test_a_follow_up_is_condensed_by_the_llama_index_llm(sample_index_dir, embedder, server):
    qa = _qa(sample_index_dir, embedder, openai_like(server.base_url))
    server.queue(Reply(text="What did Lei Jun say at the symposium?"), Reply(text="He said nothing [1]."))
    qa.ask("and what did Lei say?", history=[("What did Ren Zhengfei tell Xi?", "Ren said ... [1]")])
    assert "What did Ren Zhengfei tell Xi?" in server.requests[0]["messages"][0]["content"]
    assert server.requests[0]["max_tokens"] == 100
    assert "Lei Jun say at the symposium" in server.requests[1]["messages"][1]["content"]


def test_an_llm_answerer_and_a_chat_model_are_still_accepted(sample_index_dir, embedder, server):
    settings = Settings(home=sample_index_dir, llm_timeout=5)
    answerer = LLMAnswerer(OpenAIChat("test-model", "sk-x", server.base_url, 0), settings.prompts_dir)
    assert Assistant(settings=settings, embedder=embedder, llm=answerer).llm is answerer
    qa = Assistant(settings=settings, embedder=embedder, llm=OpenAIChat("test-model", "sk-x", server.base_url, 0))
    assert qa.backend == "openai" and qa.llm.timeout == 5
    n = _passage(qa, LEI, "newcomers always have opportunities")
    server.queue(Reply(text=f"Lei wrote that newcomers always have opportunities [{n}]."))
    assert qa.ask(LEI).backend == "openai"
    assert Assistant(settings=settings, embedder=embedder, llm=answerer, backend="extractive").ask(LEI).backend \
        == "extractive"


# -- the settings: NEWSDESK_LLAMA_INDEX_LLM and its arguments ------------------------------------------------------------
def test_the_settings_name_a_llama_index_llm_class_and_its_arguments(sample_index_dir, embedder, server, monkeypatch):
    monkeypatch.setenv("NEWSDESK_LLAMA_INDEX_LLM", OPENAI_LIKE)
    monkeypatch.setenv("NEWSDESK_LLAMA_INDEX_LLM_ARGS", f'{{"model": "test-model", "api_base": "{server.base_url}", '
                                                        '"api_key": "sk-test-secret", "is_chat_model": true}')
    qa = Assistant(settings=Settings(home=sample_index_dir, llm_timeout=5), embedder=embedder)
    assert qa.backend == "llama-index" and qa.status().model == "test-model"
    assert qa.llm_server() == f"{OPENAI_LIKE} at {server.base_url}"
    n = _passage(qa, LEI, "newcomers always have opportunities")
    assert type(qa.llm.chat.llm) is OpenAILike and qa.llm.chat.llm.max_retries == 0  # Newsdesk does the retrying
    server.queue(Reply(text=f"Lei wrote that newcomers always have opportunities [{n}]."))
    assert qa.ask(LEI).text == "Lei wrote that newcomers always have opportunities [1]."
    assert qa.check_llm() == f"Connected: OpenAILike (test-model at {server.base_url}) answered."
    assert qa.llm_server() == f"OpenAILike (test-model at {server.base_url})"


def test_a_class_that_cannot_be_imported_names_what_to_install(sample_index_dir, embedder, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_index.llms.openai_like", None)  # as if the extra were not installed
    qa = Assistant(settings=Settings(home=sample_index_dir, llama_index_llm=OPENAI_LIKE,
                                     llama_index_llm_args={"model": "m"}), embedder=embedder)
    with pytest.raises(ConfigError, match=r"pip install 'newsdesk\[llama\]'"):
        qa.ask(LEI)
    other = Settings(home=sample_index_dir, llama_index_llm="llama_index.llms.nowhere_yet.Nowhere")
    with pytest.raises(ConfigError, match="pip install llama-index-llms-nowhere-yet"):
        Assistant(settings=other, embedder=embedder).ask(LEI)


def test_wrong_llm_settings_are_config_errors_that_say_what_to_do(sample_index_dir, embedder, monkeypatch):
    def asked(**values):
        return Assistant(settings=Settings(home=sample_index_dir, **values), embedder=embedder).ask(LEI)

    with pytest.raises(ConfigError, match="is not a llama-index LLM class"):
        asked(llama_index_llm="llama_index.core.schema.TextNode")
    with pytest.raises(ConfigError, match="temperature") as caught:
        asked(llama_index_llm=OPENAI_LIKE, llama_index_llm_args={"model": "m", "api_key": "sk-very-secret",
                                                                 "temperature": "hot"})
    assert "NEWSDESK_LLAMA_INDEX_LLM_ARGS" in str(caught.value) and "sk-very-secret" not in str(caught.value)
    with pytest.raises(ConfigError, match="set NEWSDESK_LLAMA_INDEX_LLM"):
        asked(backend="llama-index")
    monkeypatch.setenv("NEWSDESK_LLAMA_INDEX_LLM_ARGS", '{"model": ')
    with pytest.raises(Exception, match="NEWSDESK_LLAMA_INDEX_LLM_ARGS|llama_index_llm_args") as caught:
        Settings()
    assert "not valid JSON" in str(caught.value)
    with pytest.raises(Exception, match="module"):
        Settings(llama_index_llm="OpenAILike")


# -- a real model ------------------------------------------------------------------------------------------------------
@pytest.fixture
def real_qa(sample_index_dir, embedder, smol_url):
    llm = OpenAILike(model="smollm2", api_base=smol_url, api_key="none", is_chat_model=True, max_retries=0)
    settings = Settings(home=sample_index_dir, llm_timeout=60, llm_max_tokens=200, llm_context=SMOL_CONTEXT,
                        llm_max_retries=0)
    return Assistant(settings=settings, embedder=embedder, llm=llm)


@pytest.mark.parametrize("question", QUESTIONS[:2])
def test_a_real_model_through_llama_index_is_checked(real_qa, question):
    started = time.monotonic()
    result = real_qa.ask(question)
    assert time.monotonic() - started < 70 and result.backend in {"llama-index", "extractive"}
    assert_honest(result, real_qa)


def test_a_real_model_through_llama_index_streams_and_ends_checked(real_qa):
    items = list(real_qa.ask_stream(QUESTIONS[0]))
    deltas = [i for i in items if isinstance(i, str)]
    assert len(deltas) > 3 and isinstance(items[-1], Answer)
    assert "".join(deltas).strip() == items[-1].raw.strip() or items[-1].backend == "extractive"
    assert_honest(items[-1], real_qa)


def test_the_command_line_answers_through_the_llama_index_llm_of_the_settings(sample_index_dir, server):
    from .test_cli import run

    env = {"NEWSDESK_HOME": str(sample_index_dir), "NEWSDESK_LLAMA_INDEX_LLM": OPENAI_LIKE,
           "NEWSDESK_LLAMA_INDEX_LLM_ARGS": f'{{"model": "test-model", "api_base": "{server.base_url}", '
                                            '"api_key": "sk-test-secret", "is_chat_model": true}',
           "NEWSDESK_LLM_GATE": "false"}  # whether the gate judges the articles to answer it: test_answers
    assert "answers:   llama-index (test-model)" in run("status", env=env).stdout
    server.queue(Reply(text="According to passage 1, Lei Jun is 54."))
    asked = run("ask", "--json", "How old is Lei Jun?", env=env)
    assert asked.returncode == 0, asked.stderr
    assert '"backend": "llama-index"' in asked.stdout and '"text": "Lei Jun is 54 [1]."' in asked.stdout
    missing = run("ask", LEI, env={**env, "NEWSDESK_LLAMA_INDEX_LLM": "llama_index.llms.nowhere_yet.Nowhere"})
    assert missing.returncode == 1 and missing.stderr.startswith("newsdesk: NEWSDESK_LLAMA_INDEX_LLM=")
    assert "pip install llama-index-llms-nowhere-yet" in missing.stderr and "Traceback" not in missing.stderr
