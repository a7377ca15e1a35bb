"""What the check did to an LLM's replies: `python eval/llm_report.py ANSWERS.jsonl [...]`.

Reads the files `newsdesk eval --backend openai --answers FILE` writes and prints, per file: the citation styles the
model used, how many replies needed each part of the check (styles read, trailing citation lines, claims matched by
Newsdesk, sentences removed, fallbacks), and false refusals on answerable questions before and after. "Before" is the
check this project had until 2026-12-04 (commit 67292a1): keep a `[n]` marker when the passage shares 35% of the
sentence's content words, and answer "The articles don't say" when no marker is left.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from assistant.answering.citations import claim_spans, markers, support
from assistant.answering.reply import read_reply

UNANSWERABLE = {"null", "offtopic"}


def refused_before(raw: str, passages: list[str]) -> bool:
    """The former check: a reply with no canonical marker that its passage supports became a refusal."""
    texts = [p.split("\n", 1)[-1] for p in passages]
    for s, e in claim_spans(raw):
        sentence = raw[s:e]
        if any(1 <= n <= len(texts) and support(sentence, texts[n - 1]) >= 0.35 for n in markers(sentence)):
            return False
    return True


def keywords_in(text: str, keywords: list[str]) -> bool:
    return all(k.lower() in text.lower() for k in keywords)


def report(path: Path, questions: dict[str, dict]) -> str:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    llm = [r for r in rows if r["raw"]]
    styles: Counter = Counter()
    needed: Counter = Counter()
    for r in llm:
        read = read_reply(r["raw"])
        styles.update(read.styles)
        if not read.styles:
            needed["no citation at all"] += 1
        if set(read.styles) - {"[n]", "[n, m]"}:
            needed["a style other than [n]"] += 1
        if read.floating:
            needed["a trailing or footnote citation line"] += 1
        if "found by Newsdesk" in r["note"]:
            needed["a claim matched by Newsdesk"] += 1
        if "no passage supports" in r["note"]:
            needed["sentences removed"] += 1
        if r["backend"] == "extractive":
            needed["extractive fallback"] += 1
        if r["backend"] != "extractive" and r["abstained"]:
            needed["the model refused"] += 1
    answerable = [r for r in llm if r["type"] not in UNANSWERABLE]
    raw_right = sum(keywords_in(r["raw"], questions[r["id"]]["answer_keywords"]) for r in answerable)
    before = sum(refused_before(r["raw"], r["passages"]) for r in answerable)
    before_right = sum(refused_before(r["raw"], r["passages"]) and keywords_in(
        r["raw"], questions[r["id"]]["answer_keywords"]) for r in answerable)
    after = sum(r["abstained"] for r in answerable)
    lines = [f"== {path.name}: {len(rows)} questions, {len(llm)} with an LLM reply ==",
             "citation styles seen (times): " + ", ".join(f"{k} {v}" for k, v in styles.most_common()),
             "replies that needed (of %d): " % len(llm) + ", ".join(f"{k} {v}" for k, v in needed.most_common()),
             f"answerable questions: {len(answerable)}; raw reply has every keyword: {raw_right}",
             f"false refusals (answerable, answer is 'the articles don't say'): before {before} "
             f"({before_right} of them after a reply with every keyword), after {after}"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    questions = {}
    for f in Path(__file__).parent.rglob("*.jsonl"):  # dev, unseen and eval/fresh
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                questions[q["id"]] = q
    for name in argv:
        print(report(Path(name), questions))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
