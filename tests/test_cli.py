"""The `newsdesk` command, run as a user would (subprocesses)."""
import os
import shutil
import subprocess
import sys
import time

from .conftest import ROOT, SAMPLES


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys, time; t=time.perf_counter(); from assistant.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit: pass\n"
            "heavy=[m for m in ('torch','chromadb','gradio','transformers','openai','llama_index') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert "HEAVY []" in out
    assert "ingest" in out and "ask" in out and "status" in out


def test_ingest_ask_status_edit_and_delete(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    env = {"NEWSDESK_HOME": str(tmp_path / "idx")}
    first = run("ingest", str(folder), env=env)
    assert first.returncode == 0, first.stderr
    assert f"{len(list(folder.iterdir()))} added" in first.stdout

    ask = run("ask", "What did Lei Jun say about chips?", env=env)
    assert ask.returncode == 0, ask.stderr
    assert "[1]" in ask.stdout and "aicnbc.com/844.html" in ask.stdout

    status = run("status", env=env)
    assert "articles:" in status.stdout and str(tmp_path / "idx") in status.stdout

    (folder / "03_rovers_cup_semifinal.txt").unlink()
    flood = folder / "06_lowbridge_flood.md"
    flood.write_text(flood.read_text() + "\n\nThe river at Lowbridge fell below the alarm line on Sunday.\n")
    again = run("ingest", str(folder), env=env)
    assert "0 added, 1 updated" in again.stdout and "1 removed" in again.stdout


def test_ask_without_an_index_says_what_to_do(tmp_path):
    out = run("ask", "anything?", env={"NEWSDESK_HOME": str(tmp_path / "none")})
    assert out.returncode == 1
    assert "newsdesk ingest" in out.stderr and "Traceback" not in out.stderr
