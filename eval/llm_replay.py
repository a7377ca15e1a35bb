"""Replays an LLM's stored replies through today's check: `python eval/llm_replay.py QUESTIONS ANSWERS --index DIR`.

`newsdesk eval --backend openai --answers ANSWERS` stores each question's raw reply. Here every reply is checked
again against the passages the model read, retrieved anew from the evaluation index DIR (the one the run used, with
the same NEWSDESK_LLM_CONTEXT and NEWSDESK_LLM_MAX_TOKENS, so the model's passages are the same), as `Assistant`
checks a reply: the check, the gate, the extractive fallback. No model runs, so a change to the check is measured on
hundreds of real replies in a minute. Prints what the answers count as on dev's criterion (right - wrong - traps
answered) and how many LLM answers reached the user, how many of them on questions the articles do not answer.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation import Outcome, has_keywords, load_questions  # noqa: E402


def offline_assistant(index: Path):
    """An `Assistant` over the evaluation index that checks stored replies as the LLM backend does; nothing is sent."""
    for key, value in (("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"), ("OPENAI_API_KEY", "none"),
                       ("NEWSDESK_MODEL", "replay")):
        os.environ.setdefault(key, value)
    from assistant import Assistant

    return Assistant(index_dir=index, backend="openai")


def passages_read(qa, question: str):
    """(the question's vector, the passages retrieved, the passages the model read), as the run had them."""
    vector = qa.embedder.embed_query(question)
    retrieved = qa.retriever.with_next(qa.retriever.retrieve(question, top_k=qa.settings.top_k, query_vector=vector))
    return vector, retrieved, qa.llm.fit(question, retrieved).passages


def replay(qa, questions: dict, rows: list[dict]) -> list[tuple[Outcome, bool]]:
    """(outcome, whether the LLM's answer reached the user) for each stored reply."""
    paths = {a.doc_id: a.path or a.source for a in qa.articles()}
    out = []
    for r in rows:
        q = questions[r["id"]]
        if not r["raw"]:
            continue
        vector, retrieved, read = passages_read(qa, q.question)
        answer = qa._checked(q.question, q.question, vector, r["raw"], read, retrieved, "", time.perf_counter())
        cited = [paths.get(c.doc_id, c.source) for c in answer.citations]
        outcome = Outcome(q, [], answer.text, cited, answer.abstained, backend=answer.backend)
        out.append((outcome, answer.backend != "extractive" and not answer.abstained))
    return out


def summary(results: list[tuple[Outcome, bool]]) -> str:
    answerable = [o for o, _ in results if o.question.answerable]
    traps = [o for o, _ in results if not o.question.answerable]
    right = sum(has_keywords(o) for o in answerable)
    wrong = sum(not o.abstained and not has_keywords(o) for o in answerable)
    answered = sum(not o.abstained for o in traps)
    llm = sum(kept for _, kept in results)
    llm_traps = sum(kept for o, kept in results if not o.question.answerable)
    return (f"{len(results)} replies: right {right}, wrong {wrong}, refused {sum(o.abstained for o in answerable)} "
            f"of {len(answerable)} answerable; traps answered {answered} of {len(traps)}; criterion "
            f"{right - wrong - answered}; LLM answers shown {llm}, {llm_traps} of them on traps")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("questions", help="the question file the run used (JSONL)")
    parser.add_argument("answers", help="the run's --answers file")
    parser.add_argument("--index", required=True, help="the run's evaluation index (its newsdesk folder)")
    args = parser.parse_args(argv)
    questions = {q.id: q for q in load_questions(args.questions)}
    rows = [json.loads(line) for line in Path(args.answers).read_text(encoding="utf-8").splitlines() if line.strip()]
    print(summary(replay(offline_assistant(Path(args.index)), questions, rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
