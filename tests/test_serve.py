"""web/serve.py and app.py: who may reach the page, and `python app.py` as a user runs it."""
from __future__ import annotations

import os
import sys
import time

import pytest

from .conftest import free_port


def test_app_reads_host_and_port_from_the_environment(monkeypatch):
    import app
    from assistant.settings import Settings

    monkeypatch.setenv("NEWSDESK_HOST", "0.0.0.0")
    monkeypatch.setenv("NEWSDESK_PORT", "8123")
    args = app.build_parser().parse_args(["--watch", "a", "--watch", "b"])
    assert (args.host, args.port, args.watch, args.no_samples) == (None, None, ["a", "b"], False)
    assert (Settings().host, Settings().port) == ("0.0.0.0", 8123)  # what app.py falls back to
    assert app.build_parser().parse_args(["--port", "9000"]).port == 9000


def test_app_py_serves_the_page(fresh_copy, tmp_path):
    """`python app.py` as a user runs it: the page and the API answer on the chosen port."""
    import subprocess
    import urllib.request

    from .conftest import ROOT

    port = free_port()
    env = {**os.environ, "NEWSDESK_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--index", str(fresh_copy)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200 and "Newsdesk" in response.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "app.py did not start in 120 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=10) as response:
            assert "/ask" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_page_is_not_exposed_beyond_loopback_without_a_password():
    from assistant.errors import ConfigError
    from assistant.web.serve import page_auth

    assert page_auth("127.0.0.1", None, False) is None
    assert page_auth("localhost", None, False) is None
    with pytest.raises(ConfigError, match="NEWSDESK_AUTH"):
        page_auth("0.0.0.0", None, False)
    assert page_auth("0.0.0.0", None, True) is None
    assert page_auth("0.0.0.0", "desk:s3cret", False) == ("desk", "s3cret")
    with pytest.raises(ConfigError, match="user:password"):
        page_auth("0.0.0.0", "nopassword", False)
