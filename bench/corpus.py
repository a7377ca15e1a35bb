"""The benchmark's inputs from a corpus: which files, their articles, a temp copy, the change, questions, calibration.

A corpus is any folder Newsdesk can ingest (`--corpus DIR`), or by default the BBC corpus and seeds of `--shared`.
Files are found and parsed by Newsdesk's own reader (`assistant.ingest.discover`, `assistant.articles.parse_file`),
so the bench reads exactly the formats the product reads. Everything here is deterministic (fixed seeds, sorted
paths), so two runs measure the same work. Nothing here imports a model or a vector store: the parent process
decides every input, checks it and hands it to the workers in their spec.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from . import ROOT
from .inputs import InputError

SEED = 20250101
TEXT_SUFFIXES = (".txt", ".md", ".markdown")  # formats an edit may append a paragraph to and stay well-formed
CALIBRATION_CHUNK_TOKENS = 170  # fixed, so the bare model's speed is measured on the same texts in every run
CALIBRATION_MIN_TEXTS = 40  # ~6k word pieces; always above Embedder's SMALL_BATCH, so it runs on torch as an ingest does


@dataclass(frozen=True)
class SourceFile:
    path: Path  # the file read
    rel: str  # its name inside the copy, in questions and in eval gold_docs ("bbc/tech/012.txt")


@dataclass
class Corpus:
    name: str  # shown above the table and in the JSON
    root: str  # the folder given (or the shared folder)
    files: list[SourceFile]
    pinned: int = 0  # the last `pinned` files are kept by any --limit (the BBC seeds: eval questions ask about them)

    def pick(self, limit: int | None) -> "Corpus":
        """All files, or an evenly spread sample of `limit` (the pinned ones always included)."""
        if not limit or limit >= len(self.files):
            return self
        spread = self.files[: len(self.files) - self.pinned]
        pinned = self.files[len(self.files) - self.pinned:]
        want = max(0, limit - len(pinned))
        step = len(spread) / max(1, want)
        picked = [spread[int(i * step)] for i in range(want)] + pinned[:limit]
        return Corpus(self.name, self.root, picked, min(self.pinned, limit))


@dataclass(frozen=True)
class CorpusArticle:
    rel: str  # the file it came from, as named in the copy
    index: int  # its position among the file's articles (a .json or .jsonl file holds several)
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # headline | sentence | dev | file
    path: str  # the corpus-relative file the question was made from ("" when unknown, e.g. several golds)
    index: int = 0  # which article of that file (0 for one-article files)


def _formats() -> str:
    from assistant.sources.articles import SUPPORTED_SUFFIXES

    return " ".join(SUPPORTED_SUFFIXES)


def _discover(folder: Path, prefix: str) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """The files Newsdesk would ingest from `folder` (its own discovery: formats, hidden files, READMEs skipped)."""
    from assistant.ingest.pipeline import discover

    files, _, problems = discover([folder])
    top = folder.resolve()
    return [SourceFile(f, prefix + f.relative_to(top).as_posix()) for f in files], problems


def folder_corpus(folder: Path) -> Corpus:
    """`--corpus DIR`: every article file under DIR, nested folders included."""
    where = f"--corpus {folder}"
    if not folder.exists():
        raise InputError(f"{where}: no such folder; pass --corpus DIR, a folder of articles ({_formats()})")
    if not folder.is_dir():
        raise InputError(f"{where} is a file, not a folder; pass --corpus DIR, the folder that holds the articles")
    files, problems = _discover(folder, "")
    if not files:
        why = f" ({problems[0][0]}: {problems[0][1]})" if problems else ""
        raise InputError(f"{where} holds no article files{why}; pass --corpus DIR, a folder with files Newsdesk reads "
                         f"({_formats()}; hidden files and READMEs are skipped)")
    return Corpus(f"{folder} (--corpus)", str(folder), files)


def bbc_corpus(shared: Path, given: bool) -> Corpus:
    """The default: the BBC corpus (shared/corpora/bbc/<topic>/*) and the seed articles (shared/seeds)."""
    bbc = shared / "corpora" / "bbc"
    if not bbc.is_dir():
        where = f"--shared {shared}" if given else f"no --corpus given, and the default {shared.resolve()}"
        raise InputError(f"{where} has no corpora/bbc folder; pass --corpus DIR (a folder of your own articles: "
                         f"{_formats()}) or --shared DIR (the folder that holds corpora/bbc)")
    files, _ = _discover(bbc, "bbc/")
    seeds, _ = _discover(shared / "seeds", "seeds/") if (shared / "seeds").is_dir() else ([], [])
    if not files:
        raise InputError(f"{bbc} holds no article files; pass --corpus DIR (a folder of articles: {_formats()}) "
                         f"or --shared DIR (the folder that holds corpora/bbc)")
    return Corpus(f"BBC news ({bbc}) + {len(seeds)} seeds", str(shared), files + seeds, pinned=len(seeds))


def find_corpus(corpus: Path | None, shared: Path, shared_given: bool = False) -> Corpus:
    """The corpus the parsed arguments name: --corpus DIR, else --shared's BBC corpus. Fast: no file is parsed."""
    return folder_corpus(corpus) if corpus is not None else bbc_corpus(shared, shared_given)


def read_articles(corpus: Corpus) -> tuple[list[CorpusArticle], list[SourceFile], list[tuple[str, str]]]:
    """(articles, the files they came from, files that gave none with the reason), parsed as Newsdesk parses them.

    Raises InputError when no file gives an article."""
    from assistant.sources.articles import parse_file
    from assistant.errors import ArticleError

    articles: list[CorpusArticle] = []
    readable: list[SourceFile] = []
    failed: list[tuple[str, str]] = []
    for f in corpus.files:
        try:
            parsed = parse_file(f.path)
        except ArticleError as exc:
            failed.append((f.rel, str(exc)))
            continue
        readable.append(f)
        articles += [CorpusArticle(f.rel, i, a.title, a.text) for i, a in enumerate(parsed)]
    if not articles:
        rel, why = failed[0]
        raise InputError(f"{corpus.root}: none of its {len(corpus.files)} article files could be read ({rel}: {why}); "
                         "pass --corpus DIR, a folder with articles Newsdesk can read")
    return articles, readable, failed


def fingerprint(files: list[SourceFile]) -> str:
    """Which files (names and sizes): the scale benchmark reuses cached base vectors only for the same corpus."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.rel}\x1f{f.path.stat().st_size}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


def copy_corpus(files: list[SourceFile], dest: Path) -> None:
    """Copy the articles to `dest` (a temp folder we may edit), under their corpus-relative names."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in files:
        target = dest / f.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f.path, target)


def _sentences(text: str) -> list[str]:
    from assistant.ingest.chunking import split_sentences

    return [text[s:e] for s, e in split_sentences(text)]


def copied_articles(root: Path) -> tuple[list[Path], list[CorpusArticle]]:
    """The article files of a corpus copy and their articles (for the edit, which happens in a worker)."""
    from assistant.sources.articles import parse_file
    from assistant.errors import ArticleError

    files, _ = _discover(root, "")
    articles = []
    for f in files:
        try:
            articles += [CorpusArticle(f.rel, i, a.title, a.text) for i, a in enumerate(parse_file(f.path))]
        except ArticleError:
            continue
    return [f.path for f in files], articles


def change_corpus(root: Path, edits: int = 10, adds: int = 10) -> dict:
    """Edit up to `edits` articles (a paragraph appended, one word added) and add `adds` new ones, in place.

    Only plain-text and Markdown files are edited (an appended paragraph keeps them well-formed; HTML and JSON
    would need rewriting); new articles are .txt files in `added/`, made from sentences of two others."""
    rng = random.Random(SEED + 1)
    files, donors = copied_articles(root)
    editable = [p for p in files if p.suffix.lower() in TEXT_SUFFIXES]
    chosen = rng.sample(editable, min(edits, len(editable)))
    for n, path in enumerate(chosen):
        raw = path.read_text(encoding="utf-8", errors="replace")
        donor = rng.choice(donors)
        extra = " ".join(_sentences(donor.text)[:2])
        raw = raw.replace(" the ", " the latest ", 1)
        path.write_text(raw.rstrip() + f"\n\nUpdate {n + 1}: {extra}\n", encoding="utf-8")
    added_dir = root / "added"
    added_dir.mkdir(exist_ok=True)
    for n in range(adds):
        a, b = rng.sample(donors, 2) if len(donors) > 1 else (donors[0], donors[0])
        body = _sentences(a.text)[:4] + _sentences(b.text)[:4]
        rng.shuffle(body)
        (added_dir / f"new_{n:03d}.txt").write_text(
            f"Follow-up: {a.title}\n\n" + "\n\n".join(" ".join(body[i:i + 2]) for i in range(0, len(body), 2)) + "\n",
            encoding="utf-8")
    return {"edited": [str(p.relative_to(root)) for p in chosen], "added": adds, "editable": len(editable)}


_HEADLINE_TEMPLATES = ("What happened in the story \u201c{h}\u201d?", "What do the articles say about {h}?",
                       "Tell me about: {h}", "{h} \u2014 what are the details?")
_SENTENCE_TEMPLATES = ("Which report says that {s}?", "Is it true that {s}?", "What is known about {s}?")


def _sentence_question(article: CorpusArticle, i: int, rng: random.Random, taken: set[str]) -> Question | None:
    sentences = _sentences(article.text)
    usable = [s for s in sentences if 8 <= len(s.split()) <= 30 and not s.startswith(("\u201c", '"'))]
    usable = usable or sentences or [article.title]
    template = _SENTENCE_TEMPLATES[(i // 2) % len(_SENTENCE_TEMPLATES)]
    for sentence in rng.sample(usable, len(usable)):
        sentence = sentence.rstrip(" .!?")
        if not re.match(r"^[A-Z]{2}|^[A-Z]\w* [A-Z]", sentence):  # keep names and acronyms capitalised
            sentence = re.sub(r"^(\w)", lambda m: m.group(1).lower(), sentence)
        text = template.format(s=sentence)
        if sentence and text not in taken:
            return Question(text, "sentence", article.rel, article.index)
    return None


def make_questions(articles: list[CorpusArticle], n: int, dev_share: float = 0.25,
                   dev_file: Path | None = None) -> list[Question]:
    """`n` questions: a share from eval/dev.jsonl (those whose golds are all in this corpus), the rest from headlines
    and sentences of sampled articles (each remembers its article, for a retrieval hit check). A corpus with fewer
    articles than questions gives each article more sentence questions, never the same question twice."""
    rng = random.Random(SEED)
    dev_file = dev_file or ROOT / "eval" / "dev.jsonl"
    present = {a.rel for a in articles}
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
    generated: list[Question] = []
    taken: set[str] = set()
    first_pass = True
    while len(generated) < n - len(dev):
        made = 0
        for article in rng.sample(articles, min(len(articles), n - len(dev) - len(generated))):
            i = len(generated)
            if first_pass and i % 2 == 0 and article.title:
                template = _HEADLINE_TEMPLATES[(i // 2) % len(_HEADLINE_TEMPLATES)]
                question = Question(template.format(h=article.title.rstrip(".?! ")), "headline", article.rel,
                                    article.index)
            else:
                question = _sentence_question(article, i, rng, taken)
            if question is not None and question.text not in taken:
                generated.append(question)
                taken.add(question.text)
                made += 1
        first_pass = False
        if not made:  # every sentence of every article asked already
            break
    questions = generated + dev
    rng.shuffle(questions)  # interleave kinds so warm-up effects do not fall on one kind
    return questions[:n]


def calibration_texts(articles: list[CorpusArticle], min_texts: int = CALIBRATION_MIN_TEXTS) -> list[str]:
    """Fixed chunk texts (the project's own chunking of articles spread through the corpus, at least `min_texts`,
    repeated when the corpus has fewer): the bare model's speed is measured on them in every worker.

    Never fewer than the embedder's small-batch limit: below it `Embedder.embed_counted` runs the ONNX copy of the
    model, not the torch one an ingest runs, and the 'bare model' figure would measure another runtime."""
    from assistant.sources.articles import Article
    from assistant.ingest.embedder import SMALL_BATCH
    from assistant.ingest.pipeline import build_chunks

    min_texts = max(min_texts, SMALL_BATCH + 1)
    texts: list[str] = []
    step = max(1, len(articles) // 12)
    order = articles[::step] + [a for i, a in enumerate(articles) if i % step]
    for a in order:
        if len(texts) >= min_texts:
            break
        article = Article(title=a.title, text=a.text, source=a.rel, path=a.rel, record=a.index)
        texts += build_chunks(article, CALIBRATION_CHUNK_TOKENS)[1]
    if not texts:
        raise InputError("the corpus's articles gave no text to measure the model's speed on; pass --corpus DIR, "
                         "a folder of articles with text in them")
    while len(texts) < min_texts:
        texts += texts[: min_texts - len(texts)]
    return texts


def save_questions(questions: list[Question], path: Path) -> None:
    path.write_text("\n".join(json.dumps(asdict(q), ensure_ascii=False) for q in questions) + "\n", encoding="utf-8")


def load_questions(path: Path) -> list[Question]:
    return [Question(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
