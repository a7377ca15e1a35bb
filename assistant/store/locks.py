"""One exclusive lock across processes: a lock file held with flock (released by the OS if the holder dies)."""
from __future__ import annotations

import contextlib
import fcntl
import time
from pathlib import Path
from typing import Iterator

from ..errors import LockTimeout


@contextlib.contextmanager
def exclusive(path: Path, wait: float, poll: float = 0.1) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(str(path)) from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
