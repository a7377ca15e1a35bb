"""The `newsdesk` command, run as a user would (subprocesses)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ANSWERED, ROOT, SAMPLES


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

    ask = run("ask", ANSWERED, env=env)
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


def _hostile_index(tmp_path, embedder):
    """An index whose article has escape sequences in its headline and text and a newline in its file name."""
    from assistant import Assistant

    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "evil\nname.txt").write_text(
        "Tarrow lighthouse \x1b[31mREOPENS\x1b[0m\x1b[2J\n\nThe Tarrow lighthouse reopened on Monday after two years "
        "of repairs, the council said. \x1b]0;owned\x07Visitors can climb its 120 steps again \u202efrom June.\n")
    index = tmp_path / "idx"
    assert Assistant(index_dir=index, embedder=embedder).ingest([folder]).added == 1
    return index


@pytest.mark.parametrize("command", [
    ["list"],
    ["ask", "When did the Tarrow lighthouse reopen?"],
    ["retrieve", "When did the Tarrow lighthouse reopen?", "--top-k", "1"],
])
def test_headlines_and_file_names_are_printed_escaped(tmp_path, embedder, command):
    out = run(*command, env={"NEWSDESK_HOME": str(_hostile_index(tmp_path, embedder))})
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "evil\nname" not in out.stdout
    assert "\u202e" not in out.stdout
    assert r"Tarrow lighthouse \x1b[31mREOPENS\x1b[0m\x1b[2J" in out.stdout
    assert r"evil\nname.txt" in out.stdout


def test_json_answer_escapes_what_would_act_on_a_terminal_and_keeps_it(tmp_path, embedder):
    out = run("ask", "When did the Tarrow lighthouse reopen?", "--json",
              env={"NEWSDESK_HOME": str(_hostile_index(tmp_path, embedder))})
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\u202e" not in out.stdout and "\\u202e" in out.stdout
    quoted = " ".join(json.dumps(c) for c in json.loads(out.stdout)["citations"])
    assert "\\u202efrom June" in quoted  # the text itself is kept: a JSON reader gets the article's characters


@pytest.mark.parametrize("option", ["0", "-3", "51", "many"])
@pytest.mark.parametrize("command", ["ask", "retrieve"])
def test_passage_counts_outside_1_to_50_are_refused_with_the_range(command, option):
    out = run(command, "bus fares?", "--top-k", option, env={"NEWSDESK_HOME": "/nonexistent"})
    assert out.returncode == 2 and "from 1 to 50" in out.stderr and "Traceback" not in out.stderr


def test_an_index_folder_that_is_a_symlink_loop_is_refused_with_what_to_do(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for command in (["status"], ["ingest", str(SAMPLES)]):
        out = run(*command, env={"NEWSDESK_HOME": str(loop)})
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert "points back to itself" in out.stderr and "NEWSDESK_HOME" in out.stderr


@pytest.mark.parametrize("command", [["list"], ["status"], ["retrieve", "bus fares", "--top-k", "3"]])
def test_output_into_a_closed_pipe_ends_quietly(fresh_copy, command):
    """`newsdesk list | head`: the reader goes away first; no BrokenPipeError traceback, the SIGPIPE exit status."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that has already gone: every write fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", *command], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300,
                              env={**os.environ, "NEWSDESK_HOME": str(fresh_copy)})
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_a_refusal_lists_each_related_article_once():
    from assistant.cli import related_articles
    from assistant.types import Passage

    def passage(doc, start):
        return Passage(doc_id=doc, title=f"Story {doc}", source=f"{doc}.txt", text="Some words.", score=1.0,
                       start=start, end=start + 11)

    passages = [passage("a", 0), passage("a", 40), passage("b", 0), passage("a", 80), passage("c", 0),
                passage("d", 0)]
    assert [(p.doc_id, p.start) for p in related_articles(passages)] == [("a", 0), ("b", 0), ("c", 0)]
