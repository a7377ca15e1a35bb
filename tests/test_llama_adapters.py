"""Newsdesk inside llama-index: `Assistant.as_retriever()` in llama-index's own engines, `Assistant.as_query_engine()`.

Real llama-index classes throughout, with a real llama-index LLM (`OpenAILike`) over HTTP to the fake OpenAI server
(exact replies) or to the real SmolLM2 server."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.chat_engine import CondensePlusContextChatEngine
from llama_index.core.query_engine import CitationQueryEngine, RetrieverQueryEngine
from llama_index.llms.openai_like import OpenAILike

from assistant import Assistant, QuestionError
from assistant.answering.citations import NOT_FOUND
from assistant.settings import Settings

from .conftest import ANSWERED, ROOT, SMOL_CONTEXT
from .openai_server import Reply
from .test_llama_index_llm import openai_like

LEI = ANSWERED


def llm_assistant(index_dir, embedder, llm) -> Assistant:
    return Assistant(settings=Settings(home=index_dir, llm_timeout=10, llm_max_retries=0), embedder=embedder, llm=llm)


def ids(nodes) -> list[str]:
    return [n.node.node_id for n in nodes]


# -- the retriever ------------------------------------------------------------------------------------------------------
def test_the_retriever_gives_newsdesks_passages_as_nodes_in_fused_order(sample_assistant):
    retriever = sample_assistant.as_retriever(top_k=4)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve(LEI)
    passages = sample_assistant.retrieve(LEI, top_k=4)
    assert ids(nodes) == [p.chunk_id for p in passages] and len(nodes) == 4
    assert [n.score for n in nodes] == [p.score for p in passages]
    first, p = nodes[0].node, passages[0]
    assert first.text == p.text and first.ref_doc_id == p.doc_id
    assert first.metadata == {"doc_id": p.doc_id, "title": p.title, "source": p.source, "url": p.url,
                              "author": p.author, "date": p.date}
    assert "Lei Jun" in first.metadata["title"]
    assert ids(asyncio.run(retriever.aretrieve(LEI))) == ids(nodes)
    assert len(sample_assistant.as_retriever().retrieve(LEI)) == sample_assistant.settings.top_k
    with pytest.raises(QuestionError):
        retriever.retrieve("   ")


def test_the_retriever_inside_a_retriever_query_engine(sample_assistant, server):
    retriever = sample_assistant.as_retriever(top_k=3)
    engine = RetrieverQueryEngine.from_args(retriever, llm=openai_like(server.base_url))
    server.queue(Reply(text="Lei Jun wrote that newcomers always have opportunities."))
    response = engine.query(LEI)
    assert response.response == "Lei Jun wrote that newcomers always have opportunities."
    assert ids(response.source_nodes) == ids(retriever.retrieve(LEI))
    prompt = server.requests[-1]["messages"][-1]["content"]
    for node in response.source_nodes:
        assert node.node.text[:80] in prompt
    title = response.source_nodes[0].node.metadata["title"]
    assert f"title: {title}" in prompt  # what helps a model is shown to it ...
    assert response.source_nodes[0].node.metadata["doc_id"] not in prompt  # ... ids and paths are not
    assert "source:" not in prompt and "author: \n" not in prompt  # nor empty fields


def test_the_retriever_inside_a_citation_query_engine(sample_assistant, server):
    retriever = sample_assistant.as_retriever(top_k=3)
    engine = CitationQueryEngine(retriever, llm=openai_like(server.base_url))
    server.queue(Reply(text="Lei said newcomers always have opportunities [1]."))
    response = engine.query(LEI)
    assert response.response == "Lei said newcomers always have opportunities [1]."
    retrieved = retriever.retrieve(LEI)
    # CitationQueryEngine numbers the passages "Source n" in the retriever's order, with the metadata copied.
    assert [n.node.metadata["doc_id"] for n in response.source_nodes] == [n.node.metadata["doc_id"] for n in retrieved]
    prompt = server.requests[-1]["messages"][-1]["content"]
    assert "Source 1:" in prompt and retrieved[0].node.text[:60] in prompt


def test_the_retriever_inside_a_chat_engine_retrieves_with_the_condensed_follow_up(sample_assistant, server):
    retriever = sample_assistant.as_retriever(top_k=3)
    chat = CondensePlusContextChatEngine.from_defaults(retriever, llm=openai_like(server.base_url))
    server.queue(Reply(text="Lei said newcomers always have opportunities."))
    first = chat.chat(LEI)
    assert first.response == "Lei said newcomers always have opportunities."
    assert ids(first.source_nodes) == ids(retriever.retrieve(LEI))
    assert retriever.retrieve(LEI)[0].node.text[:60] in server.requests[-1]["messages"][0]["content"]

    server.queue(Reply(text="What did Okafor say about fares?"), Reply(text="Okafor said fares fall."))
    second = chat.chat("And what about the bus fares?")
    assert second.response == "Okafor said fares fall."
    assert LEI in server.requests[-2]["messages"][0]["content"]  # the condense step saw the conversation
    assert ids(second.source_nodes) == ids(retriever.retrieve("What did Okafor say about fares?"))
    assert "Halbrook" in second.source_nodes[0].node.metadata["title"]


def test_the_retriever_with_a_real_model_in_a_retriever_query_engine(sample_assistant, smol_url):
    retriever = sample_assistant.as_retriever(top_k=3)
    llm = OpenAILike(model="smollm2", api_base=smol_url, api_key="none", is_chat_model=True, max_retries=0,
                     context_window=SMOL_CONTEXT, max_tokens=120, timeout=120)
    response = RetrieverQueryEngine.from_args(retriever, llm=llm).query(LEI)
    assert isinstance(response.response, str) and response.response.strip()
    assert ids(response.source_nodes) == ids(retriever.retrieve(LEI))


# -- the query engine ---------------------------------------------------------------------------------------------------
def test_the_query_engine_answers_with_newsdesks_checked_answer(sample_assistant):
    response = sample_assistant.as_query_engine().query(LEI)
    answer = sample_assistant.ask(LEI)
    assert isinstance(response, Response) and response.response == answer.text and "[1]" in answer.text
    assert ids(response.source_nodes) == [c.chunk_id for c in answer.citations]
    assert [n.node.text for n in response.source_nodes] == [c.quote for c in answer.citations]
    assert response.metadata["answer"].text == answer.text and response.metadata["backend"] == "extractive"
    assert ids(asyncio.run(sample_assistant.as_query_engine().aquery(LEI)).source_nodes) == ids(response.source_nodes)


def test_the_query_engine_abstains_with_no_sources(sample_assistant):
    response = sample_assistant.as_query_engine().query("Who won the 1990 Nobel Prize in Literature?")
    assert response.response == NOT_FOUND and response.source_nodes == [] and response.metadata["abstained"]


def _fitted(qa: Assistant, question: str):
    return qa.llm.fit(question, qa.retriever.with_next(qa.retrieve(question, top_k=qa.settings.top_k))).passages


def test_the_query_engines_sources_are_the_cited_passages_in_citation_order(sample_index_dir, embedder, server):
    qa = llm_assistant(sample_index_dir, embedder, openai_like(server.base_url))
    passages = _fitted(qa, LEI)
    n = 1 + next(i for i, p in enumerate(passages) if "persistence" in p.text)
    m = 1 + next(i for i, p in enumerate(passages) if "nothing that cannot be overcome" in p.text)
    assert m != n
    server.queue(Reply(text=f"Lei told Xi there is nothing that cannot be overcome [{m}]. "
                            f"He said persistence creates opportunities [{n}]. "
                            f"Xiaomi will buy Boston Dynamics for $3 billion [{n}]."))
    response = qa.as_query_engine().query(LEI)
    assert response.metadata["backend"] == "llama-index"
    assert response.response == ("Lei told Xi there is nothing that cannot be overcome [1]. "
                                 "He said persistence creates opportunities [2].")
    assert ids(response.source_nodes) == [passages[m - 1].chunk_id, passages[n - 1].chunk_id]
    assert "Boston Dynamics" in response.metadata["note"]


def test_the_streaming_query_engine_ends_with_the_checked_answer(sample_index_dir, embedder, server):
    qa = llm_assistant(sample_index_dir, embedder, openai_like(server.base_url))
    n = 1 + next(i for i, p in enumerate(_fitted(qa, LEI)) if "persistence" in p.text)
    raw = f"According to passage {n}, Lei said persistence creates opportunities."
    server.queue(Reply(text=raw))
    response = qa.as_query_engine(streaming=True).query(LEI)
    assert isinstance(response, StreamingResponse) and response.response_txt is None
    pieces = list(response.response_gen)
    assert len(pieces) > 2 and "".join(pieces) == raw  # the model's words as they came
    assert response.response_txt == str(response) == "Lei said persistence creates opportunities [1]."
    assert response.get_response().response == response.response_txt
    assert "persistence" in response.source_nodes[0].node.text and len(response.source_nodes) == 1
    assert response.metadata["answer"].raw == raw

    server.queue(Reply(text=raw))
    unread = qa.as_query_engine(streaming=True).query(LEI)
    assert str(unread) == "Lei said persistence creates opportunities [1]."  # str() reads it to the end


def test_the_streaming_query_engine_refuses_a_bad_question_at_once(sample_assistant):
    with pytest.raises(QuestionError):
        sample_assistant.as_query_engine(streaming=True).query("???")


def test_the_query_engine_inside_a_llama_index_chat_engine(sample_assistant, server):
    from llama_index.core.chat_engine import CondenseQuestionChatEngine

    chat = CondenseQuestionChatEngine.from_defaults(query_engine=sample_assistant.as_query_engine(),
                                                    llm=openai_like(server.base_url))
    first = chat.chat(LEI)
    assert first.response == sample_assistant.ask(LEI).text and not server.requests  # nothing to condense yet
    server.queue(Reply(text="What did Okafor say about fares?"))
    second = chat.chat("And what about the bus fares?")
    answer = sample_assistant.ask("What did Okafor say about fares?")
    assert LEI in server.requests[-1]["messages"][-1]["content"]
    assert second.response == answer.text and "[1]" in answer.text
    assert ids(second.source_nodes) == [c.chunk_id for c in answer.citations]


# -- imports ------------------------------------------------------------------------------------------------------------
def test_llama_index_is_loaded_only_when_an_adapter_is_asked_for(sample_index_dir):
    code = ("import sys\nfrom assistant import Assistant\n"
            f"qa = Assistant(index_dir={str(sample_index_dir)!r}, backend='extractive')\n"
            f"assert qa.ask({LEI!r}).citations\n"
            "print('after ask', 'llama_index.core' in sys.modules)\n"
            "qa.as_retriever()\n"
            "print('after as_retriever', 'llama_index.core' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "after ask False" in out.stdout and "after as_retriever True" in out.stdout, out.stderr[-2000:]
