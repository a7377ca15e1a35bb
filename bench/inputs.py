"""One place decides the benchmark's inputs from the parsed arguments, and checks them before any timing starts.

Every failure is an `InputError` whose one-line message says what to pass; `python -m bench` prints it and exits
with status 2. The checks run cheapest first (output paths, the question file, the corpus folder, then the
articles), and nothing on that path imports a model, torch or a vector store, so a wrong argument is reported in
well under a second.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .corpus import Corpus, CorpusArticle, Question


class InputError(Exception):
    """An input the bench cannot use; the message names what to pass instead."""


def check_writable(path: Path, option: str, folder: bool = False) -> None:
    """`path` (a file, or a folder when `folder`) can be written: its folder is made and a file created in it and
    removed again, so the answer is the file system's, not a guess from permission bits."""
    what = "FOLDER" if folder else "FILE"
    if not folder and path.is_dir():
        raise InputError(f"{option} {path} is a folder; pass {option} {what}, a file path")
    target = path if folder else path.parent
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".bench-write-check-"):
            pass
        if not folder and path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "permission denied", str(path))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        blocker = next((p for p in [target, *target.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            reason = f"{blocker} is a file, not a folder"
        raise InputError(f"cannot write {path} ({reason}); pass {option} {what} somewhere you can write") from exc


@dataclass(frozen=True)
class FileQuestion:
    text: str
    gold_docs: tuple[str, ...] = ()


def load_question_file(path: Path, max_chars: int) -> list[FileQuestion]:
    """`--questions-file`: a `.jsonl` file is read as the eval's question format (`assistant.evaluation`, the file
    `newsdesk eval` reads: one object per line with `id`, `question`, optional `gold_docs`); any other file holds
    one question per line (blank lines and lines starting with `#` skipped)."""
    option = f"--questions-file {path}"
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{option}: no such file; pass --questions-file FILE (.jsonl in the eval's format, "
                         "or one question per line)") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"{option}: cannot read it ({reason}); pass --questions-file FILE, a UTF-8 text file") from exc
    if path.suffix.lower() == ".jsonl":
        from assistant.evaluation import load_questions

        try:
            loaded = load_questions(path)
        except ValueError as exc:
            raise InputError(f"{option}: {str(exc).replace(str(path) + ':', 'line ', 1)}; pass a .jsonl file with one "
                             "such object per line (as eval/dev.jsonl), or a .txt file with one question per line") from exc
        out = []
        for q in loaded:
            if not isinstance(q.question, str) or not q.question.strip():
                raise InputError(f"{option}: question {q.id} has no text; every line needs a \"question\" string")
            out.append(FileQuestion(q.question.strip(), tuple(q.gold_docs)))
    else:
        lines = [(n, line.strip()) for n, line in enumerate(raw.splitlines(), 1)]
        lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
        if lines and all(line.startswith("{") and line.endswith("}") for _, line in lines):
            raise InputError(f"{option}: its lines are JSON objects; name it .jsonl to read them in the eval's format, "
                             "or write one plain question per line")
        out = [FileQuestion(line) for _, line in lines]
    if not out:
        raise InputError(f"{option} holds no questions; pass --questions-file FILE with at least one question")
    for n, q in enumerate(out, 1):
        if len(q.text) > max_chars:
            raise InputError(f"{option}: question {n} is {len(q.text):,} characters, over Newsdesk's limit of "
                             f"{max_chars:,}; shorten it (or raise NEWSDESK_MAX_QUESTION_CHARS)")
    return out


@dataclass
class Inputs:
    """Everything the workers are given, decided here once."""

    corpus: Corpus  # the files picked (those that give an article)
    articles: list[CorpusArticle] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): no article, left out of the copy
    questions: list[Question] = field(default_factory=list)
    calibration: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def describe(self) -> dict:
        return {"corpus": self.corpus.name, "corpus_root": self.corpus.root, "files": len(self.corpus.files),
                "articles": len(self.articles), "unreadable_files": self.failed[:20],
                "questions": len(self.questions), "calibration_texts": len(self.calibration),
                "corpus_fingerprint": self.fingerprint,
                "question_kinds": {k: sum(q.kind == k for q in self.questions)
                                   for k in ("headline", "sentence", "dev", "file")}}


def decide(args, limit: int | None, n_questions: int | None, outputs: list[tuple[Path, str]]) -> Inputs:
    """Check the arguments and build the inputs: output paths, question file, corpus, articles, questions,
    calibration texts. Raises InputError (one line, says what to pass) before anything slow has run."""
    from . import corpus as c

    for path, option in outputs:
        check_writable(path, option, folder=option == "--work")
    file_questions = None
    if getattr(args, "questions_file", None):
        from assistant.settings import Settings

        file_questions = load_question_file(args.questions_file, Settings().max_question_chars)
    found = c.find_corpus(args.corpus, args.shared, shared_given=args.shared_given).pick(limit)
    articles, readable, failed = c.read_articles(found)
    picked = c.Corpus(found.name, found.root, readable, found.pinned)
    if file_questions is not None:
        questions = questions_from_file(file_questions, articles)[:n_questions or None]
    else:
        questions = c.make_questions(articles, n_questions or 200, args.dev_share)
    if not questions:
        raise InputError(f"{picked.root}: no question could be made from its articles; pass --questions-file FILE")
    return Inputs(picked, articles, failed, questions, c.calibration_texts(articles), c.fingerprint(readable))


def questions_from_file(items: list[FileQuestion], articles: list[CorpusArticle]) -> list[Question]:
    """File questions; one whose single gold doc is a file of the corpus gets the retrieval hit check (a gold doc
    matches as a path suffix, as in `newsdesk eval`)."""
    from assistant.evaluation import is_gold

    from .corpus import Question

    rels = sorted({a.rel for a in articles})
    out = []
    for q in items:
        path = ""
        if len(q.gold_docs) == 1:
            path = next((r for r in rels if is_gold(r, q.gold_docs)), "")
        out.append(Question(q.text, "file", path))
    return out
