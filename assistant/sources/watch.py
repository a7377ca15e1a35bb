"""Keeping the index in step with folders: filesystem events (watchdog), debounced, and a periodic full reconcile.

Events only say which paths to look at again. Paths are collected until the folder has been quiet for `debounce`
seconds (or `max_delay` has passed since the first one), then looked at once: an editor's write-to-temp-and-rename,
or a folder copied in, becomes one small incremental ingest. Because events can be missed (a full inotify queue, a
network drive, changes made while nothing was watching), the whole folder is reconciled at start and every
`reconcile_every` seconds; that ingest is incremental too, so an unchanged folder costs a hash per file.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from .articles import SUPPORTED_SUFFIXES
from ..errors import IndexBusyError, NewsdeskError
from ..ingest.pipeline import NOT_ARTICLES  # the same files a folder ingest skips (README, LICENSE...)
from ..types import IngestReport

log = logging.getLogger(__name__)

_IGNORED_EVENTS = ("opened", "closed_no_write")
_MAX_WAIT = 3600.0  # Condition.wait cannot take infinity


@dataclass(frozen=True)
class WatchStatus:
    """What a `Watcher` is doing, for the CLI and the web page's Library tab. Times are UTC."""

    folders: tuple[str, ...]
    running: bool
    mode: str  # "filesystem events" or "polling" (when the OS cannot deliver events)
    started_at: datetime | None
    last_event_at: datetime | None  # the last filesystem event seen
    last_change_at: datetime | None  # the last time the index changed because of these folders
    last_reconcile_at: datetime | None
    pending: int  # paths waiting for the folder to go quiet
    added: int  # articles added, updated and removed since start
    updated: int
    removed: int
    last_error: str  # "" when the last ingest worked


