"""The index on disk: Chroma vectors, the BM25 keyword index and the record of what is indexed, kept consistent.

The record (SQLite) is the source of truth. Chunk ids carry the article's content hash, so a new version of an
article is written beside the old one, the record switches to it in one transaction, and only then is the old
version deleted. Ids written to Chroma but not (or no longer) in the record are listed in `pending` first, so a
crash at any point leaves either the old or the new version visible, and the next writer deletes the leftovers.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import ConfigError, IndexBusyError, LockTimeout, NewsdeskError
from . import keyword as kw
from .keyword import KeywordIndex
from .locks import exclusive

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL,
    author TEXT NOT NULL, date TEXT NOT NULL, record_no INTEGER NOT NULL, content_hash TEXT NOT NULL,
    dup_key TEXT NOT NULL, chunk_count INTEGER NOT NULL, indexed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, tokens INTEGER NOT NULL, speakers TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, file_hash TEXT NOT NULL, articles INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending (chunk_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS sentence_vectors (chunk_id TEXT PRIMARY KEY, sentences INTEGER NOT NULL, vectors BLOB NOT NULL);
"""
# One float16 matrix per chunk (a row per sentence of split_sentences(chunk text)): half the disk of float32, and
# a cosine off by under 1e-3, far below the gaps between the sentences an answer picks among.
SENTENCE_VECTOR_DTYPE = np.float16

# Chroma fixes these when it creates a collection: an existing index keeps the values it was made with. ef_search
# (the one Chroma lets you change later, with collection.modify) was 200 until 2026-11-23; measured on synthetic
# indexes (`python -m bench scale`), dense recall@10 against exact search was 0.977 at 100k chunks and 0.73 at 1M
# with 200, 0.998 and 0.91 with 1,000, for ~2 ms more per query at 1M. Cheaper builds (max_neighbors 16 or
# ef_construction 100) insert ~1.5x faster but lost recall (0.94 against 0.97 at 100k, ef_search 200), so those stay.
HNSW = {"space": "cosine", "ef_construction": 200, "max_neighbors": 32, "ef_search": 1000}


@dataclass(frozen=True)
class ArticleRow:
    doc_id: str
    title: str
    source: str
    path: str
    url: str
    author: str
    date: str
    record_no: int
    content_hash: str
    dup_key: str
    chunk_count: int
    indexed_at: str


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    tokens: int
    speakers: tuple[str, ...]


@dataclass
class NewVersion:
    """One article ready to commit: its record row, its chunks and their vectors."""

    article: ArticleRow
    chunks: list[ChunkRow]
    vectors: np.ndarray
    documents: list[str]  # what was embedded (headline + chunk), stored in Chroma for server users
    # one (sentences x dimension) matrix per chunk, rows in the order of split_sentences(chunk.text); None: none
    sentence_vectors: list[np.ndarray] | None = None


