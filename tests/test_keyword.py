"""The keyword side in the record: built by many small commits, removals and merges, it ranks exactly as a bm25s
index rebuilt from the live chunks would (the former design), and an index from before it is migrated."""
import logging
import random
import sqlite3

import numpy as np
import pytest

from assistant.store import keyword as kw
from assistant.store.record import Store

WORDS = ("dam river minister economy growth bank shares oil price election vote labour tory chip phone film "
         "award match goal striker coach court judge appeal music album tour").split()


def _texts(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(f"c{seed}-{i:05d}", " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))) for i in range(n)]


def _record() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('generation', '0')")
    kw.create_tables(db)
    kw.rebuild(db, [])
    return db


def _bump(db) -> int:
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
    return int(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])


def _bm25s(rows: list[tuple[str, str]]):
    """Today's reference: bm25s over the same tokens (its defaults: Lucene BM25, k1 1.5, b 0.75)."""
    import bm25s

    ids = sorted(chunk_id for chunk_id, _ in rows)
    text = dict(rows)
    retriever = bm25s.BM25()
    retriever.index(kw.tokenize([text[i] for i in ids]), show_progress=False)
    return ids, retriever


def test_small_commits_removals_and_merges_rank_as_a_rebuilt_bm25s_index():
    db = _record()
    index = kw.KeywordIndex(db)
    live: dict[str, str] = {}
    rng = random.Random(3)
    for step in range(120):  # enough commits for two rounds of merges
        rows = _texts(rng.randint(1, 12), seed=step)
        gone = rng.sample(sorted(live), min(len(live), rng.randint(0, 4)))
        generation = _bump(db)
        kw.remove(db, gone, generation)
        kw.add(db, rows)
        for chunk_id in gone:
            live.pop(chunk_id)
        live.update(rows)
        if step == 60:
            index.search("dam", 5)  # a reader following along, not only one opening at the end
    segments = db.execute("SELECT docs FROM keyword_segments").fetchall()
    assert len(segments) < 2 * kw.MERGE_FANOUT  # merged, not one segment per commit
    assert len(index) == len(live)
    ids, reference = _bm25s(list(live.items()))
    for query in ("dam river", "minister minister economy", "striker goal coach film", "court", "unknown words"):
        tokens = kw.tokenize([query])[0]
        got = index.search(query, 10)
        if not any(t in reference.vocab_dict for t in tokens):
            assert got == []
            continue
        scores = reference.get_scores(tokens)
        best = sorted(range(len(ids)), key=lambda d: (-scores[d], ids[d]))[:10]
        assert [c for c, _ in got] == [ids[d] for d in best if scores[d] > 0]
        assert np.allclose([s for _, s in got], [scores[d] for d in best if scores[d] > 0], rtol=1e-5)


def test_idf_counts_only_live_chunks():
    db = _record()
    kw.add(db, [("a", "dam river"), ("b", "dam"), ("c", "minister")])
    kw.remove(db, ["b"], _bump(db))
    index = kw.KeywordIndex(db)
    n, df = 2, 1
    assert index.idf(["dams", "vote"]) == {"dams": pytest.approx(np.log(1 + (n - df + 0.5) / (df + 0.5))),
                                           "vote": pytest.approx(np.log(1 + (n + 0.5) / 0.5))}


def test_an_index_from_before_the_keyword_side_lived_in_the_record_is_migrated(tmp_path, caplog):
    """Old indexes had no keyword tables, and a bm25s folder `keyword/`: the first writer builds the tables from the
    record, says so, and removes the old folder."""
    index_dir = tmp_path / "idx"
    store = Store(index_dir, client=None)
    with store._db() as db:
        db.execute("INSERT INTO articles VALUES ('d1','Dam opens','s','','','','',0,'h','k',1,'t')")
        db.execute("INSERT INTO chunks VALUES ('d1:v:0','d1',0,'The Corra dam opened on Monday.',0,31,8,'[\"Ann Lee\"]')")
        for name in ("keyword_postings", "keyword_segments", "keyword_gone", "keyword_docs", "keyword_meta"):
            db.execute(f"DROP TABLE {name}")
    (index_dir / "keyword").mkdir()
    caplog.set_level(logging.INFO, logger="assistant.store.record")
    reopened = Store(index_dir, client=None)
    assert [c for c, _ in reopened.keyword_search("Corra dam", 5)] == ["d1:v:0"]
    assert [c for c, _ in reopened.keyword_search("Ann Lee", 5)] == ["d1:v:0"]  # speakers are in the keyword text
    assert "built the keyword index from the record (1 chunks" in caplog.text
    assert not (index_dir / "keyword").exists()
