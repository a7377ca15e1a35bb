"""The index folder as the CLI meets it (subprocesses, real NEWSDESK_HOME): a path that cannot hold an index is one
line naming NEWSDESK_HOME; an index this user may only read answers every reading command and refuses writes
clearly. Tests run as root, for whom file modes do not apply: the commands run under setpriv without the two
capabilities that let root ignore them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a chmod'ed folder is read-only
for them as for any user."""
import os
import shutil
import sqlite3
import subprocess
import sys

import numpy as np

import pytest

from assistant.store.record import Store

from .conftest import ROOT, SAMPLES

LEI_JUN = "42c77166710d66cc"  # the doc_id of the sample article https://aicnbc.com/844.html


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: file modes would not apply")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def run(*args: str, home, entry=("-m", "assistant.cli")) -> subprocess.CompletedProcess:
    return subprocess.run([*_unprivileged(), sys.executable, *entry, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "NEWSDESK_HOME": str(home)})


def _snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


@pytest.fixture(params=["current", "without sentence vectors"])
def read_only_index(fresh_copy, request):
    """A copy of the sample index, left as a writer leaves it (no -wal/-shm files), then made read-only; also as an
    index from before sentence vectors were stored, which has no table for them."""
    if request.param == "without sentence vectors":
        conn = sqlite3.connect(fresh_copy / "record.sqlite3")
        conn.execute("DROP TABLE sentence_vectors")
        conn.commit()
        conn.close()
    yield from _read_only(fresh_copy)


@pytest.fixture
def old_read_only_index(fresh_copy):
    """The same, as an older version left it: no keyword tables in the record (it kept a bm25s folder)."""
    conn = sqlite3.connect(fresh_copy / "record.sqlite3")
    for name in ("keyword_postings", "keyword_segments", "keyword_gone", "keyword_docs", "keyword_meta"):
        conn.execute(f"DROP TABLE {name}")
    conn.commit()
    conn.close()
    yield from _read_only(fresh_copy)


def _read_only(fresh_copy):
    conn = sqlite3.connect(fresh_copy / "record.sqlite3")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for leftover in ("record.sqlite3-wal", "record.sqlite3-shm"):
        (fresh_copy / leftover).unlink(missing_ok=True)
    subprocess.run(["chmod", "-R", "a-w", str(fresh_copy)], check=True)
    try:
        probe = run("-c", f"open({str(fresh_copy / 'probe')!r}, 'w')", home=fresh_copy, entry=())
        if probe.returncode == 0:
            pytest.skip("cannot make a folder read-only for the test's subprocesses here")
        yield fresh_copy
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(fresh_copy)], check=True)


def test_an_old_read_only_index_builds_its_keyword_side_in_memory(old_read_only_index):
    before = _snapshot(old_read_only_index)
    result = run("retrieve", "What did Lei Jun say about chips?", "--top-k", "3", home=old_read_only_index)
    assert result.returncode == 0, result.stderr
    assert "(https://aicnbc.com/844.html)" in result.stdout
    assert "made by an older version and its folder is read-only" in result.stderr
    assert _snapshot(old_read_only_index) == before


@pytest.mark.parametrize("command, expected", [
    (["status"], [f"articles:  {len(list(SAMPLES.iterdir()))}", "not opened: the folder is read-only"]),
    (["list"], [f"{LEI_JUN}    3 chunks  Lei Jun's midnight message"]),
    (["ask", "How many buses is Halbrook buying?"], ["40", "[1] "]),  # an answer with its sources (which: test_answers)
    (["retrieve", "What did Lei Jun say about chips?", "--top-k", "3"], ["(https://aicnbc.com/844.html)"]),
])
def test_reading_commands_work_on_a_read_only_index(read_only_index, command, expected):
    before = _snapshot(read_only_index)
    out = run(*command, home=read_only_index)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert all(line in out.stdout for line in expected), out.stdout
    assert _snapshot(read_only_index) == before


