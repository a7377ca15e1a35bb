"""The benchmark corpus: a temp copy of ../shared (BBC + seeds), the 10-edited + 10-added change, and questions.

Everything here is deterministic (fixed seeds, sorted paths), so two runs measure the same work.
"""
from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from . import ROOT, SHARED

SEED = 20250101


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # headline | sentence | dev
    path: str  # the corpus-relative file the question was made from ("" when unknown, e.g. several golds)


def source_files(shared: Path = SHARED) -> list[tuple[Path, str]]:
    """(file, relative name in the copy) for every article: bbc/<topic>/*.txt and seeds/*.txt (no README)."""
    bbc = sorted((shared / "corpora" / "bbc").glob("*/*.txt"))
    seeds = sorted((shared / "seeds").glob("*.txt"))
    return ([(p, f"bbc/{p.parent.name}/{p.name}") for p in bbc] +
            [(p, f"seeds/{p.name}") for p in seeds])


def pick_articles(limit: int | None, shared: Path = SHARED) -> list[tuple[Path, str]]:
    """All articles, or an evenly spread sample of `limit` (the seeds always included)."""
    files = source_files(shared)
    if not limit or limit >= len(files):
        return files
    seeds = [f for f in files if f[1].startswith("seeds/")]
    bbc = [f for f in files if not f[1].startswith("seeds/")]
    want = max(0, limit - len(seeds))
    step = len(bbc) / max(1, want)
    return [bbc[int(i * step)] for i in range(want)] + seeds[:limit]


def copy_corpus(files: list[tuple[Path, str]], dest: Path) -> list[Path]:
    """Copy the articles to `dest` (a temp folder we may edit); returns the top-level folders to ingest."""
    if dest.exists():
        shutil.rmtree(dest)
    for src, rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return sorted(p for p in dest.iterdir() if p.is_dir())


def _read(path: Path) -> tuple[str, str]:
    from assistant.articles import parse_file

    article = parse_file(path)[0]
    return article.title, article.text


def _sentences(text: str) -> list[str]:
    from assistant.chunking import split_sentences

    return [text[s:e] for s, e in split_sentences(text)]


def change_corpus(root: Path, edits: int = 10, adds: int = 10) -> dict:
    """Edit `edits` articles (a paragraph appended, one sentence reworded) and add `adds` new ones, in place."""
    rng = random.Random(SEED + 1)
    files = sorted(root.rglob("*.txt"))
    donors = sorted(root.rglob("*.txt"))
    chosen = rng.sample(files, min(edits, len(files)))
    for n, path in enumerate(chosen):
        raw = path.read_text(encoding="utf-8", errors="replace")
        donor_title, donor_text = _read(rng.choice(donors))
        extra = " ".join(_sentences(donor_text)[:2])
        raw = raw.replace(" the ", " the latest ", 1)
        path.write_text(raw.rstrip() + f"\n\nUpdate {n + 1}: {extra}\n", encoding="utf-8")
    # New files land inside a folder that is already being ingested (a new top-level folder would not be).
    added_dir = sorted(p for p in root.iterdir() if p.is_dir())[0] / "added"
    added_dir.mkdir(exist_ok=True)
    for n in range(adds):
        a, b = rng.sample(donors, 2)
        title_a, text_a = _read(a)
        _, text_b = _read(b)
        body = _sentences(text_a)[:4] + _sentences(text_b)[:4]
        rng.shuffle(body)
        (added_dir / f"new_{n:03d}.txt").write_text(
            f"Follow-up: {title_a}\n\n" + "\n\n".join(" ".join(body[i:i + 2]) for i in range(0, len(body), 2)) + "\n",
            encoding="utf-8")
    return {"edited": [str(p.relative_to(root)) for p in chosen], "added": adds}


_HEADLINE_TEMPLATES = ("What happened in the story \u201c{h}\u201d?", "What do the articles say about {h}?",
                       "Tell me about: {h}", "{h} \u2014 what are the details?")
_SENTENCE_TEMPLATES = ("Which report says that {s}?", "Is it true that {s}?", "What is known about {s}?")


def make_questions(root: Path, n: int, dev_share: float = 0.25, dev_file: Path | None = None) -> list[Question]:
    """`n` questions: a share from eval/dev.jsonl (whose golds are in this corpus), the rest from headlines and
    sentences of sampled articles (each remembers its article, for a retrieval hit check)."""
    rng = random.Random(SEED)
    dev_file = dev_file or ROOT / "eval" / "dev.jsonl"
    present = {str(p.relative_to(root)) for p in root.rglob("*.txt")}
    dev: list[Question] = []
    if dev_file.exists() and dev_share > 0:
        for line in dev_file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            golds = rec.get("gold_docs") or []
            if golds and all(g in present for g in golds):
                dev.append(Question(rec["question"], "dev", golds[0] if len(golds) == 1 else ""))
    dev = dev[: int(round(n * dev_share))]
    files = sorted(root.rglob("*.txt"))
    generated: list[Question] = []
    for i, path in enumerate(rng.sample(files, min(len(files), n - len(dev)))):
        title, text = _read(path)
        rel = str(path.relative_to(root))
        if i % 2 == 0 and title:
            template = _HEADLINE_TEMPLATES[(i // 2) % len(_HEADLINE_TEMPLATES)]
            generated.append(Question(template.format(h=title.rstrip(".?! ")), "headline", rel))
            continue
        usable = [s for s in _sentences(text) if 8 <= len(s.split()) <= 30 and not s.startswith(("\u201c", '"'))]
        if not usable:
            usable = _sentences(text) or [title]
        sentence = rng.choice(usable).rstrip(" .!?")
        sentence = re.sub(r"^(\w)", lambda m: m.group(1).lower(), sentence) if not re.match(r"^[A-Z]{2}|^[A-Z]\w* [A-Z]", sentence) else sentence
        template = _SENTENCE_TEMPLATES[(i // 2) % len(_SENTENCE_TEMPLATES)]
        generated.append(Question(template.format(s=sentence), "sentence", rel))
    questions = generated + dev
    rng.shuffle(questions)  # interleave kinds so warm-up effects do not fall on one kind
    return questions[:n]


def calibration_texts(n_articles: int = 12, shared: Path = SHARED) -> list[str]:
    """Fixed chunk texts (the project's own chunking of a few articles): the model's raw speed is measured on them."""
    from assistant.articles import parse_file
    from assistant.ingest import build_chunks

    texts: list[str] = []
    for path, _ in pick_articles(n_articles, shared):
        texts += build_chunks(parse_file(path)[0], 170)[1]
    return texts


def save_questions(questions: list[Question], path: Path) -> None:
    path.write_text("\n".join(json.dumps(asdict(q), ensure_ascii=False) for q in questions) + "\n", encoding="utf-8")


def load_questions(path: Path) -> list[Question]:
    return [Question(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
