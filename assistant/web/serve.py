"""Launching the page: theme, CSS and script from `static/`, the password rule, the server, the warm-up."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import gradio as gr

from ..assistant import Assistant
from ..errors import ConfigError, NewsdeskError
from .page import build_app, theme

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"  # package data (pyproject.toml), so an installed copy has it


def launch_options() -> dict[str, Any]:
    """What Gradio 6 takes at launch() rather than in Blocks(): theme, CSS, script; plus the offline settings."""
    return {"theme": theme(), "css_paths": [STATIC / "newsdesk.css"],
            "js": (STATIC / "newsdesk.js").read_text(encoding="utf-8"), "ssr_mode": False,
            "footer_links": ["api", "settings"], "pwa": False, "mcp_server": False}


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def page_auth(host: str, auth: str | None, insecure_public: bool) -> tuple[str, str] | None:
    """Gradio's (user, password), or an error when the page would be open to the network without one."""
    if auth:
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise ConfigError("NEWSDESK_AUTH must look like user:password.")
        return user, password
    if host not in _LOOPBACK and not (host.startswith("127.") and host.count(".") == 3) and not insecure_public:
        raise ConfigError(
            f"Listening on {host} would let anyone on the network use this page. Set NEWSDESK_AUTH=user:password, "
            "or pass --insecure-public (NEWSDESK_INSECURE_PUBLIC=1) if you really mean it.")
    return None


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, watch: Sequence[str | Path] = (),
          watch_samples: bool = True, index_samples: bool = False, block: bool = True, quiet: bool = False,
          progress: Callable[[int, int, str], None] | None = None,
          insecure_public: bool = False) -> tuple[gr.Blocks, str]:
    """Start the web page on http://host:port; returns (app, url) when `block` is False.

    index_samples: when the index is empty, index the sample articles first (progress on `progress`), so the
    first page already answers questions. Otherwise an empty index gets an "Index the sample articles" button.
    """
    settings = assistant.settings
    auth = page_auth(host, settings.auth.get_secret_value() if settings.auth else None,
                     insecure_public or settings.insecure_public)
    status = assistant.status()  # opens the index: a wrong NEWSDESK_HOME stops here with its message
    if index_samples:
        samples = Path(assistant.settings.samples_dir)
        if status.articles == 0 and samples.is_dir():
            if not quiet:
                print(f"The index in {assistant.index_dir} is empty: indexing the sample articles from {samples} …",
                      flush=True)
            report = assistant.ingest([samples], progress=progress)
            if not quiet:
                print(report.summary(), flush=True)
    app = build_app(assistant, watch, watch_samples)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=quiet, auth=auth,
                           max_file_size=f"{assistant.settings.max_file_mb:g}mb", show_error=False,
                           **launch_options())
    url = url or f"http://{host}:{port}/"
    # Load the embedding model and indexes now, so the first question does not wait for them.
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True, name="newsdesk-warm-up").start()
    if not block:
        return app, url
    try:
        app.block_thread()
    finally:
        app.close()
    return app, url


def _warm_up(assistant: Assistant) -> None:
    try:
        assistant.retrieve("warm up", top_k=1)
    except NewsdeskError:
        pass  # an empty index: nothing to warm
    except Exception:  # a background nicety must not take the server down; the next request reports it
        log.warning("warm-up failed", exc_info=True)
