"""The LLM path on a real model: SmolLM2-135M-Instruct served by llama.cpp (xllamacpp), the real `openai` client.

The model is weak, so these tests assert the invariants, not its wisdom: every [n] left in a checked answer is
supported by passage n (the rules find nothing the claim adds that n lacks, and the fitted check finds n carries it);
the result is a checked LLM answer, a refusal the model made, or the extractive answer with a note saying why; nothing
crashes or hangs."""
from __future__ import annotations

import time

import pytest

from assistant import Answer, Assistant
from assistant.answering.check import evidence_for
from assistant.answering.citations import claims_by_number, content_words
from assistant.answering.reply import REFUSAL
from assistant.answering.support import support
from assistant.settings import Settings
from assistant.types import Waiting

from .conftest import SMOL_CONTEXT, start_page

QUESTIONS = [
    "What did Lei Jun say about chips?",
    "How old is Wang Xingxing, and which company does he run?",
    "What did Ren Zhengfei say about home-grown chips, and what chip did Xiaomi unveil?",
    "What is the boiling point of mercury?",
]


def _settings(index_dir, url, **kw) -> Settings:
    return Settings(home=index_dir, openai_base_url=url, model="smollm2", llm_timeout=60, llm_max_tokens=200,
                    llm_context=SMOL_CONTEXT, llm_max_retries=0, **kw)


@pytest.fixture
def real_qa(sample_index_dir, embedder, smol_url):
    return Assistant(settings=_settings(sample_index_dir, smol_url), embedder=embedder)


def assert_honest(result: Answer, qa: Assistant) -> None:
    """The invariants any model must leave intact."""
    if result.backend != "extractive" and not result.abstained:  # an LLM's answer (openai or llama-index)
        assert result.citations, result.text
        by_number = claims_by_number(result.text)
        cited = {c.number: c for c in result.citations}
        evidence = dict(zip(range(1, len(result.passages) + 1), evidence_for(result.passages)))
        asked = frozenset(content_words(result.question))
        for number, claims in by_number.items():
            index = next(i for i, p in enumerate(result.passages, 1)
                         if p.text == cited[number].quote and p.doc_id == cited[number].doc_id)
            for claim in claims:
                assert support(claim, evidence[index], asked).holds(), (claim, number)
                assert qa.grounding.holds(claim, evidence[index].text), (claim, number)
    elif result.backend != "extractive":  # a refusal: the model's own, or its answer withheld by the gate
        assert result.abstained and not result.citations, result.text
        assert REFUSAL.search(result.raw) or "answer is withheld" in result.note, (result.raw, result.note)
    else:  # the extractive answer, with a note that says why
        assert result.note and ("could not be matched" in result.note or "LLM" in result.note), result.note
    assert result.backend == "extractive" or result.raw


@pytest.mark.parametrize("question", QUESTIONS)
def test_real_model_answers_are_checked(real_qa, question):
    started = time.monotonic()
    result = real_qa.ask(question)
    assert time.monotonic() - started < 70
    assert_honest(result, real_qa)


def test_real_streaming_arrives_in_pieces_and_ends_checked(real_qa):
    items = list(real_qa.ask_stream(QUESTIONS[0]))
    deltas = [i for i in items if isinstance(i, str)]
    assert len(deltas) > 3 and isinstance(items[-1], Answer)
    assert all(isinstance(i, (str, Waiting)) for i in items[:-1])
    assert "".join(deltas).strip() == items[-1].raw.strip() or items[-1].backend == "extractive"
    assert_honest(items[-1], real_qa)


def test_real_follow_up_is_rewritten_and_answered(real_qa):
    history = [("What did Lei Jun say about chips?", "Lei said persistence creates opportunities [1].")]
    result = real_qa.ask("And what did he unveil?", history=history)
    assert_honest(result, real_qa)


def test_the_prompt_fits_the_servers_context(real_qa):
    """The server's own count of the prompt, plus the answer's cap, fits its context window."""
    question = QUESTIONS[2]
    passages = real_qa.retriever.with_next(real_qa.retrieve(question, top_k=12))
    fitted = real_qa.llm.fit(question, passages)
    reply = real_qa.llm.chat.client.chat.completions.create(
        model="smollm2", messages=real_qa.llm.messages(question, fitted.passages), max_tokens=1)
    assert reply.usage.prompt_tokens + real_qa.settings.llm_max_tokens <= SMOL_CONTEXT


def test_real_model_through_the_page(sample_index_dir, embedder, smol_url, tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    settings = _settings(tmp_path / "index", smol_url).model_dump()
    settings.pop("home")
    app, url, qa, _ = start_page(sample_index_dir, embedder, tmp_path, backend="openai", **{
        k: v for k, v in settings.items() if k in {"openai_base_url", "model", "llm_timeout", "llm_max_tokens",
                                                   "llm_context", "llm_max_retries"}})
    try:
        result = gradio_client.Client(url, verbose=False).predict(question=QUESTIONS[1], api_name="/ask")
        assert result["backend"] in {"openai", "extractive"} and result["text"]
        if result["backend"] == "openai" and not result["abstained"]:
            assert result["citations"] and "[1]" in result["text"]
        elif result["backend"] == "extractive":
            assert result["note"]
    finally:
        app.close()