class Watcher:
    """Watch folders and keep the index in step, on a background thread: `start()`, `status()`, `stop()`.

    `assistant` is an `Assistant` (anything with `ingest`, `remove`, `store` and `index_dir`); `on_report` is called
    on the watcher's thread with each `IngestReport` that changed something or failed.
    """

    def __init__(self, assistant, folders: Sequence[str | os.PathLike], debounce: float = 1.0,
                 reconcile_every: float = 300.0, on_report: Callable[[IngestReport], None] | None = None,
                 max_delay: float | None = None, observer_factory: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if not folders:
            raise NewsdeskError("Name at least one folder to watch.")
        self.assistant = assistant
        # realpath, not resolve(): a folder that is a symlink loop is refused by start(), not a RuntimeError here
        self.folders = tuple(Path(os.path.realpath(Path(f).expanduser())) for f in folders)
        self.debounce = max(0.0, debounce)
        self.reconcile_every = reconcile_every if reconcile_every and reconcile_every > 0 else math.inf
        # Under a steady stream of writes the folder never goes quiet; do not wait for ever.
        self.max_delay = max_delay if max_delay is not None else max(10 * self.debounce, 5.0)
        self.on_report = on_report
        self._observer_factory = observer_factory
        self._clock = clock
        self._index_dir = str(Path(assistant.index_dir).resolve())
        self._cond = threading.Condition()
        self._pending: dict[str, float] = {}  # path -> when it was first seen
        self._last_event = 0.0
        self._next_reconcile = -math.inf  # at once: the start-up reconcile
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._observer = None
        self._mode = ""
        self._started_at = self._last_event_at = self._last_change_at = self._last_reconcile_at = None
        self._counts = [0, 0, 0]
        self._last_error = ""
        self._told_failures: set[tuple[str, str]] = set()  # a broken file is reported once, not every reconcile

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "Watcher":
        """Begin watching (returns at once; the first reconcile runs on the watcher's thread)."""
        if self._thread is not None:
            return self
        for folder in self.folders:
            if not folder.is_dir():
                raise NewsdeskError(f"Cannot watch {folder}: no such folder.")
        self.assistant.store.check_writable()  # say so now, not in the status of every pass
        self._stopping = False
        self._next_reconcile = -math.inf  # whatever changed while nothing was watching
        self._observer = self._start_observer()
        self._started_at = _utcnow()
        self._thread = threading.Thread(target=self._run, name="newsdesk-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; an ingest in progress is finished first (up to `timeout` seconds)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> WatchStatus:
        with self._cond:
            return WatchStatus(tuple(str(f) for f in self.folders), self.running, self._mode, self._started_at,
                               self._last_event_at, self._last_change_at, self._last_reconcile_at,
                               len(self._pending), *self._counts, self._last_error)

    def _start_observer(self):
        handler = _EventHandler(self)
        if self._observer_factory is not None:
            observer = self._observer_factory()
            self._mode = "custom"
        else:
            from watchdog.observers import Observer

            observer = Observer()
            self._mode = "filesystem events"
        for folder in self.folders:
            observer.schedule(handler, str(folder), recursive=True)
        try:
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit; polling is slower but works everywhere
            from watchdog.observers.polling import PollingObserver

            log.warning("filesystem events are not available (%s); polling the folders instead", exc)
            observer = PollingObserver(timeout=max(1.0, self.debounce))
            for folder in self.folders:
                observer.schedule(handler, str(folder), recursive=True)
            observer.start()
            self._mode = "polling"
        return observer

    # -- events (called on the observer's thread) -------------------------------------------------------------------
    def note(self, paths: Sequence[str]) -> None:
        """Paths that may have changed; they are looked at once the folder is quiet."""
        now = self._clock()
        paths = [os.fsdecode(p) for p in paths]
        # An index kept inside a watched folder must not feed on itself.
        paths = [p for p in paths if p != self._index_dir and not p.startswith(self._index_dir + os.sep)]
        if not paths:
            return
        with self._cond:
            for path in paths:
                self._pending.setdefault(path, now)
            self._last_event = now
            self._last_event_at = _utcnow()
            self._cond.notify_all()

    # -- the watcher's thread ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (wait := self._seconds_to_next_job()) > 0:
                    self._cond.wait(min(wait, _MAX_WAIT))
                if self._stopping:
                    return
                batch: set[str] = set()
                if self._pending and self._batch_due(self._clock()):
                    batch, self._pending = set(self._pending), {}
            if batch:
                self._guarded(self._apply, batch)
            if self._clock() >= self._next_reconcile:
                self._guarded(self._reconcile, None)

    def _seconds_to_next_job(self) -> float:
        now = self._clock()
        due = self._next_reconcile
        if self._pending:
            due = min(due, self._last_event + self.debounce, min(self._pending.values()) + self.max_delay)
        return due - now

    def _batch_due(self, now: float) -> bool:
        return now >= self._last_event + self.debounce or now >= min(self._pending.values()) + self.max_delay

    def _guarded(self, job: Callable, batch: set[str] | None) -> None:
        try:
            job(batch) if batch is not None else job()
        except IndexBusyError as exc:
            # Another writer holds the index: look at these paths again after the next quiet spell.
            self._set_error(str(exc))
            if batch:
                self.note(sorted(batch))
            else:
                self._next_reconcile = self._clock() + max(self.debounce, 5.0)
        except NewsdeskError as exc:
            self._set_error(str(exc))
        except Exception as exc:  # noqa: BLE001 - a background thread has no caller to raise to
            log.exception("the folder watcher hit an unexpected error; it keeps watching")
            self._set_error(f"unexpected error: {type(exc).__name__}: {exc}")

    def _apply(self, batch: set[str]) -> None:
        """Bring the index in step with these paths: gone ones removed first (a rename is remove + add)."""
        present: list[Path] = []
        gone: list[str] = []
        for raw in sorted(batch):
            path = Path(raw)
            if path.is_dir():
                if not self._hidden(path):
                    present.append(path)
            elif path.is_file():
                if self._wanted(path):
                    present.append(path)
            else:
                gone.append(raw)
        if any(p.resolve() != p for p in present):
            # A symlink inside the folder: a single-file ingest would record the target's path, a folder ingest
            # the link's. Reconcile the folder so the record keeps one of them.
            self._reconcile()
            return
        reports: list[IngestReport] = []
        store = self.assistant.store
        rows = {r.doc_id: r for p in gone for r in store.articles_from(p) + store.articles_under(p)}
        if rows:
            reports.append(self.assistant.remove(list(rows)))
        if present:
            reports.append(self.assistant.ingest(present))
        if reports:
            self._record(sum(reports, IngestReport()))

    def _reconcile(self) -> None:
        try:
            report = self.assistant.ingest(list(self.folders))
        finally:
            self._next_reconcile = self._clock() + self.reconcile_every
            with self._cond:
                self._last_reconcile_at = _utcnow()
        self._record(report, everything=True)

    def _record(self, report: IngestReport, everything: bool = False) -> None:
        with self._cond:
            self._counts[0] += report.added
            self._counts[1] += report.updated
            self._counts[2] += report.removed
            if report.added or report.updated or report.removed:
                self._last_change_at = _utcnow()
            self._last_error = "; ".join(f"{p}: {why}" for p, why in report.failed[:3])
        new_failures = set(report.failed) - self._told_failures
        self._told_failures = set(report.failed) if everything else self._told_failures | new_failures
        if self.on_report and (report.changes or new_failures):
            self.on_report(report)

    def _set_error(self, message: str) -> None:
        with self._cond:
            self._last_error = message

    def _root(self, path: Path) -> Path | None:
        for folder in self.folders:
            if path == folder or folder in path.parents:
                return folder
        return None

    def _hidden(self, path: Path) -> bool:
        root = self._root(path)
        rel = path.relative_to(root).parts if root else path.parts[-1:]
        return any(part.startswith(".") for part in rel)

    def _wanted(self, path: Path) -> bool:
        """The files a folder ingest would pick up: supported, not hidden, not a README or LICENSE."""
        return (path.suffix.lower() in SUPPORTED_SUFFIXES and not self._hidden(path)
                and path.stem.upper() not in NOT_ARTICLES)


class _EventHandler:
    """What watchdog calls with each event; only the paths matter."""

    def __init__(self, watcher: Watcher):
        self.watcher = watcher

    def dispatch(self, event) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's own time stamp; the files inside report for themselves
        paths = [event.src_path] + ([event.dest_path] if getattr(event, "dest_path", "") else [])
        self.watcher.note(paths)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
