"""LLM answers: the prompt, the passages that fit the model's context, and a time limit that covers retries.

`LLMAnswerer` owns what every chat model gets (prompts, fenced passages, context budget, token cap, deadline);
a chat backend only sends messages: `OpenAIChat` through the `openai` client (OpenAI, Ollama, vLLM, llama.cpp,
LM Studio).
"""
from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

from ..ingest.chunking import count_tokens
from ..text.sentences import split_sentences
from ..errors import LLMError
from ..prompts import render
from ..settings import redact_url
from ..types import Passage, Waiting
from .citations import NOT_FOUND

log = logging.getLogger(__name__)

# cl100k_base counts fewer tokens than the small vocabularies of local models: SmolLM2's tokenizer (49k words) takes
# 1.12x as many for the sample articles and 1.06x for BBC text (measured with llama.cpp's /tokenize); budgets keep
# this much room (tests/test_llm_real.py checks the prompt the server counted against its context).
TOKENIZER_SLACK = 1.2
_PER_MESSAGE = 8  # chat-template tokens around each message


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages fenced as data; tags inside article text are neutralised so they cannot close the fence,
    and bracketed numbers in the article ('[2]' footnotes) are dropped so the model cannot copy them as citations."""
    from .citations import defuse_markers

    blocks = []
    for n, p in enumerate(passages, 1):
        meta = " | ".join(x for x in (p.title, p.date, p.author) if x)
        body = defuse_markers(p.text).replace("<passage", "‹passage").replace("</passage", "‹/passage")
        blocks.append(f'<passage number="{n}">\n[{n}] {_fence(defuse_markers(meta))}\n{body}\n</passage>')
    return "\n\n".join(blocks)


def _fence(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


class ChatModel(Protocol):
    """What an LLM backend offers: send messages, get the reply whole or in pieces."""

    name: str
    model: str

    def chat(self, messages: list[dict], max_tokens: int, timeout: float) -> str: ...

    def stream_chat(self, messages: list[dict], max_tokens: int, timeout: float) -> Iterator[str]: ...

    def check(self) -> str: ...


@dataclass(frozen=True)
class Fitted:
    passages: list[Passage]
    left_out: int  # passages that did not fit the model's context


class LLMAnswerer:
    """Answers with any `ChatModel`: same prompts, fencing, context budget, token cap and time limit for all."""

    def __init__(self, chat: ChatModel, prompts_dir: Path, context_tokens: int = 4096, max_tokens: int = 512,
                 timeout: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.chat = chat
        self.prompts_dir = prompts_dir
        self.context_tokens = context_tokens
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.clock = clock

    @property
    def name(self) -> str:
        return self.chat.name

    @property
    def model(self) -> str:
        return self.chat.model

    def messages(self, question: str, passages: Sequence[Passage]) -> list[dict]:
        return [
            {"role": "system", "content": render(self.prompts_dir, "answer_system", not_found=NOT_FOUND)},
            {"role": "user", "content": render(self.prompts_dir, "answer_user", passages=format_passages(passages),
                                               question=question)},
        ]

    def fit(self, question: str, passages: Sequence[Passage]) -> Fitted:
        """The passages that fit the context with room for the answer: lowest-ranked left out first; a passage that
        cannot fit whole keeps its first sentences (never a cut sentence)."""
        frame = sum(count_tokens(m["content"]) + _PER_MESSAGE for m in self.messages(question, []))
        budget = int((self.context_tokens - self.max_tokens) / TOKENIZER_SLACK) - frame
        kept: list[Passage] = []
        used = 0
        for p in passages:
            cost = count_tokens(format_passages([p])) + 2
            if used + cost <= budget:
                kept.append(p)
                used += cost
                continue
            if not kept:  # the best passage alone is too long: its first whole sentences
                cut = _first_sentences(p, budget - count_tokens(format_passages([_with_text(p, "")])) - 2)
                if cut is not None:
                    kept.append(cut)
            break
        return Fitted(kept, len(passages) - len(kept))

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str | Waiting]:
        """Text deltas as the model writes them, and a `Waiting` about every second while nothing arrives.

        The whole answer, retries included, gets `timeout` seconds; a reply still being written then is cut there
        (what was written is kept and checked like any reply)."""
        deadline = self.clock() + self.timeout
        messages = self.messages(question, passages)
        got = False
        for item in _with_heartbeat(lambda: self._attempts(deadline, lambda t: self.chat.stream_chat(
                messages, self.max_tokens, t)), deadline, self.clock, self.timeout):
            if isinstance(item, Waiting):
                yield item
                continue
            if item:
                got = True
                yield item
        if not got:
            raise LLMError(f"The LLM ({self.model}) returned an empty answer.")

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A standalone version of a follow-up question."""
        lines = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history[-3:])
        prompt = render(self.prompts_dir, "condense", history=lines, question=question)
        deadline = self.clock() + self.timeout
        text = "".join(self._attempts(deadline, lambda t: iter([self.chat.chat(
            [{"role": "user", "content": prompt}], 100, t)])))
        text = text.strip().splitlines()[0].strip().strip('"') if text.strip() else ""
        return text or question

    def check(self) -> str:
        return self.chat.check()

    def _attempts(self, deadline: float, call: Callable[[float], Iterator[str]]) -> Iterator[str]:
        """`call(seconds left)` until it works, retrying what may pass (429, 5xx, timeouts) while time is left."""
        attempt = 0
        while True:
            left = deadline - self.clock()
            if left <= 0:
                raise LLMError(f"The LLM did not answer within {self.timeout:g} s (NEWSDESK_LLM_TIMEOUT): check the "
                               "server, or raise the limit.")
            started = False
            try:
                for piece in call(left):
                    started = True
                    yield piece
                    if self.clock() > deadline:
                        log.info("the LLM was stopped at the time limit (%s s)", self.timeout)
                        return
                return
            except LLMError as exc:
                attempt += 1
                if started or not getattr(exc, "retry", False) or attempt > getattr(self.chat, "max_retries", 0):
                    raise
                pause = min(0.5 * 2 ** (attempt - 1) * (1 + random.random() / 4), max(0.0, deadline - self.clock()))
                log.info("LLM attempt %d failed (%s); again in %.1f s", attempt, exc, pause)
                time.sleep(pause)


