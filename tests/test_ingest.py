"""Ingest against the real embedder and an embedded Chroma: incremental by content, failures reported."""
import shutil

import numpy as np
import pytest

from assistant import Assistant
from assistant.store.record import Store

from .conftest import SAMPLES


def _count_vectors(qa: Assistant) -> int:
    return qa.store.collection.count()


def test_sample_index_is_complete(sample_assistant):
    st = sample_assistant.status()
    assert st.articles == len(list(SAMPLES.iterdir()))
    assert st.chunks == _count_vectors(sample_assistant)
    titles = [a.title for a in sample_assistant.articles()]
    assert any("Surge C1" in t or "Lei Jun" in t for t in titles)


def test_reingest_unchanged_embeds_nothing(fresh_copy, embedder, tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    first = qa.ingest([folder])
    assert first.added == len(list(folder.iterdir())) and not first.failed
    again = qa.ingest([folder])
    assert (again.added, again.updated, again.removed, again.chunks) == (0, 0, 0, 0)
    assert again.unchanged == first.added


def test_edit_replaces_chunks_and_delete_removes_article(embedder, tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    n_articles, n_chunks = qa.store.counts()

    target = folder / "05_caldora_rate_decision.txt"
    target.write_text(target.read_text() + "\n\nIn a late statement, the bank said the zebra mascot would retire.\n")
    report = qa.ingest([folder])
    assert (report.updated, report.added, report.removed) == (1, 0, 0)
    assert qa.store.counts()[0] == n_articles
    assert qa.store.counts()[1] == _count_vectors(qa)  # no orphans, no duplicates
    assert any("zebra" in p.text for p in qa.retrieve("What will happen to the zebra mascot?", top_k=3))

    target.unlink()
    report = qa.ingest([folder])
    assert report.removed == 1
    assert qa.store.counts()[0] == n_articles - 1
    assert qa.store.counts()[1] == _count_vectors(qa)
    assert all("Caldora" not in p.title for p in qa.retrieve("Caldora central bank interest rate decision"))


def test_broken_files_are_reported_and_the_rest_goes_in(embedder, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Harbour reopens\n\nThe harbour in Brenmouth reopened on Monday after repairs.")
    (folder / "empty.txt").write_text("")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "bad.json").write_text('{"title": "x", ')
    (folder / "notes.jsonl").write_text('{"title": "Mill closes", "text": "The old mill in Tarrow closed for good."}\n{oops\n')
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    report = qa.ingest([folder, tmp_path / "missing-folder"])
    assert report.added == 2
    failed = dict(report.failed)
    assert set(map(lambda p: p.rsplit("/", 1)[-1], failed)) == {"empty.txt", "image.txt", "bad.json", "missing-folder",
                                                                "notes.jsonl:2"}
    assert "empty" in failed[str(folder / "empty.txt")]
    assert "binary" in failed[str(folder / "image.txt")]
    assert "malformed JSON" in failed[str(folder / "bad.json")]


def test_a_file_that_breaks_keeps_its_indexed_version(embedder, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    f = folder / "story.json"
    f.write_text('{"title": "Bridge opens", "text": "The Tarrow bridge opened to traffic on Friday."}')
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    f.write_text('{"title": "Bridge opens", "text": ')
    report = qa.ingest([folder])
    assert report.failed and report.removed == 0
    assert qa.store.counts()[0] == 1


def test_crash_leftovers_are_invisible_and_repaired(fresh_copy, embedder):
    """Vectors written without a record commit (a killed ingest) are never served and are deleted next time."""
    qa = Assistant(index_dir=fresh_copy, embedder=embedder)
    before = _count_vectors(qa)
    vec = embedder.embed(["Xiaomi Surge C1 imaging chip Lei Jun"])[0]
    with qa.store._db() as db:
        db.execute("INSERT INTO pending VALUES ('ghost:0:0')")
    qa.store.collection.upsert(ids=["ghost:0:0"], embeddings=[vec], documents=["ghost"], metadatas=[{"doc_id": "ghost", "ordinal": 0}])
    assert all(p.chunk_id != "ghost:0:0" for p in qa.retrieve("Xiaomi Surge C1 imaging chip Lei Jun"))
    with qa.store.writing():
        pass
    assert _count_vectors(qa) == before


def test_dense_search_matches_exact_search_in_a_fresh_process(sample_index_dir, embedder):
    """HNSW recall against brute force, from a newly opened client (what a new process sees)."""
    from assistant.store.record import chroma_client

    store = Store(sample_index_dir, chroma_client(sample_index_dir))
    ids, matrix = store.all_vectors()
    queries = ["What did Lei Jun say about chips?", "bus fares", "flood evacuation", "interest rate cut", "film prize"]
    for q in queries:
        v = embedder.embed_query(q)
        exact = [ids[i] for i in np.argsort(-(matrix @ v))[:10]]
        got = [i for i, _ in store.dense_search(v, 10)]
        assert got == exact


def test_renaming_a_file_that_names_its_url_keeps_the_article(embedder, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "old.txt").write_text("Dam opens\nSource: https://news.example/dam\n\nThe Corra dam opened on Monday.")
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    (folder / "old.txt").rename(folder / "new.txt")
    report = qa.ingest([folder])
    assert (report.removed, report.added, report.unchanged) == (0, 0, 1)
    [article] = qa.articles()
    assert article.path == str(folder / "new.txt") and article.source == "https://news.example/dam"
    assert qa.ingest([folder]).unchanged == 1 and len(qa.articles()) == 1


def test_an_index_inside_the_ingested_folder_is_not_indexed(embedder, tmp_path):
    (tmp_path / "story.txt").write_text("Dam opens\n\nThe Corra dam opened on Monday.")
    qa = Assistant(index_dir=tmp_path / "index", embedder=embedder)
    qa.ingest([tmp_path])
    (tmp_path / "index" / "feeds.json").write_text('{"title": "not news", "text": "internal state of the index"}')
    report = qa.ingest([tmp_path])
    assert [a.title for a in qa.articles()] == ["Dam opens"] and not report.failed


def test_a_new_pipeline_reindexes_unchanged_articles(embedder, tmp_path, monkeypatch):
    from assistant.ingest import pipeline as ingest

    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "s.txt").write_text("Dam opens\n\nThe Corra dam opened on Monday.")
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    assert qa.ingest([folder]).unchanged == 1
    monkeypatch.setattr(ingest, "PIPELINE", "test-next")
    report = qa.ingest([folder])
    assert report.updated == 1 and qa.store.counts()[1] == qa.store.collection.count()


def test_new_speaker_rules_redo_speakers_from_the_record_without_embedding(embedder, tmp_path, monkeypatch):
    """Speaker rules have their own version: a change re-finds the speakers from the stored chunks and rebuilds only
    their keyword text; nothing is re-embedded and the chunks (and their vectors) stay."""
    from assistant.ingest import speakers

    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "s.txt").write_text('Dam opens\n\nThe Corra dam opened on Monday. "It took ten years," said Ann Lee.')
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    [before] = qa.store.chunks_of(qa.articles()[0].doc_id)
    assert before.speakers == ("Ann Lee",) and qa.store.keyword_search("Quorum", 5) == []
    monkeypatch.setattr(speakers, "SPEAKER_RULES", "test-next")
    monkeypatch.setattr(speakers, "sentence_speakers", lambda text, spans: [("Zed Quorum",)] * len(spans))
    monkeypatch.setattr(qa.embedder, "embed_with_spans", lambda *a: pytest.fail("nothing is to be embedded"))
    report = qa.ingest([folder])
    assert report.unchanged == 1 and not report.updated
    [after] = qa.store.chunks_of(before.doc_id)
    assert after.chunk_id == before.chunk_id and after.speakers == ("Zed Quorum",)
    assert [c for c, _ in qa.store.keyword_search("Quorum", 5)] == [after.chunk_id]
    assert qa.store.meta("speaker_rules") == "test-next"


def test_a_rebuilt_body_gives_the_same_speakers(tmp_path):
    """Speakers are found again from the chunks alone: the body rebuilt from them reads as the article did."""
    from assistant.ingest.pipeline import build_chunks
    from assistant.ingest.speakers import body_from_chunks, chunk_speakers
    from assistant.ingest.chunking import split_sentences
    from assistant.sources.articles import read_articles

    for path in sorted(SAMPLES.iterdir()):
        for article in read_articles(path).articles:
            rows, _ = build_chunks(article, 40)  # small chunks: many gaps between them
            body = body_from_chunks(rows)
            assert chunk_speakers(body, split_sentences(body), [(r.start, r.end) for r in rows]) == \
                [r.speakers for r in rows]


def test_chunk_texts_stay_out_of_chroma_unless_asked(embedder, tmp_path, monkeypatch):
    """Nothing reads texts back from Chroma (the record holds them), and embedded Chroma indexes each stored text for
    full-text search at ~3x the insert cost; NEWSDESK_CHROMA_DOCUMENTS=1 stores them for other tools."""
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "dam.txt").write_text("Dam opens\n\nThe Corra dam opened on Monday after ten years of building work.")
    plain = Assistant(index_dir=tmp_path / "plain", embedder=embedder)
    plain.ingest([folder])
    assert plain.store.collection.get(include=["documents"])["documents"] == [None]
    assert "Corra dam" in plain.ask("When did the Corra dam open?").text
    monkeypatch.setenv("NEWSDESK_CHROMA_DOCUMENTS", "1")
    kept = Assistant(index_dir=tmp_path / "kept", embedder=embedder)
    kept.ingest([folder])
    [text] = kept.store.collection.get(include=["documents"])["documents"]
    assert "Corra dam opened on Monday" in text


