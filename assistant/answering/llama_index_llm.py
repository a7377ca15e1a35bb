"""Any llama-index LLM behind Newsdesk: `LlamaIndexChat` sends the answerer's messages through `LLM.chat` and
`LLM.stream_chat`.

It is a `ChatModel` like `OpenAIChat`, wrapped by the same `LLMAnswerer`, so the prompts, the fenced passages, the
context budget, the token cap, the time limit and the citation check are the ones every backend gets; only the
sending differs. llama-index is imported here, and this module only when such an LLM is used.
"""
from __future__ import annotations

import importlib
import logging
import queue
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..ingest.chunking import count_tokens
from ..errors import ConfigError, LLMError
from ..settings import blank_secrets, redact_url
from .llm import Fixes, ThreadedPieces, failure

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

log = logging.getLogger(__name__)

# The packages Newsdesk's `llama` extra brings; any other integration is installed by its own name.
EXTRA_MODULES = {"llama_index.llms.openai_like", "llama_index.llms.openai"}
EXTRA = "pip install 'newsdesk[llama]'"
SETTING = "NEWSDESK_LLAMA_INDEX_LLM_ARGS"
_PING = ({"role": "user", "content": "ping"},)  # a connection test, not a prompt: the reply is not read


def is_llama_index_llm(obj: Any) -> bool:
    """True for a llama-index LLM object. Whoever made one has imported llama-index; nobody else pays for the check."""
    import sys

    base = sys.modules.get("llama_index.core.base.llms.base")
    return base is not None and isinstance(obj, base.BaseLLM)


def load_llm(class_path: str, args: dict[str, Any]) -> LLM:
    """The llama-index LLM that NEWSDESK_LLAMA_INDEX_LLM names, made with NEWSDESK_LLAMA_INDEX_LLM_ARGS."""
    module_name, _, class_name = class_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        install = EXTRA if module_name in EXTRA_MODULES else f"pip install {module_name.replace('_', '-').replace('.', '-')}"
        raise ConfigError(f"NEWSDESK_LLAMA_INDEX_LLM={class_path}, but {module_name} cannot be imported ({exc}): "
                          f"install it with `{install}`, or unset NEWSDESK_LLAMA_INDEX_LLM.") from None
    from llama_index.core.llms import LLM

    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, LLM)):
        raise ConfigError(f"NEWSDESK_LLAMA_INDEX_LLM={class_path} is not a llama-index LLM class: name one such as "
                          "llama_index.llms.openai_like.OpenAILike.")
    fields = getattr(cls, "model_fields", {})
    if "max_retries" in fields and "max_retries" not in args:
        args = {**args, "max_retries": 0}  # Newsdesk retries, so that every retry counts into NEWSDESK_LLM_TIMEOUT
    try:
        return cls(**args)
    except Exception as exc:  # the class's own check of its arguments, whatever it raises
        from pydantic import ValidationError

        why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()) \
            if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        raise ConfigError(f"{class_name} could not be made from {SETTING} ({blank_secrets(why, args.values())[:300]}): fix "
                          f"the arguments, e.g. {{\"model\": \"m\", \"api_base\": \"http://localhost:8080/v1\"}}.") \
            from None


