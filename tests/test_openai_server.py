"""Checks of the fake OpenAI server itself, driven by the real ``openai`` client."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

try:
    from tests.openai_server import FakeOpenAI, Reply
except ImportError:  # tests/ not importable as a package
    from openai_server import FakeOpenAI, Reply


MESSAGES = [
    {"role": "system", "content": "You answer questions about news articles."},
    {"role": "user", "content": "What did Okafor say about fares?"},
]


@pytest.fixture
def server():
    fake = FakeOpenAI().start()
    try:
        yield fake
    finally:
        fake.stop()


def make_client(server: FakeOpenAI, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 5.0)
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test-123", **kwargs)


def test_base_url_points_at_local_port(server):
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/v1")


def test_normal_completion(server):
    server.queue(Reply(text="Okafor said cheaper fares bring riders back."))
    client = make_client(server)
    resp = client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert resp.choices[0].message.content == "Okafor said cheaper fares bring riders back."
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "gpt-test"
    assert resp.object == "chat.completion"
    assert resp.usage is not None and resp.usage.total_tokens > 0


def test_default_reply_repeats_when_queue_empty(server):
    server.default_reply = Reply(text="default answer")
    server.queue("first")
    client = make_client(server)
    texts = [client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content for _ in range(3)]
    assert texts == ["first", "default answer", "default answer"]


def test_streamed_completion_reassembles_text(server):
    text = "The council voted 7-2 to buy 40 electric buses and cut fares to $2.00."
    server.queue(Reply(text=text))
    client = make_client(server)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    deltas = []
    finish = None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.choices:
            if chunk.choices[0].delta.content:
                deltas.append(chunk.choices[0].delta.content)
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(deltas) == text
    assert len(deltas) >= 3  # really split into several small deltas
    assert finish == "stop"
    assert server.requests[-1]["stream"] is True


def test_streamed_short_text_still_split(server):
    server.queue(Reply(text="Yes."))
    client = make_client(server)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    deltas = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(deltas) == "Yes."
    assert len(deltas) >= 2


def test_stream_usage_chunk(server):
    server.queue(Reply(text="two words"))
    client = make_client(server)
    stream = client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2


def test_401_raises_authentication_error(server):
    server.queue(Reply(status=401))
    client = make_client(server)
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert excinfo.value.status_code == 401
    assert "API key" in str(excinfo.value)


def test_error_statuses_map_to_client_exceptions(server):
    server.queue(Reply(status=500), Reply(status=503), Reply(status=429))
    client = make_client(server)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.InternalServerError) as excinfo:
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert excinfo.value.status_code == 503
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", messages=MESSAGES)


def test_429_then_200_succeeds_with_one_retry(server):
    server.queue(Reply(status=429, retry_after=0.01), Reply(text="after retry"))
    client = make_client(server, max_retries=1)
    start = time.monotonic()
    resp = client.chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - start < 2
    assert resp.choices[0].message.content == "after retry"
    assert len(server.requests) == 2


def test_delay_and_client_timeout_raise_timeout_error(server):
    server.queue(Reply(text="too late", delay=3.0))
    client = make_client(server, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - start < 2


def test_malformed_body_raises(server):
    server.queue(Reply(malformed=True))
    client = make_client(server)
    # the openai client surfaces an undecodable 200 body as json.JSONDecodeError (a ValueError)
    with pytest.raises(ValueError):
        client.chat.completions.create(model="m", messages=MESSAGES)


def test_requests_and_headers_are_recorded(server):
    client = make_client(server)
    client.chat.completions.create(model="m1", messages=MESSAGES, temperature=0.2)
    client.chat.completions.create(model="m2", messages=[{"role": "user", "content": "hi"}])
    assert [r["model"] for r in server.requests] == ["m1", "m2"]
    assert server.requests[0]["messages"] == MESSAGES
    assert server.requests[0]["temperature"] == 0.2
    assert len(server.headers) == 2
    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"
    assert server.headers[0]["authorization"] == "Bearer sk-test-123"
    assert server.paths == ["POST /v1/chat/completions"] * 2


def test_models_endpoint(server):
    client = make_client(server)
    ids = [m.id for m in client.models.list()]
    assert ids == server.models
    assert server.requests == []  # only chat completions are recorded as requests
    assert server.headers[-1]["Authorization"] == "Bearer sk-test-123"

    server.models_status = 401
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_require_api_key(server):
    server.require_api_key = "sk-right"
    bad = openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
    good = openai.OpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    assert good.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content


def test_unknown_path_returns_openai_style_404(server):
    r = httpx.post(server.base_url + "/nope", json={})
    assert r.status_code == 404
    assert set(r.json()["error"]) >= {"message", "type", "code"}


def test_stop_is_fast_even_with_pending_delay():
    fake = FakeOpenAI().start()
    fake.queue(Reply(delay=30))
    client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    start = time.monotonic()
    fake.stop()
    assert time.monotonic() - start < 2
