"""Uploaded files, kept in <index>/uploads: safe names, the size limit, and what becomes of a file the ingest rejects.

The web page (and its `/ingest` endpoint) hand their uploads here; the folder is watched like any other, so an
upload that is kept is indexed again by "Update index", and one that is not kept must not linger there.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import ArticleError
from ..types import ArticleInfo, IngestReport
from .articles import SUPPORTED_SUFFIXES, too_large

MAX_UPLOAD_NAME = 100
Ingest = Callable[[list[Path]], IngestReport]
Indexed = Callable[[str], object]  # a file's path -> its indexed articles (empty when none)


def safe_upload_name(name: str) -> str:
    """A file name safe to create in the uploads folder, or ArticleError: no folders, no NUL, supported suffix."""
    name = unicodedata.normalize("NFKC", (name or "").replace("\x00", ""))
    name = re.split(r"[\\/]", name)[-1]  # drops any folder part: "../x.txt", "/etc/x.txt", "C:\\x.txt"
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    stem = stem.lstrip(".")[:MAX_UPLOAD_NAME] or "upload"
    return stem + suffix.lower()


class Uploads:
    """The uploads folder of one index."""

    def __init__(self, folder: str | Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def store(self, files: Iterable[tuple[str | Path, str]]
              ) -> tuple[list[Path], list[tuple[str, str]], dict[Path, Path]]:
        """Copy (uploaded file, its original name) pairs in under safe names: (copied, refused with reasons, earlier
        uploads of the same names, moved aside to hidden files until the new ones are accepted)."""
        copied: list[Path] = []
        refused: list[tuple[str, str]] = []
        earlier: dict[Path, Path] = {}
        for src, original in files:
            src = Path(src)
            original = original or src.name
            try:
                name = safe_upload_name(original)
                size = src.stat().st_size
                if size > self.max_bytes:
                    raise ArticleError(too_large(size, self.max_bytes))
                self.folder.mkdir(parents=True, exist_ok=True)
                target = (self.folder / name).resolve()
                if target.parent != self.folder.resolve():
                    raise ArticleError("the file name is not allowed")
                if target.is_file() and not target.is_symlink() and target not in copied:
                    # A new version of an earlier upload; the earlier one comes back if the new one is rejected.
                    aside = target.with_name(f".{target.name}.earlier")  # hidden: no ingest reads it
                    os.replace(target, aside)
                    earlier[target] = aside
                elif target.is_symlink() or target.exists():
                    target.unlink()
                shutil.copyfile(src, target)
                if target not in copied:
                    copied.append(target)
            except ArticleError as exc:
                refused.append((str(original), str(exc)))
            except OSError as exc:
                refused.append((str(original), f"cannot store the upload: {exc.strerror or exc}"))
        return copied, refused, earlier

    def ingest(self, files: Iterable[tuple[str | Path, str]], ingest: Ingest, indexed: Indexed) -> IngestReport:
        """Store the uploads and ingest them; the report lists the refused ones first, and says which were not kept."""
        copied, refused, earlier = self.store(files)
        report = IngestReport()
        try:
            if copied:
                report = ingest(copied)
            self.drop_rejected(report, indexed, earlier)
        finally:
            for aside in earlier.values():  # the new versions were accepted (or the ingest did not run)
                aside.unlink(missing_ok=True)
        return IngestReport(failed=refused) + report  # the refused uploads first

    def drop_rejected(self, report: IngestReport, indexed: Indexed, earlier: dict[Path, Path] | None = None) -> None:
        """An upload the ingest rejected (empty, binary...) is not kept, or every "Update index" would report it
        again: its earlier version comes back if it replaced one, else the file is deleted (unless articles are
        indexed from it). The report says which."""
        earlier = earlier if earlier is not None else {}
        uploads = self.folder.resolve()
        for i, (path, reason) in enumerate(report.failed):
            file = Path(path)
            if file.parent != uploads:
                continue
            if file in earlier:
                os.replace(earlier.pop(file), file)
                note = "the upload was not kept; the earlier upload of this name stays"
            elif file.is_file() and not file.is_symlink() and not indexed(str(file)):
                file.unlink()
                note = "the upload was removed"
            else:
                continue
            report.failed[i] = (path, f"{reason}; {note}")

    def delete_removed(self, articles: Sequence[ArticleInfo], removed: Iterable[str]) -> None:
        """Delete the uploaded files whose articles are all being removed (or updating would bring them back)."""
        chosen = set(removed)
        uploads = self.folder.resolve()
        for path in {a.path for a in articles if a.doc_id in chosen and a.path}:
            file = Path(path)
            others = [a for a in articles if a.path == path and a.doc_id not in chosen]
            if not others and file.parent == uploads and file.is_file():
                file.unlink()