@pytest.mark.parametrize("links, named, looping", [
    ({"a.txt": "b.txt", "b.txt": "a.txt"}, [], ["a.txt", "b.txt"]),  # two links to each other, found in the folder
    ({"self.txt": "self.txt"}, [], ["self.txt"]),  # a link to itself
    ({"a.txt": "b.txt", "b.txt": "a.txt"}, ["a.txt"], ["a.txt", "b.txt"]),  # the link named as well: reported once
])
def test_a_symlink_loop_is_one_failed_file_and_the_rest_is_indexed(embedder, tmp_path, links, named, looping):
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "good.txt").write_text("Harbour reopens\n\nThe harbour in Brenmouth reopened on Monday after repairs.")
    for name, target in links.items():
        (folder / name).symlink_to(target)
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    report = qa.ingest([*(folder / n for n in named), folder])
    assert report.added == 1 and [a.title for a in qa.articles()] == ["Harbour reopens"]
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in report.failed) == looping
    assert all(reason.startswith("symlink loop: it points to ") for _, reason in report.failed), report.failed


def test_a_bad_line_of_a_jsonl_is_reported_by_line_and_keeps_what_it_indexed_before(embedder, tmp_path):
    feed = tmp_path / "desk" / "feed.jsonl"
    feed.parent.mkdir()
    lines = ['{"title": "Mill closes", "text": "The old mill in Tarrow closed for good on Friday."}',
             '{"title": "Pier reopens", "text": "The Wexley pier reopened on Sunday after repairs."}',
             '{"title": "Ferry returns", "text": "The Kelvale ferry returned to service on Monday."}']
    feed.write_text("\n".join(lines) + "\n")
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    assert qa.ingest([feed.parent]).added == 3

    lines[1] = '{"title": "Pier reopens", "text": "The Wexley pier'  # cut short while being written
    lines.append('{"title": "Bridge opens", "text": "The Corra bridge opened to traffic on Tuesday."}')
    feed.write_text("\n".join(lines) + "\n")
    report = qa.ingest([feed.parent])
    assert report.failed == [(f"{feed}:2", "not valid JSON: Unterminated string starting at column 35")]
    assert (report.added, report.removed, report.unchanged) == (1, 0, 2)
    assert sorted(a.title for a in qa.articles()) == ["Bridge opens", "Ferry returns", "Mill closes", "Pier reopens"]