def chroma_client(index_dir: Path, host: str | None = None, port: int = 8000, fresh: bool = False):
    """Embedded Chroma in `index_dir/chroma`, or a Chroma server when `host` is given. Telemetry is off.

    `fresh` drops this process's cached embedded instance first: embedded Chroma keeps its vector index in
    memory and does not see what another process wrote since, so a reader reopens after a foreign write.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    # Telemetry off through Chroma's own settings, not the environment (only Settings reads it; chromadb 1.x
    # takes anonymized_telemetry from this object, and its product telemetry client sends nothing in 1.5).
    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        try:
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError variants
            raise NewsdeskError(
                f"Cannot reach the Chroma server at {host}:{port} ({exc}). Start it with "
                f"`chroma run --path DIR --port {port}` or unset NEWSDESK_CHROMA_HOST to use the embedded store."
            ) from exc
    path = index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    if fresh:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None:
            system.stop()
    return chromadb.PersistentClient(path=str(path), settings=settings)


_SET_HOME = "Set NEWSDESK_HOME (or --index) to"


def open_index_folder(index_dir: Path) -> bool:
    """Make sure `index_dir` can hold an index (creating it if need be); True when this process may write to it.

    A ConfigError names NEWSDESK_HOME when it cannot be used: a file, a folder that cannot be created or entered,
    or a read-only folder with no index in it. A read-only folder that holds an index is for reading only."""
    try:
        not_a_folder = index_dir.exists() and not index_dir.is_dir()
    except OSError as exc:  # e.g. inside a folder this user may not enter
        raise ConfigError(f"Cannot reach the index folder {index_dir}: {_reason(exc)}. {_SET_HOME} a folder this "
                          "user can read and write.") from None
    if not_a_folder:
        raise ConfigError(f"The index folder {index_dir} is a file, not a folder. {_SET_HOME} a folder: an existing "
                          "index, or a new folder to create one in.")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent that is a file, a read-only parent, a read-only file system
        raise ConfigError(f"Cannot create the index folder {index_dir}: {_reason(exc)}. {_SET_HOME} a folder "
                          "this user can write to.") from None
    if not os.access(index_dir, os.R_OK | os.X_OK):
        raise ConfigError(f"Cannot read the index folder {index_dir}: permission denied. {_SET_HOME} a folder "
                          "this user can read, or run as its owner.")
    record = index_dir / "record.sqlite3"
    writable = os.access(index_dir, os.W_OK) and (not record.exists() or os.access(record, os.W_OK))
    if not writable and not record.exists():
        raise ConfigError(f"There is no index in {index_dir}, and this user cannot create one there: the folder is "
                          f"read-only. {_SET_HOME} an existing index, or a folder this user can write to.")
    return writable


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


class Store:
    """One index: open it with a Chroma client; writers take `writing()`, readers need nothing.

    An index in a folder this process may not write to is opened for reading: the record read-only, and no embedded
    Chroma (it writes to its database when it opens, even to read: chroma-core/chroma#1438), so questions are
    answered from keyword search alone; writing raises a ConfigError that says what to do.
    """

    def __init__(self, index_dir: Path, client, collection: str = "newsdesk", reopen=None, documents: bool = False,
                 connect=None):
        """`reopen()` makes a new client when another process has written (embedded Chroma only); `connect()`
        makes the client on first use when `client` is None (embedded Chroma: reading the record alone, as
        `status` and `list` do, never opens it).

        Chroma gets ids, vectors and metadata; the chunk texts too only with `documents=True`
        (NEWSDESK_CHROMA_DOCUMENTS, for other tools reading the collection): nothing here reads them back (the
        record holds the text), and embedded Chroma indexes every document for full-text search: at 50k chunks
        that took inserts from 2,305 to 783 chunks/s and Chroma's disk from 114 to 326 MB
        (`python -m bench scale --sizes 50000 [--chroma-documents]`).
        """
        self.index_dir = Path(index_dir)
        self.documents = documents
        self.writable = open_index_folder(self.index_dir)
        self._client = client
        self._connect = connect
        self._connect_lock = threading.Lock()
        self._reopen = reopen
        self._told_keyword_only = False
        self._collection_name = collection
        self._collection = None
        self._local = threading.local()
        self._keyword: KeywordIndex | None = None
        self._keyword_lock = threading.Lock()
        self._writing = False
        if self.writable:
            self._conn().executescript(SCHEMA)
            kw.create_tables(self._conn())
            with self._db() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
                db.execute("INSERT OR IGNORE INTO meta VALUES ('writer_pid', '0')")
                if not kw.is_current(db) and db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is None:
                    kw.rebuild(db, [])  # a new index: its (empty) keyword side is current from the start
        self._known_generation = self.generation()

    # -- plumbing -------------------------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.index_dir / "record.sqlite3"

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect_record() if self.writable else self._connect_record_read_only()
            self._local.conn = conn
        return conn

    def _connect_record(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _connect_record_read_only(self) -> sqlite3.Connection:
        """The record in a folder we may not write to. A WAL database is read with its -shm file, which SQLite
        cannot create here; when the writer has left none behind (it closed cleanly, so the database file holds
        everything), the file is opened as immutable."""
        uri = self.db_path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
            return conn
        except sqlite3.Error:  # "attempt to write a readonly database": it would have to create the -shm file
            conn.close()
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A transaction: everything inside commits together or not at all."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def collection(self):
        if self._collection is None:
            if self._client is None and self._connect is not None:
                if not self.writable:
                    raise ConfigError(self._read_only_message("its vectors cannot be opened"))
                with self._connect_lock:  # questions on several threads: one client, started once
                    if self._client is None:
                        self._client = self._connect()
            self._collection = self._client.get_or_create_collection(
                self._collection_name, configuration={"hnsw": HNSW}, embedding_function=None
            )
        return self._collection

    @contextlib.contextmanager
    def writing(self, wait: float = 10.0) -> Iterator["Store"]:
        """Exclusive write access across processes (a file lock); repairs what a crashed writer left."""
        self.check_writable()
        try:
            with exclusive(self.index_dir / "write.lock", wait, poll=0.2):
                self._writing = True
                try:
                    self._follow_other_writers()
                    self.repair()
                    self._build_keyword_side()
                    yield self
                finally:
                    self._writing = False
        except LockTimeout:
            raise IndexBusyError(str(self.index_dir)) from None

    def _follow_other_writers(self) -> None:
        """Reopen embedded Chroma when another process changed the index since we last looked."""
        generation = self.generation()
        if generation == self._known_generation:
            return
        pid = self._conn().execute("SELECT value FROM meta WHERE key='writer_pid'").fetchone()[0]
        if self._reopen is not None and self.writable and int(pid) != os.getpid():
            log.info("the index was changed by another process; reopening the vector store")
            self._client = self._reopen()
            self._collection = None
        self._known_generation = generation

    # -- reading the record -----------------------------------------------------------------------------------
    def generation(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    @property
    def keyword_only(self) -> bool:
        """No vectors to search: embedded Chroma in a folder this process may not write to (see the class doc)."""
        return not self.writable and self._client is None and self._connect is not None

    def check_writable(self) -> None:
        """A ConfigError that says what to do when this process may not change the index."""
        if not self.writable:
            raise ConfigError(self._read_only_message("ingest, remove, watch and feed refreshes cannot change it"))

    def _read_only_message(self, what: str) -> str:
        return (f"The index in {self.index_dir} is read-only for this user, so {what}. Run as the folder's owner, "
                f"make it writable for this user, or {_SET_HOME[0].lower()}{_SET_HOME[1:]} a copy this user can "
                "write to.")

    def counts(self) -> tuple[int, int]:
        conn = self._conn()
        return (conn.execute("SELECT count(*) FROM articles").fetchone()[0],
                conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def is_empty(self) -> bool:
        return self._conn().execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None

    def articles(self) -> list[ArticleRow]:
        rows = self._conn().execute("SELECT * FROM articles ORDER BY indexed_at DESC, title").fetchall()
        return [ArticleRow(*r) for r in rows]

    def article(self, doc_id: str) -> ArticleRow | None:
        row = self._conn().execute("SELECT * FROM articles WHERE doc_id=?", (doc_id,)).fetchone()
        return ArticleRow(*row) if row else None

    def articles_by_id(self, doc_ids: Iterable[str]) -> dict[str, ArticleRow]:
        ids = list(set(doc_ids))
        out: dict[str, ArticleRow] = {}
        for part in _batches(ids, 500):
            marks = ",".join("?" * len(part))
            for r in self._conn().execute(f"SELECT * FROM articles WHERE doc_id IN ({marks})", part):
                out[r[0]] = ArticleRow(*r)
        return out

    def articles_under(self, folder: str) -> list[ArticleRow]:
        prefix = folder.rstrip(os.sep) + os.sep
        rows = self._conn().execute("SELECT * FROM articles WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))
        return [ArticleRow(*r) for r in rows]

    def articles_from(self, path: str) -> list[ArticleRow]:
        return [ArticleRow(*r) for r in self._conn().execute("SELECT * FROM articles WHERE path=?", (path,))]

    def file_hash(self, path: str) -> str | None:
        row = self._conn().execute("SELECT file_hash FROM files WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, ChunkRow]:
        out: dict[str, ChunkRow] = {}
        for part in _batches(list(chunk_ids), 500):
            marks = ",".join("?" * len(part))
            for r in self._conn().execute(f"SELECT * FROM chunks WHERE chunk_id IN ({marks})", part):
                out[r[0]] = _chunk_row(r)
        return out

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored sentence vectors of these chunks (float32, unit length), for the chunks that have them: row i
        belongs to the i-th span of `assistant.ingest.chunking.split_sentences(chunk text)`."""
        out: dict[str, np.ndarray] = {}
        if not self._has_table("sentence_vectors"):
            return out  # an index from before them, opened read-only (a writer creates the table when it opens)
        for part in _batches(list(dict.fromkeys(chunk_ids)), 500):
            marks = ",".join("?" * len(part))
            for chunk_id, sentences, blob in self._conn().execute(
                    f"SELECT chunk_id, sentences, vectors FROM sentence_vectors WHERE chunk_id IN ({marks})", part):
                matrix = np.frombuffer(blob, dtype=SENTENCE_VECTOR_DTYPE).reshape(sentences, -1)
                out[chunk_id] = matrix.astype(np.float32)
        return out

    def _has_table(self, name: str) -> bool:
        return self._conn().execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() \
            is not None

    def chunks_by_article(self) -> Iterator[list[ChunkRow]]:
        """Every article's chunks in order, one article at a time (streamed: the record may hold millions)."""
        rows = self._conn().execute("SELECT * FROM chunks ORDER BY doc_id, ordinal")
        for _, group in itertools.groupby(rows, key=lambda r: r[1]):
            yield [_chunk_row(r) for r in group]

    def meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self._conn().execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,))
        return [_chunk_row(r) for r in rows]

    # -- writing ----------------------------------------------------------------------------------------------
    def commit(self, versions: Sequence[NewVersion], files: Sequence[tuple[str, str, int]] = ()) -> None:
        """Make new article versions visible together; `files` records (path, hash, articles) of whole files."""
        new_ids = [c.chunk_id for v in versions for c in v.chunks]
        with self._db() as db:
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in new_ids])
        if new_ids:
            self._upsert_vectors(versions)
        with self._db() as db:
            stale: list[str] = []
            for v in versions:
                a = v.article
                stale += [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (a.doc_id,))]
                _delete_sentence_vectors(db, a.doc_id)
                db.execute("DELETE FROM chunks WHERE doc_id=?", (a.doc_id,))
                db.execute("INSERT OR REPLACE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", _astuple(a))
                db.executemany(
                    "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)",
                    [(c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c.end, c.tokens, json.dumps(c.speakers))
                     for c in v.chunks],
                )
                _write_sentence_vectors(db, v)
            replaced = list(stale)
            fresh = set(new_ids)
            stale = [i for i in stale if i not in fresh]
            db.executemany("DELETE FROM pending WHERE chunk_id=?", [(i,) for i in new_ids])
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in stale])
            db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?)", list(files))
            if versions:
                db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
                db.execute("UPDATE meta SET value = ? WHERE key='writer_pid'", (str(os.getpid()),))
                self._keyword_write(db, replaced, [
                    (c.chunk_id, kw.keyword_text(v.article.title, c.text, kw.speakers_json(c.speakers)))
                    for v in versions for c in v.chunks])
        self._delete_vectors(stale)

    def set_speakers(self, speakers: dict[str, tuple[str, ...]], meta: dict[str, str] | None = None) -> None:
        """New speakers for some chunks (and `meta` values), their keyword text with them, in one transaction."""
        with self._db() as db:
            db.executemany("UPDATE chunks SET speakers=? WHERE chunk_id=?",
                           [(kw.speakers_json(names), chunk_id) for chunk_id, names in speakers.items()])
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list((meta or {}).items()))
            if speakers:
                db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
                db.execute("UPDATE meta SET value = ? WHERE key='writer_pid'", (str(os.getpid()),))
                ids = list(speakers)
                added = []
                for part in _batches(ids, 500):
                    marks = ",".join("?" * len(part))
                    rows = db.execute("SELECT c.chunk_id, a.title, c.text, c.speakers FROM chunks c JOIN articles a "
                                      f"ON a.doc_id = c.doc_id WHERE c.chunk_id IN ({marks})", part)
                    added += [(chunk_id, kw.keyword_text(title, text, names)) for chunk_id, title, text, names in rows]
                self._keyword_write(db, ids, added)

    def move(self, doc_id: str, path: str, record_no: int = 0) -> None:
        """An article whose file was renamed: same content, so only the record of where it lives changes."""
        with self._db() as db:
            old = db.execute("SELECT path FROM articles WHERE doc_id=?", (doc_id,)).fetchone()
            db.execute("UPDATE articles SET path=?, record_no=? WHERE doc_id=?", (path, record_no, doc_id))
            if old and old[0] and not Path(old[0]).exists():
                db.execute("DELETE FROM files WHERE path=?", (old[0],))

    def record_files(self, files: Sequence[tuple[str, str, int]]) -> None:
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?)", list(files))

    def remove(self, doc_ids: Sequence[str], forget_files: Sequence[str] = ()) -> int:
        """Delete articles (record first, vectors after); returns how many were there."""
        with self._db() as db:
            stale: list[str] = []
            removed = 0
            for doc_id in doc_ids:
                stale += [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
                _delete_sentence_vectors(db, doc_id)
                db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
                removed += db.execute("DELETE FROM articles WHERE doc_id=?", (doc_id,)).rowcount
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in stale])
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in forget_files])
            if removed:
                db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
                db.execute("UPDATE meta SET value = ? WHERE key='writer_pid'", (str(os.getpid()),))
                self._keyword_write(db, stale, [])
        self._delete_vectors(stale)
        return removed

    def repair(self) -> int:
        """Delete vectors that a crashed writer left outside the record; returns how many."""
        conn = self._conn()
        rows = conn.execute("SELECT chunk_id FROM pending WHERE chunk_id NOT IN (SELECT chunk_id FROM chunks)")
        orphans = [r[0] for r in rows]
        if orphans:
            log.info("repairing the index: deleting %d vectors left by an interrupted ingest", len(orphans))
        self._delete_vectors(orphans)
        with self._db() as db:
            db.execute("DELETE FROM pending")
        return len(orphans)

    def _upsert_vectors(self, versions: Sequence[NewVersion]) -> None:
        ids, vectors, docs, metas = [], [], [], []
        for v in versions:
            for chunk, vec, doc in zip(v.chunks, v.vectors, v.documents):
                ids.append(chunk.chunk_id)
                vectors.append(vec)
                docs.append(doc)
                metas.append({"doc_id": chunk.doc_id, "ordinal": chunk.ordinal})
        for part in range(0, len(ids), 4000):
            sl = slice(part, part + 4000)
            self.collection.upsert(ids=ids[sl], embeddings=np.asarray(vectors[sl], dtype=np.float32),
                                   documents=docs[sl] if self.documents else None, metadatas=metas[sl])

    def _delete_vectors(self, ids: Sequence[str]) -> None:
        for part in _batches(list(ids), 4000):
            self.collection.delete(ids=part)
        if ids:
            with self._db() as db:
                db.executemany("DELETE FROM pending WHERE chunk_id=?", [(i,) for i in ids])

    # -- searching --------------------------------------------------------------------------------------------
    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first."""
        return self.dense_search_many([vector], k)[0]

    def dense_search_many(self, vectors: Sequence[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
        """`dense_search` for several queries in one call (a two-part question asks three)."""
        if self.keyword_only:
            if not self._told_keyword_only:
                self._told_keyword_only = True
                log.warning("The index in %s is read-only for this user, and embedded Chroma cannot open a read-only "
                            "folder: answers come from keyword search alone. Make the folder writable for this user, "
                            "or serve its vectors from a Chroma server (NEWSDESK_CHROMA_HOST).", self.index_dir)
            return [[] for _ in vectors]
        self._follow_other_writers()
        try:  # no count() first: Chroma counts by scanning: 9 ms at 100k chunks, 60 ms at 1M
            res = self.collection.query(query_embeddings=[np.asarray(v, dtype=np.float32) for v in vectors],
                                        n_results=k, include=["distances"])
        except Exception:
            if self.collection.count() == 0:  # Chroma 1.x answers [] for an empty collection; older servers raise
                return [[] for _ in vectors]
            raise
        return [[(i, 1.0 - float(d)) for i, d in zip(ids, dists)] for ids, dists in zip(res["ids"], res["distances"])]

    def keyword_search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.keyword_index().search(query, k)

    # -- the keyword side (kept in the record: see keyword.py) ------------------------------------------------
    def keyword_index(self) -> KeywordIndex:
        """The BM25 index; it follows the record by itself. An index made before the keyword side lived in the
        record (or by another tokenisation) has it built from the record first: in the record when this process
        may write, else in memory for this process."""
        with self._keyword_lock:
            if self._keyword is None:
                if self.writable and not kw.is_current(self._conn()):
                    if self._writing:
                        self._build_keyword_side()
                    else:
                        with self.writing(wait=600):  # builds it
                            pass
                conn = self._connect_record() if self.writable else self._connect_record_read_only()
                if not kw.is_current(conn):
                    started = time.perf_counter()
                    kw.create_tables(conn, "temp")  # these shadow the record's older tables for this connection
                    conn.execute("BEGIN")
                    count = kw.rebuild(conn, self._keyword_rows())
                    conn.execute("COMMIT")
                    log.warning("The index in %s was made by an older version and its folder is read-only: built its "
                                "keyword side in memory (%d chunks, %.1fs). Open it once as a user who may write to it "
                                "to store it.", self.index_dir, count, time.perf_counter() - started)
                self._keyword = KeywordIndex(conn)
            return self._keyword

    def _build_keyword_side(self) -> None:
        """Under the write lock: (re)build the keyword side from the record when it is missing or out of date."""
        if kw.is_current(self._conn()):
            return
        started = time.perf_counter()
        with self._db() as db:
            count = kw.rebuild(db, self._keyword_rows())
        log.info("built the keyword index from the record (%d chunks, %.1fs): the index was made by an older "
                 "version of Newsdesk or of its keyword tokenisation", count, time.perf_counter() - started)
        shutil.rmtree(self.index_dir / "keyword", ignore_errors=True)  # the former bm25s files

    def _keyword_write(self, db: sqlite3.Connection, removed: Sequence[str], added: Sequence[tuple[str, str]]) -> None:
        """In the record's transaction, after the generation moved on: the keyword side follows the chunks (unless
        it is still to be built from the record, which the next writer or question does)."""
        if not kw.is_current(db):
            return
        generation = int(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
        kw.remove(db, removed, generation)
        kw.add(db, added)

    def _keyword_rows(self) -> Iterator[tuple[str, str]]:
        rows = self._conn().execute(
            "SELECT c.chunk_id, a.title, c.text, c.speakers FROM chunks c JOIN articles a ON a.doc_id = c.doc_id")
        for chunk_id, title, text, speakers in rows:
            yield chunk_id, kw.keyword_text(title, text, speakers)

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored vector (for exact-search checks and benchmarks)."""
        self._follow_other_writers()
        ids, vecs = [], []
        total = self.collection.count()
        for offset in range(0, total, 5000):
            got = self.collection.get(include=["embeddings"], limit=5000, offset=offset)
            ids += got["ids"]
            vecs.append(np.asarray(got["embeddings"], dtype=np.float32))
        return ids, (np.concatenate(vecs) if vecs else np.zeros((0, 384), dtype=np.float32))

    def describe(self) -> str:
        settings = getattr(self._client, "get_settings", lambda: None)()
        host = getattr(settings, "chroma_server_host", None) if settings else None
        if host:
            return f"Chroma server {host}:{getattr(settings, 'chroma_server_http_port', '')}"
        if self.keyword_only:
            return f"embedded Chroma in {self.index_dir / 'chroma'}, not opened: the folder is read-only for this " \
                   "user (keyword search only)"
        return f"embedded Chroma in {self.index_dir / 'chroma'}"


def _write_sentence_vectors(db: sqlite3.Connection, version: NewVersion) -> None:
    """In the transaction that writes the version's chunks, so a chunk never lacks its sentences or outlives them."""
    if version.sentence_vectors is None:
        return
    db.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?,?,?)",
                   [(c.chunk_id, len(m), np.ascontiguousarray(m, dtype=SENTENCE_VECTOR_DTYPE).tobytes())
                    for c, m in zip(version.chunks, version.sentence_vectors)])


def _delete_sentence_vectors(db: sqlite3.Connection, doc_id: str) -> None:
    """Before the article's chunk rows go (same transaction)."""
    db.execute("DELETE FROM sentence_vectors WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id=?)",
               (doc_id,))


def _chunk_row(r: tuple) -> ChunkRow:
    return ChunkRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(json.loads(r[7])))


def _astuple(a: ArticleRow) -> tuple:
    return (a.doc_id, a.title, a.source, a.path, a.url, a.author, a.date, a.record_no, a.content_hash, a.dup_key,
            a.chunk_count, a.indexed_at)


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
