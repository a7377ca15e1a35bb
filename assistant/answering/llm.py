"""The OpenAI-compatible backend (OpenAI, Ollama, vLLM, llama.cpp, LM Studio) through the `openai` client."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import LLMError
from ..prompts import render
from ..types import Passage
from .citations import NOT_FOUND

log = logging.getLogger(__name__)


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages fenced as data; tags inside article text are neutralised so they cannot close the fence."""
    blocks = []
    for n, p in enumerate(passages, 1):
        meta = " | ".join(x for x in (p.title, p.date, p.author) if x)
        body = p.text.replace("<passage", "‹passage").replace("</passage", "‹/passage")
        blocks.append(f'<passage number="{n}">\n[{n}] {_fence(meta)}\n{body}\n</passage>')
    return "\n\n".join(blocks)


def _fence(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


class OpenAIAnswerer:
    name = "openai"

    def __init__(self, model: str, prompts_dir: Path, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 30.0, max_retries: int = 2, client=None):
        self.model = model
        self.prompts_dir = prompts_dir
        self.base_url = base_url or "https://api.openai.com/v1"
        self.shown_url = _without_credentials(self.base_url)  # for messages: never echo user:password@
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import openai

            self._client = openai.OpenAI(api_key=self._api_key or "not-needed", base_url=self.base_url,
                                         timeout=self._timeout, max_retries=self._max_retries)
        return self._client

    def messages(self, question: str, passages: Sequence[Passage]) -> list[dict]:
        return [
            {"role": "system", "content": render(self.prompts_dir, "answer_system", not_found=NOT_FOUND)},
            {"role": "user", "content": render(self.prompts_dir, "answer_user", passages=format_passages(passages),
                                               question=question)},
        ]

    def complete(self, question: str, passages: Sequence[Passage]) -> str:
        with self._errors():
            reply = self.client.chat.completions.create(model=self.model, messages=self.messages(question, passages))
            text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
        if not text:
            raise LLMError(f"The LLM ({self.model}) returned an empty answer.")
        return text

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        """Text deltas as the model writes them."""
        got = False
        with self._errors():
            for event in self.client.chat.completions.create(model=self.model, stream=True,
                                                             messages=self.messages(question, passages)):
                delta = event.choices[0].delta.content if event.choices else None
                if delta:
                    got = True
                    yield delta
        if not got:
            raise LLMError(f"The LLM ({self.model}) returned an empty answer.")

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A standalone version of a follow-up question."""
        lines = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history[-3:])
        prompt = render(self.prompts_dir, "condense", history=lines, question=question)
        with self._errors():
            reply = self.client.chat.completions.create(model=self.model, messages=[{"role": "user", "content": prompt}])
            text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
        return text.strip().strip('"') or question

    def check(self) -> str:
        """A cheap round trip for the settings page: lists the server's models."""
        with self._errors():
            models = [m.id for m in self.client.models.list()]
        have = "available" if self.model in models or not models else f"not among the server's models ({', '.join(models[:5])})"
        return f"Connected to {self.shown_url}; model {self.model} is {have}."

    def _errors(self):
        return _translate_errors(self.shown_url, self.model)


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _translate_errors:
    """Turns openai exceptions into LLMError messages that name the fix (and never echo the key)."""

    def __init__(self, base_url: str, model: str):
        self.base_url, self.model = base_url, model

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, (LLMError, GeneratorExit)):
            return False
        import openai

        if isinstance(exc, openai.AuthenticationError):
            msg = f"The LLM server at {self.base_url} rejected the API key (401): check OPENAI_API_KEY."
        elif isinstance(exc, openai.PermissionDeniedError):
            msg = f"The API key may not use {self.model} (403): check OPENAI_API_KEY and NEWSDESK_MODEL."
        elif isinstance(exc, openai.NotFoundError):
            msg = f"The LLM server has no model {self.model!r} (404): set NEWSDESK_MODEL to one it serves."
        elif isinstance(exc, openai.RateLimitError):
            msg = "The LLM server is rate-limiting requests (429) even after retries: wait a moment or check your plan."
        elif isinstance(exc, openai.APITimeoutError):
            msg = f"The LLM at {self.base_url} did not answer in time: check the server or raise NEWSDESK_LLM_TIMEOUT."
        elif isinstance(exc, openai.APIConnectionError):
            msg = f"Cannot reach the LLM at {self.base_url}: check OPENAI_BASE_URL and that the server is running."
        elif isinstance(exc, openai.APIStatusError):
            msg = f"The LLM server failed ({exc.status_code}) even after retries: try again later."
        elif isinstance(exc, (ValueError, KeyError, IndexError, AttributeError, TypeError)):
            msg = f"The LLM server sent a malformed reply ({type(exc).__name__}): is {self.base_url} OpenAI-compatible?"
        else:
            return False
        log.warning("%s", msg)
        raise LLMError(msg) from exc
