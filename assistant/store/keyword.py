"""BM25 keyword search kept inside the record (SQLite), updated in the same transaction as the chunks.

Every commit adds its chunks' postings (term -> chunk numbers and term counts, as numpy blobs) as a new segment;
removed chunks leave the live set at once and their postings at the next merge. Segments of about the same size
are merged in groups of MERGE_FANOUT (size-tiered, as log-structured stores do), so a term has a few rows whatever
the number of commits. Adding 20 articles to a million chunks therefore touches only their chunks, where the former
bm25s index was rebuilt whole (115 s and ~2.8 GB at 1M chunks).

Scores are bm25s's (Lucene BM25, k1 1.5, b 0.75; same tokens: bm25s's splitter, English stopwords, Snowball stems)
computed at query time from term counts, so N, the average length and the document frequencies are always those of
the record: the ranking is the rebuilt bm25s index's, not an approximation of it.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import sqlite3
import threading
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import numpy as np

log = logging.getLogger(__name__)

# Bump when tokenize() or keyword_text() change: the keyword side is then rebuilt from the record (no model run).
KEYWORD_VERSION = "1"
K1, B = 1.5, 0.75  # bm25s's defaults, which the former index used
MERGE_FANOUT = 8  # segments of one size class merged together: a term has at most ~7 rows per size class

TABLES = """
CREATE TABLE IF NOT EXISTS {s}keyword_docs (
    docno INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE, length INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS {s}keyword_gone (docno INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS {s}keyword_gone_generation ON keyword_gone(generation);
CREATE TABLE IF NOT EXISTS {s}keyword_segments (
    segment INTEGER PRIMARY KEY AUTOINCREMENT, docs INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS {s}keyword_postings (
    term TEXT NOT NULL, segment INTEGER NOT NULL, docnos BLOB NOT NULL, tfs BLOB NOT NULL,
    PRIMARY KEY (term, segment)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {s}keyword_postings_segment ON keyword_postings(segment);
CREATE TABLE IF NOT EXISTS {s}keyword_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")


def cjk_bigrams(text: str) -> str:
    """Chinese, Japanese and Korean have no spaces between words: index overlapping character pairs instead."""
    def pairs(match: re.Match) -> str:
        run = match.group(0)
        return " " + " ".join(run[i:i + 2] for i in range(max(1, len(run) - 1))) + " "

    return _CJK_RUN.sub(pairs, text)


def tokenize(texts: Iterable[str]) -> list[list[str]]:
    """The one tokenisation of index and queries: CJK pairs, English stopwords, Snowball stems."""
    import bm25s

    return bm25s.tokenize([cjk_bigrams(t) for t in texts], stopwords="en", stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


def keyword_text(title: str, text: str, speakers_json: str) -> str:
    """What a chunk is found by: its headline, its text and who speaks in it (the record's JSON list)."""
    return f"{title}\n{text} {speakers_json}"


def speakers_json(speakers: Sequence[str]) -> str:
    return json.dumps(tuple(speakers))


# -- writing (inside the record's transaction) --------------------------------------------------------------------
def create_tables(db: sqlite3.Connection, schema: str = "") -> None:
    db.executescript(TABLES.format(s=f"{schema}." if schema else ""))


def is_current(db: sqlite3.Connection) -> bool:
    """The keyword tables hold every chunk of the record, tokenised by this version."""
    try:
        row = db.execute("SELECT value FROM keyword_meta WHERE key='version'").fetchone()
    except sqlite3.OperationalError:  # an index made before the keyword side lived in the record
        return False
    return row is not None and row[0] == KEYWORD_VERSION


def rebuild(db: sqlite3.Connection, rows: Iterable[tuple[str, str]], batch: int = 50_000) -> int:
    """Replace the keyword side with `rows` (chunk_id, keyword text); returns how many. A new epoch tells readers
    to reload instead of following changes."""
    for name in ("keyword_postings", "keyword_segments", "keyword_gone", "keyword_docs"):
        db.execute(f"DELETE FROM {name}")
    total, part = 0, []
    for row in rows:
        part.append(row)
        if len(part) >= batch:
            total += _add(db, part)
            part = []
    total += _add(db, part)
    _merge(db)
    epoch = db.execute("SELECT value FROM keyword_meta WHERE key='epoch'").fetchone()
    db.execute("INSERT OR REPLACE INTO keyword_meta VALUES ('epoch', ?)", (str(int(epoch[0]) + 1 if epoch else 1),))
    db.execute("INSERT OR REPLACE INTO keyword_meta VALUES ('version', ?)", (KEYWORD_VERSION,))
    return total


def add(db: sqlite3.Connection, rows: Sequence[tuple[str, str]]) -> None:
    """New chunks (chunk_id, keyword text) as one new segment; merges segments when a size class is full."""
    if _add(db, rows):
        _merge(db)


def remove(db: sqlite3.Connection, chunk_ids: Sequence[str], generation: int) -> None:
    """Chunks leave the live set now (readers learn it by `generation`); their postings go at the next merge."""
    for part in _batches(list(chunk_ids), 500):
        marks = ",".join("?" * len(part))
        gone = db.execute(f"SELECT docno FROM keyword_docs WHERE chunk_id IN ({marks})", part).fetchall()
        db.executemany("INSERT OR REPLACE INTO keyword_gone VALUES (?, ?)", [(d, generation) for (d,) in gone])
        db.execute(f"DELETE FROM keyword_docs WHERE chunk_id IN ({marks})", part)


def _add(db: sqlite3.Connection, rows: Sequence[tuple[str, str]]) -> int:
    if not rows:
        return 0
    tokens = tokenize([text for _, text in rows])
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='keyword_docs'").fetchone()
    first = (row[0] if row else 0) + 1  # AUTOINCREMENT: a number is never reused, so readers can follow by number
    docnos = np.arange(first, first + len(rows), dtype=np.int64)
    db.executemany("INSERT INTO keyword_docs VALUES (?,?,?)",
                   [(int(d), chunk_id, len(t)) for d, (chunk_id, _), t in zip(docnos, rows, tokens)])
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for t in tokens for w in t), dtype=np.int64)
    owner = np.repeat(docnos, [len(t) for t in tokens])
    cur = db.execute("INSERT INTO keyword_segments (docs, first, last) VALUES (?,?,?)",
                     (len(rows), int(docnos[0]), int(docnos[-1])))
    segment = cur.lastrowid
    if len(ids):
        # (term, chunk) pairs and their counts, sorted by term then chunk number
        keys, counts = np.unique(ids * (docnos[-1] + 1) + owner, return_counts=True)
        term_ids, doc_of = np.divmod(keys, docnos[-1] + 1)
        bounds = np.flatnonzero(np.diff(term_ids)) + 1
        words = list(vocab)
        db.executemany("INSERT INTO keyword_postings VALUES (?,?,?,?)", [
            (words[int(t[0])], segment, d.astype(np.int32).tobytes(), np.minimum(c, 65535).astype(np.uint16).tobytes())
            for t, d, c in zip(np.split(term_ids, bounds), np.split(doc_of, bounds), np.split(counts, bounds))])
    return len(rows)


def _size_class(docs: int) -> int:
    return int(math.log(max(docs, 1), MERGE_FANOUT))


def _merge(db: sqlite3.Connection) -> None:
    """Merge the segments of a size class that has MERGE_FANOUT of them, until none has (dead chunks dropped)."""
    while True:
        classes: dict[int, list[tuple[int, int, int]]] = {}
        for segment, docs, first, last in db.execute("SELECT segment, docs, first, last FROM keyword_segments"):
            classes.setdefault(_size_class(docs), []).append((segment, first, last))
        full = next((group for _, group in sorted(classes.items()) if len(group) >= MERGE_FANOUT), None)
        if full is None:
            return
        segments = [s for s, _, _ in full]
        first, last = min(f for _, f, _ in full), max(la for _, _, la in full)
        dead = np.array([d for (d,) in db.execute("SELECT docno FROM keyword_gone WHERE docno BETWEEN ? AND ?",
                                                  (first, last))], dtype=np.int32)
        live = db.execute("SELECT count(*) FROM keyword_docs WHERE docno BETWEEN ? AND ?", (first, last)).fetchone()[0]
        marks = ",".join("?" * len(segments))
        merged = db.execute("INSERT INTO keyword_segments (docs, first, last) VALUES (?,?,?)",
                            (live, first, last)).lastrowid
        rows = db.execute(f"SELECT term, docnos, tfs FROM keyword_postings WHERE segment IN ({marks}) ORDER BY term",
                          segments)
        out, term, parts = [], None, []
        for word, docnos, tfs in rows:
            if word != term and parts:
                out.append(_joined(term, merged, parts, dead))
                parts = []
            term = word
            parts.append((docnos, tfs))
        if parts:
            out.append(_joined(term, merged, parts, dead))
        db.execute(f"DELETE FROM keyword_postings WHERE segment IN ({marks})", segments)
        db.execute(f"DELETE FROM keyword_segments WHERE segment IN ({marks})", segments)
        db.executemany("INSERT INTO keyword_postings VALUES (?,?,?,?)", [r for r in out if r is not None])


def _joined(term: str, segment: int, parts: list[tuple[bytes, bytes]], dead: np.ndarray):
    docnos = np.concatenate([np.frombuffer(d, dtype=np.int32) for d, _ in parts])
    tfs = np.concatenate([np.frombuffer(t, dtype=np.uint16) for _, t in parts])
    order = np.argsort(docnos, kind="stable")
    docnos, tfs = docnos[order], tfs[order]
    if len(dead):
        keep = ~np.isin(docnos, dead)
        docnos, tfs = docnos[keep], tfs[keep]
    return (term, segment, docnos.tobytes(), tfs.tobytes()) if len(docnos) else None


# -- reading ------------------------------------------------------------------------------------------------------
class KeywordIndex:
    """Searches the keyword tables through a connection of its own, each search in one snapshot of the record.

    Holds per chunk number whether it is live and its length in tokens (5 bytes a chunk: 5 MB at 1M chunks) and
    follows the record's changes by generation; the postings of a question's terms are read from the record."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._lock = threading.Lock()  # one connection, questions on several threads
        self.generation = -1
        self._epoch: str | None = None
        self._live = np.zeros(0, dtype=bool)
        self._length = np.zeros(0, dtype=np.int32)
        self._docs = 0
        self._total_length = 0
        self._all_live = True
        self._norm = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        with self._snapshot():
            return self._docs

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction, the live set brought to the record's generation in it."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                row = self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
                self._follow(int(row[0]) if row else 0)
                yield
            finally:
                self._conn.execute("COMMIT")

    def _follow(self, generation: int) -> None:
        if generation == self.generation:
            return
        conn = self._conn
        epoch = conn.execute("SELECT value FROM keyword_meta WHERE key='epoch'").fetchone()
        epoch = epoch[0] if epoch else None
        if epoch != self._epoch:  # rebuilt (or first look): load every chunk
            self._live = np.zeros(0, dtype=bool)
            self._length = np.zeros(0, dtype=np.int32)
            self._epoch = epoch
        else:
            gone = np.array([d for (d,) in conn.execute("SELECT docno FROM keyword_gone WHERE generation > ?",
                                                        (self.generation,))], dtype=np.int64)
            self._live[gone[gone < len(self._live)]] = False
        new = np.array(conn.execute("SELECT docno, length FROM keyword_docs WHERE docno >= ? ORDER BY docno",
                                    (len(self._live),)).fetchall(), dtype=np.int64).reshape(-1, 2)
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='keyword_docs'").fetchone()
        size = (seq[0] if seq else 0) + 1  # every number handed out: postings may still name removed ones
        if size > len(self._live):
            self._live = np.concatenate([self._live, np.zeros(size - len(self._live), dtype=bool)])
            self._length = np.concatenate([self._length, np.zeros(size - len(self._length), dtype=np.int32)])
        if len(new):
            self._live[new[:, 0]] = True
            self._length[new[:, 0]] = new[:, 1]
        self._docs = int(self._live.sum())
        self._total_length = int(self._length[self._live].sum())
        self._all_live = self._docs == len(self._live) - 1  # numbers start at 1: nothing removed since the epoch
        # each chunk's length term of BM25, once per generation rather than per posting of every question
        avg = np.float32(self._total_length / self._docs) if self._docs else np.float32(1)
        self._norm = (np.float32(K1) * (np.float32(1 - B) + np.float32(B) * self._length.astype(np.float32) / avg))
        self.generation = generation

    def _postings(self, terms: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Live chunk numbers and term counts of each term."""
        parts: dict[str, list] = {}
        marks = ",".join("?" * len(terms))
        for term, docnos, tfs in self._conn.execute(
                f"SELECT term, docnos, tfs FROM keyword_postings WHERE term IN ({marks})", list(terms)):
            parts.setdefault(term, []).append((np.frombuffer(docnos, dtype=np.int32),
                                               np.frombuffer(tfs, dtype=np.uint16)))
        out = {}
        for term, found in parts.items():
            docnos = np.concatenate([d for d, _ in found]) if len(found) > 1 else found[0][0]
            tfs = np.concatenate([t for _, t in found]) if len(found) > 1 else found[0][1]
            if not self._all_live:  # the live set is this snapshot's, so every number in it is known
                keep = self._live[docnos]
                docnos, tfs = docnos[keep], tfs[keep]
            out[term] = (docnos, tfs)
        return out

    def _idf(self, df: int) -> float:
        return math.log(1 + (self._docs - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score), best first; equal scores in chunk-id order (as the rebuilt index had them)."""
        query_tokens = tokenize([query])[0]
        if not query_tokens or k <= 0:
            return []
        weight: dict[str, int] = {}
        for tok in query_tokens:  # a word asked twice counts twice, as in bm25s
            weight[tok] = weight.get(tok, 0) + 1
        with self._snapshot():
            if not self._docs:
                return []
            postings = self._postings(list(weight))
            scores = np.zeros(len(self._live), dtype=np.float32)
            for term, (docnos, tfs) in postings.items():
                tf = tfs.astype(np.float32)
                tf /= self._norm[docnos] + tf
                tf *= np.float32(weight[term] * self._idf(len(docnos)))
                scores[docnos] += tf
            hits = np.flatnonzero(scores > 0)
            if len(hits) > k:
                values = scores[hits]
                kth = np.partition(values, len(values) - k)[len(values) - k]
                hits = hits[values >= kth]  # ties at the k-th score are settled by chunk id below
            ids = self._chunk_ids(hits)
        ranked = sorted(((ids[int(d)], float(scores[d])) for d in hits), key=lambda r: (-r[1], r[0]))
        return ranked[:k]

    def _chunk_ids(self, docnos: np.ndarray) -> dict[int, str]:
        out: dict[int, str] = {}
        for part in _batches([int(d) for d in docnos], 500):
            marks = ",".join("?" * len(part))
            out.update(self._conn.execute(f"SELECT docno, chunk_id FROM keyword_docs WHERE docno IN ({marks})", part))
        return out

    def idf(self, words: list[str]) -> dict[str, float]:
        """Inverse document frequency over chunks for each word (stemmed as the index is); unseen words get the maximum."""
        stems = {word: tokens[0] for word, tokens in zip(words, tokenize(words)) if tokens}
        with self._snapshot():
            if not self._docs:
                return {}
            postings = self._postings(sorted(set(stems.values()))) if stems else {}
            return {word: self._idf(len(postings.get(stem, ((), ()))[0])) for word, stem in stems.items()}


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
