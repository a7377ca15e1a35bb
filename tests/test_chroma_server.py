"""The same code against a Chroma server started with `chroma run` on a free localhost port."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.settings import Settings

from .conftest import ANSWERED, SAMPLES, free_port


@pytest.fixture
def chroma_server(tmp_path):
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server-data"), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.server
def test_ingest_and_ask_against_a_chroma_server(chroma_server, embedder, tmp_path):
    settings = Settings(home=tmp_path / "idx", chroma_host="127.0.0.1", chroma_port=chroma_server)
    qa = Assistant(settings=settings, embedder=embedder)
    report = qa.ingest([SAMPLES])
    assert report.added == len(list(SAMPLES.iterdir()))
    assert "server" in qa.status().store
    assert not (tmp_path / "idx" / "chroma").exists()
    result = qa.ask(ANSWERED)
    assert result.citations and any("aicnbc.com" in c.source for c in result.citations)
    # A second client (a new process would do the same) sees the same vectors.
    again = Assistant(settings=settings, embedder=embedder)
    assert again.store.collection.count() == qa.store.counts()[1]
    assert again.ingest([SAMPLES]).unchanged == report.added