@pytest.mark.parametrize("command, message", [
    (["ingest", str(SAMPLES)], "so ingest, remove, watch and feed refreshes cannot change it"),
    (["remove", LEI_JUN], "so ingest, remove, watch and feed refreshes cannot change it"),
    (["watch", str(SAMPLES)], "so ingest, remove, watch and feed refreshes cannot change it"),
    (["add-feed", "https://example.org/rss"], "Cannot change the feeds of the index"),
])
def test_writing_commands_on_a_read_only_index_say_what_to_do(read_only_index, command, message):
    out = run(*command, home=read_only_index)
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("newsdesk: ") and message in out.stderr
    assert "read-only for this user" in out.stderr and "NEWSDESK_HOME" in out.stderr


@pytest.mark.parametrize("entry", [("-m", "assistant.cli", "status"), ("app.py", "--no-samples")])
@pytest.mark.parametrize("make_home, message", [
    (lambda tmp: (tmp / "index").write_text("not a folder") and tmp / "index",
     "The index folder {home} is a file, not a folder. Set NEWSDESK_HOME (or --index) to a folder: an existing "
     "index, or a new folder to create one in."),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "index",
     "Cannot create the index folder {home}: not a directory. Set NEWSDESK_HOME (or --index) to a folder this user "
     "can write to."),
    (lambda tmp: (tmp / "locked").mkdir(mode=0o555) or tmp / "locked" / "index",
     "Cannot create the index folder {home}: permission denied. Set NEWSDESK_HOME (or --index) to a folder this "
     "user can write to."),
    (lambda tmp: (tmp / "empty").mkdir(mode=0o555) or tmp / "empty",
     "There is no index in {home}, and this user cannot create one there: the folder is read-only. Set "
     "NEWSDESK_HOME (or --index) to an existing index, or a folder this user can write to."),
], ids=["a file", "inside a file", "inside a read-only folder", "a read-only folder with no index"])
def test_a_home_that_cannot_hold_an_index_is_one_line(tmp_path, entry, make_home, message):
    home = make_home(tmp_path)
    out = run(home=home, entry=entry)
    assert (out.returncode, out.stderr) == (1, f"newsdesk: {message.format(home=home)}\n")


# -- sentence vectors: stored with the chunks, at ingest ------------------------------------------------------------
def test_sentence_vectors_line_up_with_the_sentences_of_each_chunk(sample_assistant, embedder):
    from assistant.ingest.chunking import embedding_text, split_sentences
    from assistant.ingest.pipeline import sentence_spans

    store = sample_assistant.store
    titles = {a.doc_id: a.title for a in sample_assistant.articles()}
    chunks = [c for a in sample_assistant.articles() for c in store.chunks_of(a.doc_id)]
    stored = store.sentence_vectors([c.chunk_id for c in chunks])
    assert set(stored) == {c.chunk_id for c in chunks}
    for chunk in chunks[::5]:
        sentences = [chunk.text[s:e] for s, e in split_sentences(chunk.text)]
        matrix = stored[chunk.chunk_id]
        assert matrix.shape == (len(sentences), 384) and matrix.dtype == np.float32
        # each row is that sentence read in its chunk's forward pass (bf16 ingest, float16 storage: not bit-equal)
        text = embedding_text(titles[chunk.doc_id], chunk.text)
        _, [expected], _ = embedder.embed_with_spans([text], [sentence_spans(chunk, text)])
        assert np.all(np.sum(matrix * expected, axis=1) > 0.995)


def test_sentence_vectors_go_with_their_article_and_survive_reopening(fresh_copy, embedder):
    from assistant import Assistant
    from assistant.store.record import chroma_client

    qa = Assistant(index_dir=fresh_copy, embedder=embedder)
    article = qa.store.article(LEI_JUN)
    ids = [c.chunk_id for c in qa.store.chunks_of(LEI_JUN)]
    before = qa.store.sentence_vectors(ids)
    assert len(before) == len(ids) == article.chunk_count

    reopened = Store(fresh_copy, chroma_client(fresh_copy, fresh=True)).sentence_vectors(ids)
    assert all(np.array_equal(before[i], reopened[i]) for i in ids)

    qa.remove([LEI_JUN])
    assert qa.store.sentence_vectors(ids) == {}
    with sqlite3.connect(fresh_copy / "record.sqlite3") as conn:
        orphans = conn.execute("SELECT count(*) FROM sentence_vectors WHERE chunk_id NOT IN "
                               "(SELECT chunk_id FROM chunks)").fetchone()[0]
    assert orphans == 0
