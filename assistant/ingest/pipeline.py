"""Syncing files with the index: diff by content hash, parse, chunk, embed, commit, remove; an IngestReport."""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..sources.articles import SUPPORTED_SUFFIXES, Article, read_articles, too_large
from .chunking import chunk_text, embedding_text, split_sentences
from .embedder import Embedder
from ..errors import ArticleError
from .speakers import chunk_speakers, refresh_speakers
from ..store.record import ArticleRow, ChunkRow, NewVersion, Store
from ..types import IngestReport

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, message)
BATCH_CHUNKS = 256
NOT_ARTICLES = {"README", "LICENSE", "LICENCE", "CHANGELOG", "COPYING"}  # chunks embedded and committed together


@dataclass
class _Pending:
    """Parsed articles waiting to be embedded, with the files they complete."""

    items: list[tuple[Article, list[ChunkRow], list[str], str]] = field(default_factory=list)  # (article, chunks, texts, action)
    files: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(len(i[1]) for i in self.items)


def discover(paths: Sequence[str | os.PathLike]) -> tuple[list[Path], list[Path], list[tuple[str, str]]]:
    """(files, folders, problems): supported files under the given paths, symlink loops and hidden files skipped.

    A folder that cannot be read is a problem (with its reason), not an empty folder: the ingest keeps what was
    indexed from it. Broken links, pipes and other non-files with an article's name are listed as files, so the
    ingest reports them by name."""
    files: list[Path] = []
    folders: list[Path] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def unreadable(exc: OSError) -> None:
        problems.append((str(exc.filename), f"cannot read the folder: {os_reason(exc)}"))

    for raw in paths:
        path = Path(raw).expanduser()
        try:
            path.stat()
        except FileNotFoundError:
            problems.append((str(raw), broken_link(path) if path.is_symlink() else "no such file or folder"))
            continue
        except OSError as exc:  # e.g. inside a folder this user may not enter
            if exc.errno == errno.ELOOP:  # a link in a loop: a file the ingest reports (once, if a folder has it too)
                link = Path(os.path.abspath(path))
                if str(link) not in seen:
                    seen.add(str(link))
                    files.append(link)
            else:
                problems.append((str(raw), f"cannot read it: {os_reason(exc)}"))
            continue
        path = path.resolve()
        if not path.is_dir():  # a file (or a pipe, device...: the ingest says why it is not read)
            if str(path) not in seen:
                seen.add(str(path))
                files.append(path)
            continue
        folders.append(path)
        visited: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(path, onerror=unreadable, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in visited:  # a symlink loop
                dirnames[:] = []
                continue
            visited.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                if Path(name).stem.upper() in NOT_ARTICLES:
                    continue  # a folder's README is about the folder, not news (name the file to ingest it)
                full = Path(dirpath) / name
                if str(full) not in seen:
                    seen.add(str(full))
                    files.append(full)
    return files, folders, problems


def os_reason(exc: OSError) -> str:
    """'permission denied', 'no such file or directory'...: the OS's words, in a sentence's case."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def broken_link(path: Path) -> str:
    return f"broken link: it points to {_link_target(path)}, which does not exist"


def symlink_loop(path: Path) -> str:
    """Why a link that leads back to itself (a.txt -> b.txt -> a.txt) is not read."""
    return (f"symlink loop: it points to {_link_target(path)}, which leads back to it; point the link at a file or "
            "delete it")


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def dup_key(text: str) -> str:
    """Same key for the same story stored twice (case, spacing and punctuation ignored)."""
    norm = re.sub(r"\W+", "", text.lower())[:4000]
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:16]


# Bump when chunking or the embedder change: every article is then re-chunked and re-embedded. Speaker rules have
# their own version (speakers.SPEAKER_RULES), the keyword tokenisation too (store.keyword.KEYWORD_VERSION): both
# are redone from the record, with no model run.
# 9: sentence vectors stored with each chunk (an index from before gets them at its next ingest)
# 10: a sentence's vector is pooled from its chunk's forward pass (in context) instead of a pass of its own
PIPELINE = "10"


def indexed_hash(article: Article, budget: int) -> str:
    """What the record keeps: the article's content plus how it was indexed, so a new pipeline re-indexes it."""
    return hashlib.sha256(f"{article.content_hash}:{PIPELINE}:{budget}".encode()).hexdigest()[:24]


def build_chunks(article: Article, budget: int) -> tuple[list[ChunkRow], list[str]]:
    """The chunk rows of an article (ids carry its content hash) and the texts to embed for them."""
    version = indexed_hash(article, budget)[:8]
    rows, texts = [], []
    chunks = chunk_text(article.doc_id, article.text, budget)
    speakers = chunk_speakers(article.text, split_sentences(article.text), [(c.start, c.end) for c in chunks])
    for chunk, names in zip(chunks, speakers):
        rows.append(ChunkRow(f"{article.doc_id}:{version}:{chunk.ordinal}", article.doc_id, chunk.ordinal,
                             chunk.text, chunk.start, chunk.end, chunk.tokens, tuple(names)))
        texts.append(embedding_text(article.title, chunk.text))
    return rows, texts


def sentence_spans(chunk: ChunkRow, text: str) -> list[tuple[int, int]]:
    """Where the chunk's sentences lie in its embedding text (`text` ends with the chunk's own): exactly
    `split_sentences(chunk.text)`, the units the extractive answerer picks among (it splits `Passage.text`, the
    chunk text, the same way)."""
    shift = len(text) - len(chunk.text)
    return [(shift + s, shift + e) for s, e in split_sentences(chunk.text)]


class Ingestor:
    """Brings the index in step with files, folders or ready-made articles."""

    def __init__(self, store: Store, embedder: Embedder, chunk_tokens: int = 170, max_file_bytes: int | None = None):
        self.store = store
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.max_file_bytes = max_file_bytes
        self._seen_docs: set[str] = set()  # articles met in the current run (a renamed file is not a removal)

    def ingest_paths(self, paths: Sequence[str | os.PathLike], progress: Progress | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files, folders, problems = discover(paths)
        report.failed.extend(problems)
        unseen = [p for p, _ in problems]  # folders that could not be read: what came from them stays
        progress = progress or (lambda done, total, msg: None)
        files = [f for f in files if not _index_data(f, self.store.index_dir)]  # never index the index itself
        self._seen_docs = set()
        with self.store.writing():
            refresh_speakers(self.store)
            pending = _Pending()
            seen_paths = set()
            for n, path in enumerate(files, 1):
                progress(n - 1, len(files), f"reading {path.name}")
                seen_paths.add(str(path))
                self._take_file(path, report, pending)
                if pending.chunk_count >= BATCH_CHUNKS:
                    self._flush(pending, report)
                    pending = _Pending()
            self._flush(pending, report)
            gone = [a for folder in folders for a in self.store.articles_under(str(folder))
                    if a.path not in seen_paths and a.doc_id not in self._seen_docs
                    and not any(_inside(a.path, p) for p in unseen)]
            self._remove(gone, report)
            progress(len(files), len(files), "done")
        report.seconds = time.perf_counter() - started
        return report

    def ingest_articles(self, articles: Iterable[Article], progress: Progress | None = None) -> IngestReport:
        """Articles that did not come from a watched file (pasted text, URLs, feeds)."""
        started = time.perf_counter()
        report = IngestReport()
        with self.store.writing():
            refresh_speakers(self.store)
            pending = _Pending()
            for article in articles:
                self._take_article(article, report, pending)
                if pending.chunk_count >= BATCH_CHUNKS:
                    self._flush(pending, report)
                    pending = _Pending()
            self._flush(pending, report)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, doc_ids: Sequence[str]) -> IngestReport:
        """Remove articles by id; their files are forgotten too, so ingesting the file again brings them back."""
        report = IngestReport()
        with self.store.writing():
            rows = list(self.store.articles_by_id(doc_ids).values())
            report.removed += self.store.remove([r.doc_id for r in rows], forget_files=sorted({r.path for r in rows if r.path}))
            report.changes += [("removed", r.source) for r in rows]
        return report

    # -- steps ----------------------------------------------------------------------------------------------------
    def _take_file(self, path: Path, report: IngestReport, pending: _Pending) -> None:
        where = str(path)
        # Decided from stat() alone, before a byte is read: a pipe would block the ingest, a huge file would be
        # read (hashed) in full only to be refused.
        try:
            info = path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                reason = symlink_loop(path)
            elif isinstance(exc, FileNotFoundError) and path.is_symlink():
                reason = broken_link(path)
            else:
                reason = f"cannot read the file: {os_reason(exc)}"
            report.failed.append((where, reason))
            return
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a pipe" if stat.S_ISFIFO(info.st_mode) else \
                "a socket" if stat.S_ISSOCK(info.st_mode) else "a device or other special file"
            report.failed.append((where, f"not a regular file ({kind}); only regular files are read"))
            return
        if self.max_file_bytes is not None and info.st_size > self.max_file_bytes:
            report.failed.append((where, too_large(info.st_size, self.max_file_bytes)))
            return
        try:
            data_hash = f"{_file_hash(path)}:{PIPELINE}:{self.chunk_tokens}"  # same bytes, same pipeline: skip
        except OSError as exc:
            report.failed.append((where, f"cannot read the file: {os_reason(exc)}"))
            return
        before = self.store.articles_from(where)
        if self.store.file_hash(where) == data_hash:
            report.unchanged += len(before)
            return
        try:
            parsed = read_articles(path, max_bytes=self.max_file_bytes)
        except ArticleError as exc:
            report.failed.append((where, str(exc)))  # whatever was indexed from it before stays
            return
        # Records left out of a .json/.jsonl ("feed.jsonl:3"), reported when the file is read; its good ones go in.
        report.failed.extend(parsed.skipped)
        articles = parsed.articles
        produced = {a.doc_id for a in articles}
        for article in articles:
            self._take_article(article, report, pending)
        # An article whose record is broken now keeps its indexed version, as a file that breaks does.
        dropped = [a for a in before if a.doc_id not in produced and a.record_no not in parsed.skipped_records]
        self._remove(dropped, report)
        pending.files.append((where, data_hash, len(articles)))

    def _take_article(self, article: Article, report: IngestReport, pending: _Pending) -> None:
        self._seen_docs.add(article.doc_id)
        old = self.store.article(article.doc_id)
        if old is not None and old.content_hash == indexed_hash(article, self.chunk_tokens):
            if article.path and old.path != article.path:
                self.store.move(article.doc_id, article.path, article.record)  # a renamed file, same story
            report.unchanged += 1
            return
        if any(item[0].doc_id == article.doc_id for item in pending.items):
            report.unchanged += 1  # the same article twice in one batch (same URL): keep the first
            return
        chunks, texts = build_chunks(article, self.chunk_tokens)
        if not chunks:
            report.failed.append((article.source, "the article has no text to index"))
            return
        pending.items.append((article, chunks, texts, "updated" if old is not None else "added"))

    def _flush(self, pending: _Pending, report: IngestReport) -> None:
        if not pending.items and not pending.files:
            return
        texts = [t for item in pending.items for t in item[2]]
        chunks_all = [c for item in pending.items for c in item[1]]
        # one forward pass gives the chunks' vectors and their sentences', so answering embeds only the question
        vectors, sentence_vectors, read = self.embedder.embed_with_spans(
            texts, [sentence_spans(c, t) for c, t in zip(chunks_all, texts)])
        versions, offset = [], 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for article, chunks, chunk_texts, action in pending.items:
            row = ArticleRow(article.doc_id, article.title, article.source, article.path, article.url,
                             article.author, article.date, article.record,
                             indexed_hash(article, self.chunk_tokens),
                             dup_key(article.text), len(chunks), now)
            versions.append(NewVersion(row, chunks, vectors[offset:offset + len(chunks)], chunk_texts,
                                       sentence_vectors[offset:offset + len(chunks)]))
            offset += len(chunks)
        self.store.commit(versions, pending.files)
        for article, chunks, _, action in pending.items:
            if action == "added":
                report.added += 1
            else:
                report.updated += 1
            report.changes.append((action, article.source))
            report.chunks += len(chunks)
        report.tokens += read

    def _remove(self, rows: Sequence[ArticleRow], report: IngestReport) -> None:
        if not rows:
            return
        forget = sorted({r.path for r in rows if r.path and _missing(r.path)})
        report.removed += self.store.remove([r.doc_id for r in rows], forget_files=forget)
        report.changes += [("removed", r.source) for r in rows]


UPLOADS = "uploads"  # the one folder inside an index that holds articles (the web page's uploads)


def _index_data(path: Path, index_dir: Path) -> bool:
    """A file of the index's own (record, vectors, feeds.json), as opposed to an uploaded article."""
    # os.path.realpath, not Path.resolve(): on Python 3.11 resolve() raises RuntimeError on a symlink loop, and a
    # loop is one bad file to report, not the end of the ingest.
    try:
        inside = Path(os.path.realpath(path)).relative_to(os.path.realpath(index_dir))
    except ValueError:
        return False
    return inside.parts[0] != UPLOADS


def _missing(path: str) -> bool:
    """The file is gone (not merely out of reach: Path.exists() raises on a folder that cannot be entered)."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _inside(path: str, folder: str) -> bool:
    return bool(path) and (path == folder or path.startswith(folder.rstrip(os.sep) + os.sep))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    # O_NONBLOCK: a file swapped for a pipe after the stat() must not block the ingest.
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(0, "not a regular file")
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:24]
