"""`newsdesk eval`: retrieval and answer quality on a question file, beside the plain llama-index pipeline."""
from __future__ import annotations

import importlib.util
import json
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .answering.citations import NOT_SAID, strip_markers
from .errors import ConfigError



@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    gold_docs: tuple[str, ...]
    answer_keywords: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.gold_docs)


@dataclass
class Outcome:
    """What one system did with one question: ranked article paths, the answer, the cited article paths."""

    question: Question
    ranked_docs: list[str]
    answer: str = ""
    cited_docs: list[str] = field(default_factory=list)
    abstained: bool = False
    retrieve_seconds: float = 0.0
    answer_seconds: float = 0.0
    raw: str = ""  # the LLM's reply before the check
    backend: str = ""  # who answered in the end (an LLM answer can fall back to extractive)
    note: str = ""
    sent: list[str] = field(default_factory=list)  # the passages an LLM was given (titles and texts), in order


def load_questions(path: str | Path) -> list[Question]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Question(str(d["id"]), d["question"], d.get("type", "") or "untyped",
                                tuple(d.get("gold_docs", [])), tuple(d.get("answer_keywords", []))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question object ({exc}); expected id, question, type, gold_docs, answer_keywords") from exc
    return out


def is_gold(path: str, gold: Sequence[str]) -> bool:
    """A gold doc is a path suffix: 'bbc/tech/012.txt' matches '/data/corpora/bbc/tech/012.txt'."""
    path = path.replace("\\", "/")
    return any(path.endswith("/" + g.lstrip("/")) or path == g for g in gold)


def unique(items: Iterable[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def first_hit(ranked: Sequence[str], gold: Sequence[str], k: int) -> int | None:
    for rank, path in enumerate(ranked[:k], 1):
        if is_gold(path, gold):
            return rank
    return None


_UNANSWERED = re.compile(re.escape(NOT_SAID) + r"[^?]*\?")


def has_keywords(outcome: Outcome) -> bool:
    """Every expected keyword in the answer's own words (not in a part it restates as unanswered)."""
    claims = _UNANSWERED.sub(" ", outcome.answer).lower()
    return all(k.lower() in claims for k in outcome.question.answer_keywords)


def answer_words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", strip_markers(text)))


def summarize(outcomes: Sequence[Outcome], groups: Callable[[Question], list[set[str]]] | None = None) -> dict:
    """Metrics over a set of outcomes; `groups` maps a question to its gold docs grouped by story (duplicates)."""
    ans = [o for o in outcomes if o.question.answerable]
    null = [o for o in outcomes if not o.question.answerable]
    m: dict[str, float | int | None] = {"n": len(outcomes)}
    if ans:
        ranks = [first_hit(o.ranked_docs, o.question.gold_docs, 10) for o in ans]
        for k in (1, 4, 10):
            m[f"hit@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / len(ans)
        m["mrr@10"] = sum(1 / r for r in ranks if r) / len(ans)
        m["keyword_acc"] = sum(has_keywords(o) for o in ans) / len(ans)
        cited = [d for o in ans for d in o.cited_docs]
        good = sum(1 for o in ans for d in o.cited_docs if is_gold(d, o.question.gold_docs))
        m["cite_precision"] = good / len(cited) if cited else None
        m["false_abstain"] = sum(o.abstained for o in ans) / len(ans)
        multi = [o for o in ans if len(groups(o.question) if groups else o.question.gold_docs) > 1]
        if multi:
            def covered(o: Outcome) -> bool:
                story_groups = groups(o.question) if groups else [{g} for g in o.question.gold_docs]
                return all(any(is_gold(d, list(g)) for d in o.cited_docs) for g in story_groups)
            m["cite_recall_multi"] = sum(covered(o) for o in multi) / len(multi)
        answered = [o for o in ans if not o.abstained]
        m["mean_words"] = statistics.mean(answer_words(o.answer) for o in answered) if answered else None
    if null:
        m["abstain_null"] = sum(o.abstained and not o.cited_docs for o in null) / len(null)
    lat = sorted(o.retrieve_seconds + o.answer_seconds for o in outcomes)
    ret = sorted(o.retrieve_seconds for o in outcomes)
    if lat:
        m["p50_ms"], m["p95_ms"] = 1000 * _pct(lat, 50), 1000 * _pct(lat, 95)
        m["retr_p95_ms"] = 1000 * _pct(ret, 95)
    return m


def _pct(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[i]


METRICS = ["n", "hit@1", "hit@4", "hit@10", "mrr@10", "keyword_acc", "cite_precision", "cite_recall_multi",
           "abstain_null", "false_abstain", "mean_words", "p50_ms", "p95_ms", "retr_p95_ms"]


def format_table(results: dict[str, dict[str, dict]]) -> str:
    """results[system][group] -> metrics. One block per group, systems side by side."""
    systems = list(results)
    groups = list(next(iter(results.values())))
    lines = []
    for group in groups:
        lines.append(f"\n== {group} ==")
        lines.append(f"{'metric':<18}" + "".join(f"{s:>14}" for s in systems))
        for metric in METRICS:
            values = [results[s].get(group, {}).get(metric) for s in systems]
            if all(v is None for v in values):
                continue
            lines.append(f"{metric:<18}" + "".join(f"{_fmt(metric, v):>14}" for v in values))
    return "\n".join(lines)


def _fmt(metric: str, v) -> str:
    if v is None:
        return "-"
    if metric == "n":
        return str(v)
    if metric.endswith("_ms") or metric == "mean_words":
        return f"{v:.1f}"
    return f"{v:.3f}"


def by_type(outcomes: Sequence[Outcome], groups=None) -> dict[str, dict]:
    out = {}
    for t in sorted({o.question.type for o in outcomes}):
        out[t] = summarize([o for o in outcomes if o.question.type == t], groups)
    out["overall"] = summarize(outcomes, groups)
    return out


# -- running the systems --------------------------------------------------------------------------------------------
def run_newsdesk(qa, questions: Sequence[Question], top_k: int = 10) -> list[Outcome]:
    paths = {a.doc_id: a.path or a.source for a in qa.articles()}
    qa.ask("warm up")  # load the model and the keyword index outside the timings
    outcomes = []
    for q in questions:
        t0 = time.perf_counter()
        passages = qa.retrieve(q.question, top_k=top_k)
        t1 = time.perf_counter()
        result = qa.ask(q.question)
        t2 = time.perf_counter()
        outcomes.append(Outcome(q, unique(paths.get(p.doc_id, p.source) for p in passages), result.text,
                                [paths.get(c.doc_id, c.source) for c in result.citations], result.abstained,
                                t1 - t0, t2 - t1, result.raw, result.backend, result.note,
                                [f"{p.title}\n{p.text}" for p in result.passages] if result.raw else []))
    return outcomes


def answers_jsonl(outcomes: Sequence[Outcome]) -> str:
    """One line per question: the raw reply beside the checked answer, so models and checks can be compared."""
    return "".join(json.dumps({
        "id": o.question.id, "type": o.question.type, "question": o.question.question, "raw": o.raw,
        "answer": o.answer, "backend": o.backend, "abstained": o.abstained, "note": o.note, "cited": o.cited_docs,
        "keywords_found": has_keywords(o) if o.question.answerable else None, "seconds": round(o.answer_seconds, 2),
        "passages": o.sent,
    }, ensure_ascii=False) + "\n" for o in outcomes)


def run_baseline(baseline, questions: Sequence[Question]) -> list[Outcome]:
    """The plain pipeline has no answerer offline: its 'answer' is its top chunk, cited as [1]."""
    baseline.retrieve("warm up")
    outcomes = []
    for q in questions:
        t0 = time.perf_counter()
        hits = baseline.retrieve(q.question)
        t1 = time.perf_counter()
        top = hits[0] if hits else ("", "")
        outcomes.append(Outcome(q, unique(path for path, _ in hits), f"{top[1]} [1]" if hits else "",
                                [top[0]] if hits else [], not hits, t1 - t0, 0.0))
    return outcomes


def story_groups(qa) -> Callable[[Question], list[set[str]]]:
    """Gold docs that are the same story (same headline) count once for citation recall."""
    title_of = {}
    for a in qa.articles():
        title_of[(a.path or a.source).replace("\\", "/")] = a.title.strip().lower()

    def groups(q: Question) -> list[set[str]]:
        by_title: dict[str, set[str]] = {}
        for g in q.gold_docs:
            title = next((t for p, t in title_of.items() if is_gold(p, [g])), g)
            by_title.setdefault(title, set()).add(g)
        return list(by_title.values())

    return groups


def plain_pipeline(folder: Path):
    """The plain llama-index baseline (bench/plain.py, shared with the bench), or a ConfigError that says what to
    install: it lives outside the runtime package, and its packages are the `baseline` extra."""
    try:
        from bench.plain import PlainPipeline
    except ModuleNotFoundError:
        raise ConfigError("The llama-index baseline (bench/plain.py) is not installed: run `pip install -e "
                          "'.[baseline]'` in Newsdesk's source tree, or pass --no-baseline.") from None
    for module in ("llama_index.embeddings.huggingface", "llama_index.vector_stores.chroma"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise ConfigError(f"The llama-index baseline needs {module}: pip install 'newsdesk[baseline]', "
                              "or pass --no-baseline.")
    return PlainPipeline(folder)


def evaluate(question_file: str | Path, corpus: Sequence[str | Path], index_dir: str | Path | None = None,
             baseline: bool = True, progress: Callable[[str], None] = print, backend: str = "extractive",
             answers: str | Path | None = None) -> dict:
    """Index the corpus (reused when unchanged), run every question, return {system: {type: metrics}}."""
    from .assistant import Assistant

    questions = load_questions(question_file)
    workdir = Path(index_dir) if index_dir else Path(tempfile.mkdtemp(prefix="newsdesk-eval-"))
    plain = plain_pipeline(workdir / "plain") if baseline else None  # a missing extra stops the run before it starts
    qa = Assistant(index_dir=workdir / "newsdesk", backend=backend)
    report = qa.ingest(list(corpus))
    progress(f"newsdesk index: {report.summary()}")
    outcomes = run_newsdesk(qa, questions)
    if answers:
        Path(answers).write_text(answers_jsonl(outcomes), encoding="utf-8")
    name = "newsdesk" if backend == "extractive" else f"newsdesk-{backend}"
    results = {name: by_type(outcomes, story_groups(qa))}
    if plain is not None:
        plain.build(corpus, progress)
        results["llama-index"] = by_type(run_baseline(plain, questions), story_groups(qa))
    return results


def run_eval_cli(args) -> int:
    results = evaluate(args.questions, args.corpus, args.keep_index, baseline=not args.no_baseline,
                       backend=args.backend, answers=args.answers)
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0
