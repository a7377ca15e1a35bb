"""Crashes, concurrent writers and odd questions: the index stays consistent and the user gets a clear answer."""
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from assistant import Assistant, IndexBusyError, QuestionError
from assistant.store import Store, chroma_client

from .conftest import ROOT, SHARED

BBC = SHARED / "corpora" / "bbc"


def _consistent(index_dir):
    """Record and Chroma agree: every committed chunk has a vector and (after repair) nothing else does."""
    # This test process did not write: open the vectors anew, as a new reader would.
    store = Store(index_dir, chroma_client(index_dir, fresh=True))
    with store.writing():
        pass  # repairs leftovers of a killed writer
    ids, _ = store.all_vectors()
    committed = store.chunks(ids)
    articles, chunks = store.counts()
    return articles, chunks, len(ids), len(committed)


@pytest.mark.skipif(not BBC.exists(), reason="needs ../shared/corpora/bbc")
def test_sigkill_during_ingest_loses_nothing_and_the_next_ingest_completes(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for f in sorted((BBC / "business").glob("*.txt"))[:120]:
        shutil.copy(f, folder / f.name)
    index = tmp_path / "idx"
    env = {**os.environ, "NEWSDESK_HOME": str(index)}
    rng = random.Random(7)
    for attempt in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(folder)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        # Wait until some articles are committed, then kill at a random moment.
        while time.time() < deadline and proc.poll() is None:
            if (index / "record.sqlite3").exists() and Store(index, chroma_client(index)).counts()[0] > 5 * (attempt + 1):
                break
            time.sleep(0.3)
        time.sleep(rng.uniform(0.0, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        articles, chunks, vectors, committed = _consistent(index)
        assert vectors == chunks == committed  # no orphan vectors, no chunk without a vector
        # whatever was served is whole: each article's chunks are all there
        store = Store(index, chroma_client(index, fresh=True))
        for a in store.articles():
            assert len(store.chunks_of(a.doc_id)) == a.chunk_count
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    articles, chunks, vectors, committed = _consistent(index)
    assert articles == 120 and vectors == chunks == committed


def test_a_second_writer_waits_then_refuses_clearly(fresh_copy):
    store = Store(fresh_copy, chroma_client(fresh_copy))
    other = Store(fresh_copy, chroma_client(fresh_copy))
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with store.writing():
            entered.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    try:
        with pytest.raises(IndexBusyError, match="Another ingest"):
            with other.writing(wait=0.5):
                pass
    finally:
        release.set()
        t.join()
    with other.writing(wait=0.5):
        pass  # free again


@pytest.mark.parametrize("question", [
    "🙂🙂🙂", "'; DROP TABLE articles; --", "<script>alert(1)</script> what about buses?",
    "¿Qué dijo Lei Jun sobre los chips?", "雷军关于芯片说了什么？", "x" * 1999,
])
def test_odd_questions_get_an_answer_or_a_clear_refusal(sample_assistant, question):
    result = sample_assistant.ask(question)
    assert result.text
    assert result.abstained or result.citations


def test_questions_over_the_limit_or_empty_are_refused(sample_assistant):
    for question in ("", "   \n\t", "y" * 20000):
        with pytest.raises(QuestionError):
            sample_assistant.ask(question)


def test_a_running_reader_sees_what_another_process_ingested(fresh_copy, embedder, tmp_path):
    """Embedded Chroma caches its vector index per process; the reader must follow another writer."""
    reader = Assistant(index_dir=fresh_copy, embedder=embedder)
    assert all("lighthouse" not in p.text for p in reader.retrieve("Brenmouth lighthouse keeper"))
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "lighthouse.txt").write_text(
        "Brenmouth lighthouse relit\n\nThe Brenmouth lighthouse was relit on Saturday after a 30-year gap, "
        "said keeper Ada Pell.\n")
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "--index", str(fresh_copy), "ingest", str(folder)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    top = reader.retrieve("Brenmouth lighthouse keeper", top_k=3)
    assert "lighthouse" in top[0].text
    assert top[0].dense > 0.3  # found by the vector side too, not only by keywords


def test_awkward_files_are_indexed_or_reported(embedder, tmp_path):
    folder = tmp_path / "awkward"
    folder.mkdir()
    (folder / "runon.txt").write_text("Run-on wire copy\n\n" + "the harbour board met again and talked " * 3000)
    (folder / "navonly.html").write_text("<html><body><nav>Home | News</nav><script>x()</script><style>p{}</style></body></html>")
    (folder / "config.json").write_text('{"debug": true, "port": 8080}')
    (folder / "big5.txt").write_bytes("台灣新聞\n\n台北市政府今天宣布，明年將增加公車路線，市民表示歡迎。".encode("big5"))
    (folder / "latin1.txt").write_bytes("Café reopens\n\nThe café in Ørsted street reopened, said Zoë Müller.".encode("latin-1"))
    (folder / "copy-a.txt").write_text("Ferry fares frozen\n\nThe Marlow ferry fares are frozen for 2026, the operator said.")
    (folder / "copy-b.txt").write_text("Ferry fares frozen\n\nThe Marlow ferry fares are frozen for 2026, the operator said.")
    os.symlink(folder, folder / "loop")  # a symlink loop must not hang the walk
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    report = qa.ingest([folder])
    failed = {os.path.basename(p): reason for p, reason in report.failed}
    assert set(failed) == {"navonly.html", "config.json"}
    assert "no article text" in failed["navonly.html"] and "no article text" in failed["config.json"]
    titles = {a.title for a in qa.articles()}
    assert {"Run-on wire copy", "台灣新聞", "Café reopens", "Ferry fares frozen"} <= titles
    assert any("台北市政府" in p.text for p in qa.retrieve("台北市政府 公車路線"))
    assert any("Zoë Müller" in p.text for p in qa.retrieve("café reopened Müller"))
    # two copies of one story are indexed, but a question gets one of them
    ferry = [p for p in qa.retrieve("Marlow ferry fares frozen", top_k=5) if "Marlow" in p.text]
    assert len(ferry) == 1


def test_questions_keep_being_answered_while_an_ingest_runs(fresh_copy, embedder, tmp_path):
    """20 concurrent questions during an ingest: every one gets an answer, and the index stays consistent."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    for i in range(30):
        (folder / f"{i}.txt").write_text(f"Harbour note {i}\n\nThe harbour at Tarrow logged {i} ships on day {i}, "
                                         f"said harbour master Ines Vale. Traffic was steady.\n")
    qa = Assistant(index_dir=fresh_copy, embedder=embedder)
    results, errors = [], []

    def ask(n):
        try:
            results.append(qa.ask(["What did Lei Jun say about chips?", "How many buses will Halbrook buy?"][n % 2]))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    writer = threading.Thread(target=lambda: qa.ingest([folder]))
    writer.start()
    askers = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for t in askers:
        t.start()
    for t in askers + [writer]:
        t.join(300)
    assert not errors and len(results) == 20
    assert all(r.citations for r in results)
    articles, chunks, vectors, committed = _consistent(fresh_copy)
    assert vectors == chunks == committed and articles == 14 + 30