def test_reports_add_up():
    from assistant.types import IngestReport

    a = IngestReport(added=1, failed=[("a.txt", "empty")], chunks=3, seconds=1.0, changes=[("added", "b.txt")])
    b = IngestReport(updated=2, removed=1, failed=[("c.bin", "binary")], chunks=4, tokens=9, seconds=0.5)
    total = sum([a, b], IngestReport())
    assert (total.added, total.updated, total.removed, total.chunks, total.tokens, total.seconds) == (1, 2, 1, 7, 9, 1.5)
    assert total.failed == [("a.txt", "empty"), ("c.bin", "binary")] and total.changes == [("added", "b.txt")]
    assert a.failed == [("a.txt", "empty")]  # the parts are left as they were


def test_an_edit_replaces_the_sentence_vectors_of_the_article(embedder, tmp_path):
    from assistant.ingest.chunking import split_sentences

    folder = tmp_path / "a"
    folder.mkdir()
    story = folder / "s.txt"
    story.write_text("Dam opens\n\nThe Corra dam opened on Monday. Crowds came to watch.")
    qa = Assistant(index_dir=tmp_path / "idx", embedder=embedder)
    qa.ingest([folder])
    [old] = qa.store.chunks_of(qa.articles()[0].doc_id)
    story.write_text("Dam opens\n\nThe Corra dam opened on Monday. Crowds came to watch. A zebra swam past.")
    qa.ingest([folder])
    [new] = qa.store.chunks_of(qa.articles()[0].doc_id)
    stored = qa.store.sentence_vectors([old.chunk_id, new.chunk_id])
    assert list(stored) == [new.chunk_id] and len(stored[new.chunk_id]) == len(split_sentences(new.text)) == 3
    from assistant.ingest.chunking import embedding_text
    from assistant.ingest.pipeline import sentence_spans

    text = embedding_text("Dam opens", new.text)  # the sentences' vectors come from the chunk's own pass
    _, [expected], _ = embedder.embed_with_spans([text], [sentence_spans(new, text)])
    assert min(float(a @ b) for a, b in zip(stored[new.chunk_id], expected)) > 0.999
    assert int((stored[new.chunk_id] @ embedder.embed_query("A zebra swam past.")).argmax()) == 2
