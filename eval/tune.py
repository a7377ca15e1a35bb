"""Tuning loop for the extractive answerer: caches retrieval and sentence vectors, then scores configs fast.

    python eval/tune.py eval/dev.jsonl --index /tmp/evalwork/newsdesk [--show]
"""
from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Assistant  # noqa: E402
from assistant.answering import extractive as ex  # noqa: E402
from assistant.evaluation import Outcome, is_gold, load_questions, summarize  # noqa: E402


def prepare(qa: Assistant, questions, top_k: int):
    cache = []
    for q in questions:
        vec = qa.embedder.embed_query(q.question)
        passages = qa.retriever.with_next(qa.retriever.retrieve(q.question, top_k=top_k, query_vector=vec))
        cands = ex.candidates(passages)
        vectors = qa.embedder.embed([c.text for c in cands]) if cands else None
        cache.append((q, vec, passages, cands, vectors))
    return cache


def run(cache, paths, cfg: ex.ExtractiveConfig, idf, show=False):
    outcomes = []
    for q, vec, passages, all_cands, all_vectors in cache:
        cands = ex.shortlist(q.question, all_cands, cfg, idf) if all_cands else []
        index = {id(c): i for i, c in enumerate(all_cands)}
        vectors = all_vectors[[index[id(c)] for c in cands]] if cands else None
        picked = ex.select(q.question, cands, vectors, vec, passages, cfg, idf, EMBED, ARTICLE) if cands else []
        scores = ex.score_candidates(q.question, cands, vectors @ vec, cfg, ex.term_weights(q.question, cands, idf)) if cands else []
        text = " ".join(ex.compose(cands, picked)) if picked else "NOT FOUND"
        cited = [paths[passages[cands[i].passage].doc_id] for i in picked]
        ranked = [paths[p.doc_id] for p in passages]
        outcomes.append(Outcome(q, ranked, text, cited, not picked))
        if show:
            ok = all(k.lower() in text.lower() for k in q.answer_keywords) if q.answerable else not picked
            if not ok:
                best = max(scores) if len(scores) else 0
                print(f"\n--- {q.id} [{q.type}] {q.question}\n  kw={q.answer_keywords} gold={q.gold_docs} best={best:.3f}")
                print("  ANSWER:", text[:600])
                if q.answerable:
                    gold_sents = [c.text for c in cands if any(k.lower() in c.text.lower() for k in q.answer_keywords)]
                    print("  GOLD-SENTS:", [s[:200] for s in gold_sents[:3]])
    return outcomes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("questions")
    ap.add_argument("--index", required=True)
    ap.add_argument("--top-k", type=int, default=6)  # as Assistant.ask (settings.top_k)
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--set", nargs="*", default=[], help="config overrides name=value")
    args = ap.parse_args()
    qa = Assistant(index_dir=args.index, backend="extractive")
    questions = load_questions(args.questions)
    cache_file = Path(f"/tmp/tune-cache-{Path(args.questions).stem}-{args.top_k}.pkl")
    if cache_file.exists():
        cache = pickle.loads(cache_file.read_bytes())
    else:
        cache = prepare(qa, questions, args.top_k)
        cache_file.write_bytes(pickle.dumps(cache))
    paths = {a.doc_id: a.path or a.source for a in qa.articles()}
    cfg = ex.ExtractiveConfig()
    for item in args.set:
        k, v = item.split("=")
        cfg = dataclasses.replace(cfg, **{k: type(getattr(cfg, k))(v)})
    global EMBED
    EMBED = qa.embedder.embed
    global ARTICLE
    ARTICLE = qa.article_text
    kw = qa.store.keyword_index()
    outs = run(cache, paths, cfg, kw.idf, args.show)
    m = summarize(outs)
    print({k: round(v, 3) for k, v in m.items() if v is not None and not k.endswith("_ms")})
    for t in sorted({o.question.type for o in outs}):
        sub = summarize([o for o in outs if o.question.type == t])
        print(t, {k: round(v, 3) for k, v in sub.items() if k in ("keyword_acc", "cite_precision", "abstain_null", "false_abstain", "mean_words") and v is not None})


if __name__ == "__main__":
    main()