class ThreadedPieces:
    """The pieces of `make()`, read in a daemon thread, so that the reader can wait for each with a time limit."""

    DONE = object()

    def __init__(self, make: Callable[[], Iterator[str]], name: str):
        self._box: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        threading.Thread(target=self._pump, args=(make,), daemon=True, name=name).start()

    def _pump(self, make: Callable[[], Iterator[str]]) -> None:
        try:
            for piece in make():
                if self._stop.is_set():
                    return
                self._box.put(piece)
        except BaseException as exc:  # handed to the reader, raised there
            self._box.put(exc)
        self._box.put(self.DONE)

    def get(self, timeout: float):
        """The next piece, or DONE; raises what `make()` raised, or `queue.Empty` after `timeout` seconds."""
        item = self._box.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self._stop.set()


def _with_heartbeat(make: Callable[[], Iterator[str]], deadline: float, clock: Callable[[], float],
                    limit: float) -> Iterator[str | Waiting]:
    """The pieces of `make()`, with a `Waiting` each second that passes without one."""
    pieces = ThreadedPieces(make, "llm-stream")
    started = clock()
    try:
        while True:
            try:
                item = pieces.get(timeout=1.0)
            except queue.Empty:
                if clock() > deadline + 5:  # the server ignores its timeout: stop waiting for it
                    raise LLMError(f"The LLM did not answer within {limit:g} s (NEWSDESK_LLM_TIMEOUT).") from None
                yield Waiting(clock() - started, limit)
                continue
            if item is ThreadedPieces.DONE:
                return
            yield item
    finally:
        pieces.stop()


def _first_sentences(p: Passage, budget: int) -> Passage | None:
    text = p.text
    end = 0
    for _, e in split_sentences(text):
        if count_tokens(text[:e]) > budget:
            break
        end = e
    return _with_text(p, text[:end]) if end else None


def _with_text(p: Passage, text: str) -> Passage:
    from dataclasses import replace

    return replace(p, text=text, end=p.start + len(text))


