#!/usr/bin/env python3
"""Check the evaluation question sets: eval/dev.jsonl (with the former held-out questions, heldout-NNN) and the frozen
eval/unseen.jsonl.

Usage:
    python eval/check_questions.py [SHARED_DIR]

SHARED_DIR is the folder that holds ``corpora/bbc/...`` and ``seeds/...``; it
defaults to ``../shared`` next to the repository. Gold paths are suffixes:
``bbc/...`` resolves under SHARED_DIR/corpora, ``seeds/...`` under SHARED_DIR,
``fictional/...`` under eval/ (news about invented names, written for the project).

Every problem found is printed and the exit status is 1; a clean run prints the
question counts per type and exits 0. Standard library only, so it runs without
the project's dependencies.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
REPO_DIR = EVAL_DIR.parent
QUESTION_FILES = ("dev.jsonl", "unseen.jsonl")
# heldout-, unans-, extra-, fict-NNN: added to dev
ID_PREFIXES = {"dev.jsonl": ("dev", "heldout", "unans", "extra", "fict"), "unseen.jsonl": ("unseen",)}
FIELDS = ("id", "question", "type", "gold_docs", "answer_keywords")
TYPES = ("factoid", "paraphrase", "quote", "multi", "null", "offtopic")  # offtopic: unanswerable, far from the corpus
MAX_KEYWORDS = 3


def resolve(shared: Path, gold: str) -> Path | None:
    """Map a gold suffix such as ``bbc/tech/012.txt`` to a file in the shared folder."""
    if gold.startswith("bbc/"):
        return shared / "corpora" / gold
    if gold.startswith("seeds/"):
        return shared / gold
    if gold.startswith("fictional/"):
        return EVAL_DIR / gold
    return None


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def headline_index(shared: Path) -> dict[str, list[str]]:
    """Headline (first line, lower-cased) -> every BBC article carrying it.

    The BBC corpus stores some stories twice under different numbers; a gold
    article whose headline appears elsewhere must list those copies too.
    """
    index: dict[str, list[str]] = defaultdict(list)
    root = shared / "corpora"
    for path in sorted((root / "bbc").glob("*/*.txt")):
        lines = read_text(path).splitlines()
        if lines and lines[0].strip():
            index[lines[0].strip().lower()].append(path.relative_to(root).as_posix())
    return index


def check_row(row: object, where: str, shared: Path, headlines: dict[str, list[str]], cache: dict[str, str]) -> list[str]:
    if not isinstance(row, dict):
        return [f"{where}: not a JSON object"]
    problems = []
    keys = set(row)
    if keys != set(FIELDS):
        missing, extra = set(FIELDS) - keys, keys - set(FIELDS)
        problems.append(f"{where}: fields must be exactly {', '.join(FIELDS)}"
                        + (f"; missing {sorted(missing)}" if missing else "")
                        + (f"; unexpected {sorted(extra)}" if extra else ""))
        return problems
    qtype, question, gold, keywords = row["type"], row["question"], row["gold_docs"], row["answer_keywords"]
    if qtype not in TYPES:
        problems.append(f"{where}: type {qtype!r} is not one of {', '.join(TYPES)}")
    if not isinstance(question, str) or not question.strip().endswith("?"):
        problems.append(f"{where}: question must be a non-empty string ending with '?'")
    if not isinstance(gold, list) or not all(isinstance(g, str) and g for g in gold):
        return problems + [f"{where}: gold_docs must be a list of path strings"]
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        return problems + [f"{where}: answer_keywords must be a list of non-empty strings"]
    if len(set(gold)) != len(gold):
        problems.append(f"{where}: gold_docs lists a document twice")

    if qtype in ("null", "offtopic"):
        if gold or keywords:
            problems.append(f"{where}: a null question must have no gold_docs and no answer_keywords")
        return problems

    if not gold:
        problems.append(f"{where}: an answerable question needs at least one gold doc")
    if not 1 <= len(keywords) <= MAX_KEYWORDS:
        problems.append(f"{where}: needs 1-{MAX_KEYWORDS} answer_keywords, has {len(keywords)}")

    texts: dict[str, str] = {}
    for g in gold:
        path = resolve(shared, g)
        if path is None:
            problems.append(f"{where}: gold doc {g!r} must start with 'bbc/', 'seeds/' or 'fictional/'")
        elif not path.is_file():
            problems.append(f"{where}: gold doc {g!r} not found at {path}")
        else:
            if g not in cache:
                cache[g] = read_text(path)
            texts[g] = cache[g].lower()
            if g.startswith("bbc/"):
                first = cache[g].splitlines()[0].strip().lower() if cache[g].strip() else ""
                copies = [c for c in headlines.get(first, []) if c not in gold]
                if copies:
                    problems.append(f"{where}: {g} has the same headline as {copies}; list every copy in gold_docs")
    if not texts:
        return problems

    for kw in keywords:
        if not any(kw.lower() in t for t in texts.values()):
            problems.append(f"{where}: keyword {kw!r} appears in none of its gold docs")

    if qtype == "multi":
        if len(gold) < 2:
            problems.append(f"{where}: a multi question needs gold docs from two articles")
        elif len(keywords) >= 2:
            # If one article holds every keyword, the question may not need two articles.
            for g, t in texts.items():
                if all(kw.lower() in t for kw in keywords):
                    problems.append(f"{where}: every keyword is found in {g} alone; "
                                    "pick one keyword from each article")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    shared = Path(argv[1]).resolve() if len(argv) == 2 else (REPO_DIR.parent / "shared").resolve()
    if not (shared / "corpora" / "bbc").is_dir():
        print(f"error: {shared} has no corpora/bbc folder; pass the shared folder as the first argument")
        return 2

    headlines = headline_index(shared)
    cache: dict[str, str] = {}
    problems: list[str] = []
    seen_ids: dict[str, str] = {}
    articles: dict[str, set[str]] = {}
    counts: dict[str, Counter] = {}

    for name in QUESTION_FILES:
        path = EVAL_DIR / name
        prefix = "(?:" + "|".join(ID_PREFIXES[name]) + ")"
        articles[name], counts[name] = set(), Counter()
        if not path.is_file():
            problems.append(f"{name}: file not found at {path}")
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{name}:{lineno}"
            if not line.strip():
                problems.append(f"{where}: blank line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON ({exc})")
                continue
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                qid = row["id"]
                where = f"{name}:{lineno} ({qid})"
                if qid in seen_ids:
                    problems.append(f"{where}: id already used at {seen_ids[qid]}")
                seen_ids[qid] = f"{name}:{lineno}"
                if not re.fullmatch(rf"{prefix}-\d{{3,}}", qid):
                    problems.append(f"{where}: id should look like {ID_PREFIXES[name][0]}-001")
            problems += check_row(row, where, shared, headlines, cache)
            if isinstance(row, dict):
                counts[name][row.get("type")] += 1
                gold = row.get("gold_docs")
                if isinstance(gold, list):
                    articles[name].update(g for g in gold if isinstance(g, str) and g.startswith("bbc/"))

    shared_articles = articles.get("dev.jsonl", set()) & articles.get("unseen.jsonl", set())
    if shared_articles:
        problems.append(f"dev and unseen must use different BBC articles; both use {sorted(shared_articles)}")

    for name in QUESTION_FILES:
        total = sum(counts[name].values())
        mix = ", ".join(f"{t} {counts[name][t]}" for t in TYPES)
        print(f"{name}: {total} questions ({mix})")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
