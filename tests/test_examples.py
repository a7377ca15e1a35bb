"""The scripts in examples/, run as a user would (subprocesses of this checkout)."""
from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ANSWERED, ROOT
from .openai_server import FakeOpenAI, Reply

PIPELINE = ROOT / "examples" / "llama_index_pipeline.py"


def run_example(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PIPELINE), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def test_the_llama_index_pipeline_example_runs_both_ways(sample_index_dir):
    reply = "Lei wrote that newcomers always have opportunities [1]. Xiaomi will buy Boston Dynamics [1]."
    with FakeOpenAI() as server:
        server.queue(Reply(text=reply), Reply(text=reply))
        done = run_example(ANSWERED, "--index", str(sample_index_dir),
                           "--base-url", server.base_url, "--model", "test-model")
        assert done.returncode == 0, done.stderr[-2000:]
        assert len(server.requests) == 2 and all(r["model"] == "test-model" for r in server.requests)
        assert "Source 1:" in server.requests[0]["messages"][-1]["content"]  # llama-index's CitationQueryEngine
        assert '<passage number="1">' in server.requests[1]["messages"][1]["content"]  # Newsdesk's own prompt
    plain, checked = done.stdout.split("\nNewsdesk's query engine")
    assert reply in plain and "Lei Jun's midnight message" in plain  # the plain pipeline keeps what it is given
    assert "citations checked (llama-index):\nLei wrote that newcomers always have opportunities [1].\n" in checked
    assert "  [1] Lei Jun's midnight message" in checked
    assert "Note: Removed 1 sentence" in checked and "Boston Dynamics" in checked.split("Note:")[1]


def test_the_example_says_where_to_point_it():
    done = run_example("What did Lei Jun say about chips?")
    assert done.returncode == 2 and "--base-url URL (or set OPENAI_BASE_URL)" in done.stderr