class OpenAIChat:
    """Any OpenAI-compatible chat server through the `openai` client."""

    name = "openai"

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None, max_retries: int = 2,
                 client=None):
        self.model = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self.shown_url = redact_url(self.base_url)  # for messages: never echo user:password@
        self.max_retries = max_retries
        self._api_key = api_key
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import openai

            # Retries are ours (LLMAnswerer), so that they count into the one time limit.
            self._client = openai.OpenAI(api_key=self._api_key or "not-needed", base_url=self.base_url, max_retries=0)
        return self._client

    def chat(self, messages: list[dict], max_tokens: int, timeout: float) -> str:
        with self._errors(timeout):
            reply = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                        timeout=timeout)
            return (reply.choices[0].message.content or "") if reply.choices else ""

    def stream_chat(self, messages: list[dict], max_tokens: int, timeout: float) -> Iterator[str]:
        with self._errors(timeout):
            stream = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                         stream=True, timeout=timeout)
            try:
                for event in stream:
                    delta = event.choices[0].delta.content if event.choices else None
                    if delta:
                        yield delta
            finally:
                stream.close()

    def check(self) -> str:
        """A cheap round trip for the settings page: lists the server's models."""
        with self._errors(10.0):
            models = [m.id for m in self.client.models.list(timeout=10.0)]
        have = "available" if self.model in models or not models else f"not among the server's models ({', '.join(models[:5])})"
        return f"Connected to {self.shown_url}; model {self.model} is {have}."

    def _errors(self, timeout: float):
        return _translate_errors(self.shown_url, self.model, timeout)


@dataclass(frozen=True)
class Fixes:
    """What a failure message tells the user to check, in the words of one backend's settings."""

    key: str  # e.g. "OPENAI_API_KEY"
    model: str  # e.g. "NEWSDESK_MODEL"
    address: str  # e.g. "OPENAI_BASE_URL"


def failure(who: str, model: str, fixes: Fixes, status: int | None = None, timed_out: bool = False,
            unreachable: bool = False, detail: str = "") -> LLMError:
    """The LLMError for a failed request, naming the fix; `retry` marks what may pass on another attempt.

    `who` names the LLM in a sentence ("at http://localhost:8080/v1", "OpenAILike (qwen at ...)"); `detail` is the
    server's own words for a refused request (already free of secrets)."""
    retry = False
    if timed_out:
        msg, retry = f"The LLM {who} did not answer in time: check the server or raise NEWSDESK_LLM_TIMEOUT.", True
    elif unreachable:
        msg, retry = f"Cannot reach the LLM {who}: check {fixes.address} and that the server is running.", True
    elif status == 401:
        msg = f"The LLM server {who} rejected the API key (401): check {fixes.key}."
    elif status == 403:
        msg = f"The API key may not use {model} (403): check {fixes.key} and {fixes.model}."
    elif status == 404:
        msg = f"The LLM server {who} has no model {model!r} (404): set {fixes.model} to one it serves."
    elif status == 429:
        msg, retry = ("The LLM server is rate-limiting requests (429) even after retries: wait a moment or check your "
                      "plan."), True
    elif status == 400:
        msg = (f"The LLM server refused the request (400: {detail[:160]}): if it says the prompt is too long, lower "
               "NEWSDESK_LLM_CONTEXT to the model's context size.")
    else:
        msg, retry = f"The LLM server {who} failed ({status}) even after retries: try again later.", \
            status in (408, 409) or (status or 0) >= 500
    log.warning("%s", msg)
    error = LLMError(msg)
    error.retry = retry
    return error


OPENAI_FIXES = Fixes(key="OPENAI_API_KEY", model="NEWSDESK_MODEL", address="OPENAI_BASE_URL")


class _translate_errors:
    """Turns openai exceptions into LLMError messages that name the fix (and never echo the key)."""

    def __init__(self, base_url: str, model: str, timeout: float):
        self.base_url, self.model, self.timeout = base_url, model, timeout

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, (LLMError, GeneratorExit)):
            return False
        import openai

        who = f"at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            raise failure(who, self.model, OPENAI_FIXES, timed_out=True) from exc
        if isinstance(exc, openai.APIConnectionError):
            raise failure(who, self.model, OPENAI_FIXES, unreachable=True) from exc
        if isinstance(exc, openai.APIStatusError):
            raise failure(who, self.model, OPENAI_FIXES, exc.status_code, detail=str(exc)) from exc
        if isinstance(exc, (ValueError, KeyError, IndexError, AttributeError, TypeError)):
            msg = f"The LLM server sent a malformed reply ({type(exc).__name__}): is {self.base_url} OpenAI-compatible?"
            log.warning("%s", msg)
            raise LLMError(msg) from exc
        return False