class LlamaIndexChat:
    """A llama-index LLM as Newsdesk's `ChatModel`.

    The token cap and the time left are passed to the LLM where its class has those settings (`max_tokens`,
    `timeout`), and enforced here whatever it does with them: the reply is read in a thread, so an LLM that ignores
    its timeout cannot hold the answer, and a streamed reply stops at the cap."""

    name = "llama-index"

    def __init__(self, llm: LLM, max_retries: int = 0):
        self.llm = llm
        self.max_retries = max_retries  # read by LLMAnswerer, which retries within the time limit
        self._fields = set(getattr(type(llm), "model_fields", {}))
        self.model = getattr(llm.metadata, "model_name", "") or str(getattr(llm, "model", "")) or type(llm).__name__
        url = redact_url(str(getattr(llm, "api_base", None) or getattr(llm, "base_url", None) or ""))
        self.where = f"{type(llm).__name__} ({self.model}{' at ' + url if url else ''})"

    def chat(self, messages: list[dict], max_tokens: int, timeout: float) -> str:
        kwargs = self._kwargs(max_tokens, timeout)

        def reply() -> Iterator[str]:
            try:
                yield self.llm.chat(_chat_messages(messages), **kwargs).message.content or ""
            except Exception as exc:  # see _failure
                raise self._failure(exc) from exc

        return "".join(_within(reply, timeout, lambda: self._late(timeout)))

    def stream_chat(self, messages: list[dict], max_tokens: int, timeout: float) -> Iterator[str]:
        kwargs = self._kwargs(max_tokens, timeout)

        def deltas() -> Iterator[str]:
            written = ""
            try:
                for part in self.llm.stream_chat(_chat_messages(messages), **kwargs):
                    # Integrations that fill only the message so far still stream: its new end is the delta.
                    delta = part.delta if part.delta is not None else (part.message.content or "")[len(written):]
                    if delta:
                        written += delta
                        yield delta
            except Exception as exc:  # see _failure
                raise self._failure(exc) from exc

        return _capped(_within(deltas, timeout, lambda: self._late(timeout)), max_tokens)

    def check(self) -> str:
        text = self.chat([dict(m) for m in _PING], 8, 10.0)
        return f"Connected: {self.where} answered" + ("." if text.strip() else ", with no text.")

    def _kwargs(self, max_tokens: int, timeout: float) -> dict[str, Any]:
        # Only where the class has the setting: other integrations may refuse keywords they do not know.
        values = {"max_tokens": max_tokens, "timeout": timeout}
        return {k: v for k, v in values.items() if k in self._fields}

    def _late(self, timeout: float) -> LLMError:
        error = LLMError(f"The LLM {self.where} did not answer within {timeout:.3g} s: check the server, or raise "
                         "NEWSDESK_LLM_TIMEOUT.")
        error.retry = True
        return error

    def _failure(self, exc: Exception) -> LLMError:
        """An LLMError naming the fix for whatever the integration raised (its client's errors, or its own).

        llama-index integrations raise their clients' exceptions (openai, httpx, vendor SDKs): they are read by
        kind and status code, and any other becomes an LLMError with its type and message, so the answer falls back
        to extractive with a note instead of failing."""
        import httpx
        import openai

        status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
        status = status if isinstance(status, int) else None
        fixes = Fixes(key=f"the api_key in {SETTING}", model=f"the model in {SETTING}",
                      address=f"its api_base ({SETTING})")
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException, TimeoutError)):
            return failure(self.where, self.model, fixes, timed_out=True)
        if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
            return failure(self.where, self.model, fixes, unreachable=True)
        if status is not None:
            return failure(self.where, self.model, fixes, status, detail=self._scrub(str(exc)))
        msg = (f"The LLM {self.where} failed ({type(exc).__name__}: {self._scrub(str(exc))[:200]}): check its "
               f"arguments ({SETTING}).")
        log.warning("%s", msg)
        return LLMError(msg)

    def _scrub(self, text: str) -> str:
        """Never echo a key: the values of the LLM's key, token, secret and password settings are blanked."""
        secrets = []
        for name in self._fields:
            if any(word in name.lower() for word in ("key", "token", "secret", "password")):
                value = getattr(self.llm, name, None)
                value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                secrets.append(value)
        return blank_secrets(text, secrets)


def _chat_messages(messages: list[dict]) -> list:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def _within(make: Callable[[], Iterator[str]], timeout: float, late: Callable[[], LLMError]) -> Iterator[str]:
    """The pieces of `make()`: nothing within `timeout` seconds raises `late()`; a reply that stalls after its first
    pieces ends there (what was written is kept and checked)."""
    pieces = ThreadedPieces(make, "llama-index-llm")
    deadline = time.monotonic() + timeout
    got = False
    try:
        while True:
            try:
                item = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                if not got:
                    raise late() from None
                log.info("the LLM stopped writing for the rest of its %.3g s; its reply ends there", timeout)
                return
            if item is ThreadedPieces.DONE:
                return
            got = True
            yield item
    finally:
        pieces.stop()


def _capped(pieces: Iterator[str], max_tokens: int) -> Iterator[str]:
    """The pieces until they reach `max_tokens` (cl100k_base, counted piece by piece: never fewer than the text has)."""
    used = 0
    for piece in pieces:
        used += count_tokens(piece)
        if used > max_tokens:
            log.info("the LLM's reply was cut at the answer cap (NEWSDESK_LLM_MAX_TOKENS=%d)", max_tokens)
            return
        yield piece
