"""A tiny OpenAI-compatible HTTP server for tests (standard library only).

It lets tests drive the real ``openai`` client against a local endpoint::

    server = FakeOpenAI().start()
    try:
        server.queue(Reply(status=429, retry_after=0.01), Reply(text="Hello"))
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=1)
        client.chat.completions.create(model="m", messages=[...])
        assert len(server.requests) == 2
    finally:
        server.stop()

Endpoints:

* ``POST /v1/chat/completions`` - non-streamed ``chat.completion`` JSON, or, with
  ``"stream": true``, a ``text/event-stream`` of ``chat.completion.chunk`` events
  that split the reply into several small deltas, ending with ``data: [DONE]``.
  Each request consumes the next queued :class:`Reply`; when the queue is empty
  ``default_reply`` is used.
* ``GET /v1/models`` - a model list (for "test connection" features). It does not
  consume queued replies; set ``models_status`` to make it fail.

The ``/v1`` prefix is optional (``/chat/completions`` and ``/models`` also work).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAI", "Reply"]


@dataclass
class Reply:
    """One scripted answer of the fake server."""

    text: str = ""  # assistant message content
    status: int = 200  # non-200 -> OpenAI-style JSON error body
    delay: float = 0.0  # seconds to sleep before answering (timeout tests)
    malformed: bool = False  # 200 with a body that is not valid JSON
    retry_after: float | None = None  # Retry-After header (seconds), e.g. on 429
    error_message: str | None = None  # override the error message for non-200
    finish_reason: str = "stop"


# status -> (error type, error code, default message)
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", "model_not_found", "The requested resource does not exist."),
    408: ("timeout", None, "Request timed out."),
    409: ("conflict", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", "service_unavailable", "The server is overloaded or not ready yet."),
}


class _Headers(dict):
    """A plain dict of request headers whose lookups ignore case."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__()
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


def _split_text(text: str) -> list[str]:
    """Split text into several small pieces that concatenate back to ``text``."""
    if not text:
        return []
    pieces = re.findall(r"\s*\S+|\s+", text)
    if len(pieces) < 3 and len(text) >= 3:
        size = -(-len(text) // 3)  # ceil
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
    # keep deltas small: split long pieces further
    out: list[str] = []
    for piece in pieces:
        out.extend(piece[i : i + 12] for i in range(0, len(piece), 12))
    return out


def _count_tokens(body: dict) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += len(part["text"].split())
    return total


class FakeOpenAI:
    """Scriptable OpenAI-compatible server running in a background thread."""

    def __init__(self) -> None:
        self.base_url: str = ""
        self.requests: list[dict] = []  # JSON bodies of chat completion requests, in order
        self.headers: list[dict] = []  # headers of every request received (case-insensitive keys)
        self.paths: list[str] = []  # "METHOD /path" of every request, aligned with ``headers``
        self.default_reply: Reply = Reply(text="Hello from FakeOpenAI.")
        self.models: list[str] = ["fake-model", "fake-model-mini"]
        self.models_status: int = 200
        # If set, requests whose bearer token differs get a 401 (any endpoint).
        self.require_api_key: str | None = None
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "FakeOpenAI":
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wake handlers sleeping on a Reply.delay
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------
    def queue(self, *replies: Reply | str) -> None:
        """Queue replies served in order, one per chat request (a str means Reply(text=...))."""
        with self._lock:
            for reply in replies:
                self._queue.append(Reply(text=reply) if isinstance(reply, str) else reply)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.headers.clear()
            self.paths.clear()

    @property
    def last_request(self) -> dict | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.pop(0) if self._queue else self.default_reply


def _make_handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeOpenAI/1.0"
        protocol_version = "HTTP/1.0"  # one request per connection; keeps shutdown simple

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr
            pass

        # -- helpers -----------------------------------------------------
        def _route(self) -> str:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path.startswith("/v1/"):
                path = path[3:]
            return path

        def _record_headers(self) -> None:
            with fake._lock:
                fake.headers.append(_Headers(self.headers.items()))
                fake.paths.append(f"{self.command} {self.path}")

        def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                pass  # client gave up (e.g. timed out)

        def _send_json(self, status: int, obj: Any, extra: dict | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json", extra)

        def _send_error(self, status: int, message: str | None = None, retry_after: float | None = None) -> None:
            etype, code, default = _ERRORS.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None, f"HTTP {status}")
            )
            extra = {}
            if retry_after is not None:
                extra["Retry-After"] = f"{retry_after:g}"
            body = {"error": {"message": message or default, "type": etype, "param": None, "code": code}}
            self._send_json(status, body, extra)

        def _auth_ok(self) -> bool:
            if fake.require_api_key is None:
                return True
            return self.headers.get("Authorization", "") == f"Bearer {fake.require_api_key}"

        # -- endpoints ---------------------------------------------------
        def do_GET(self) -> None:
            self._record_headers()
            if self._route() != "/models":
                self._send_error(404, f"Unknown path {self.path}")
                return
            if not self._auth_ok():
                self._send_error(401)
                return
            if fake.models_status != 200:
                self._send_error(fake.models_status)
                return
            now = int(time.time())
            data = [{"id": m, "object": "model", "created": now, "owned_by": "fake"} for m in fake.models]
            self._send_json(200, {"object": "list", "data": data})

        def do_POST(self) -> None:
            self._record_headers()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self._route() != "/chat/completions":
                self._send_error(404, f"Unknown path {self.path}")
                return
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body is not an object")
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            with fake._lock:
                fake.requests.append(body)

            if not self._auth_ok():
                self._send_error(401)
                return
            if "_raw" in body:
                self._send_error(400, "We could not parse the JSON body of your request.")
                return

            reply = fake._next_reply()
            if reply.delay > 0:
                fake._stopping.wait(reply.delay)
                if fake._stopping.is_set():
                    return
            if reply.status != 200:
                self._send_error(reply.status, reply.error_message, reply.retry_after)
                return
            extra = {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else None
            if reply.malformed:
                if body.get("stream"):
                    self._send(200, b"data: {this is not json\n\n", "text/event-stream", extra)
                else:
                    self._send(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json", extra)
                return
            if body.get("stream"):
                self._stream(body, reply, extra)
            else:
                self._complete(body, reply, extra)

        def _complete(self, body: dict, reply: Reply, extra: dict | None) -> None:
            prompt_tokens = _count_tokens(body)
            completion_tokens = len(reply.text.split())
            self._send_json(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model") or "fake-model",
                    "system_fingerprint": "fp_fake",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": reply.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                },
                extra,
            )

        def _stream(self, body: dict, reply: Reply, extra: dict | None) -> None:
            cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            created = int(time.time())
            model = body.get("model") or "fake-model"

            def chunk(delta: dict, finish_reason: str | None = None) -> dict:
                return {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
                }

            events = [chunk({"role": "assistant", "content": ""})]
            events += [chunk({"content": piece}) for piece in _split_text(reply.text)]
            events.append(chunk({}, reply.finish_reason))
            if (body.get("stream_options") or {}).get("include_usage"):
                prompt_tokens = _count_tokens(body)
                completion_tokens = len(reply.text.split())
                usage_chunk = chunk({})
                usage_chunk["choices"] = []
                usage_chunk["usage"] = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                }
                events.append(usage_chunk)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                pass

    return Handler
