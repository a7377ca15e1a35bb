"""Fits how retrieval fuses its dense and keyword lists (assistant/retrieve/fusion.json) from labelled dev questions.

    python eval/fit_fusion.py eval/dev.jsonl --index /tmp/evalidx/newsdesk

The index holds the eval corpus (see eval/fit_extractive.py). Never pass eval/unseen.jsonl: that set only reports.
Every model of the offline answerer is fitted on what retrieval returns: after a new fusion, refit them
(eval/fit_reader.py, then eval/fit_extractive.py).

- Data: each answerable one-part question's dense and keyword lists, retrieved once to DEPTH and cached; a passage
  is gold when it comes from one of the question's gold articles.
- Measure: whether a gold article is among the top_k passages the answerer is given (hit), the reciprocal rank of
  the first (MRR breaks ties), over the passages as the retriever gives them (each list cut to its depth, fused
  by `hybrid.fuse`, one copy of a duplicated story).
- Choice: the grid point (reciprocal-rank k, dense weight against a keyword weight of 1, speaker boost) with the
  most hits on all questions. Its out-of-fold figures come from choosing on four folds of articles and scoring on
  the fifth (folds grouped by gold article).
Deterministic; the same data give the same file.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import re
import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fit_extractive as fe  # noqa: E402
from assistant import Assistant  # noqa: E402
from assistant.evaluation import is_gold, load_questions  # noqa: E402
from assistant.retrieve.hybrid import FUSION, RetrievalConfig, fuse, one_per_story, stories  # noqa: E402
from assistant.retrieve.query import asked_speakers, split  # noqa: E402
from assistant.text.quotes import any_speaks  # noqa: E402

DEPTH = 80  # each list is retrieved this deep once, and cut to the retriever's depth when fused
GRID = dict(rrf_k=(1, 2, 3, 5, 7, 10, 20, 60), dense_weight=(0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0, 1.3),
            speaker_boost=(0.0, 0.5))
SEED = 7
FOLDS = 5
HAND_SET = dict(rrf_k=60, dense_weight=1.0, speaker_boost=0.5)  # the fusion before it was fitted, reported beside


def lists(qa: Assistant, questions, cache: Path) -> list[dict]:
    """Per question: its dense and keyword ids, each id's article and story (duplicates share one), the ids where a
    person whose words it asks for speaks, and its gold ids (cached)."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    paths = {a.doc_id: a.path or a.source for a in qa.articles()}
    store, out = qa.store, []
    for q in questions:
        dense = [i for i, _ in store.dense_search_many([qa.embedder.embed_query(q.question)], DEPTH)[0]]
        keyword = [i for i, _ in store.keyword_search(q.question, DEPTH)]
        rows = store.chunks(list(dict.fromkeys(dense + keyword)))
        articles = store.articles_by_id({r.doc_id for r in rows.values()})
        rows = {i: r for i, r in rows.items() if r.doc_id in articles}
        speakers = asked_speakers(q.question)
        out.append(dict(id=q.id, type=q.type, dense=dense, keyword=keyword, story=stories(rows, articles),
                        boosted={i for i, r in rows.items() if any_speaks(speakers, r.speakers)},
                        gold={i for i, r in rows.items() if is_gold(paths[r.doc_id], q.gold_docs)}))
    cache.write_bytes(pickle.dumps(out))
    return out


def first_gold(q: dict, cfg: RetrievalConfig, top_k: int) -> int | None:
    """The 0-based place of the first gold passage among the top_k the retriever gives with `cfg` (None: none)."""
    fused = fuse(q["dense"][:cfg.candidates], q["keyword"][:cfg.candidates], q["boosted"], cfg)
    given = one_per_story(sorted(fused, key=lambda i: -fused[i]), q["story"], top_k)
    return next((place for place, i in enumerate(given) if i in q["gold"]), None)


def scores(data: list[dict], cfg: RetrievalConfig, top_k: int) -> np.ndarray:
    """Per question: (hit, reciprocal rank)."""
    places = [first_gold(q, cfg, top_k) for q in data]
    return np.array([(p is not None, 0.0 if p is None else 1 / (p + 1)) for p in places])


def best(table: dict[tuple, np.ndarray], rows: np.ndarray) -> tuple:
    """The grid point with the most hits on `rows`, the higher MRR on a tie (the first in the grid on a full tie)."""
    return max(table, key=lambda g: (table[g][rows, 0].sum(), round(float(table[g][rows, 1].sum()), 9)))


def main() -> int:
    args = fe.arguments(__doc__, FUSION)
    from sklearn.model_selection import GroupKFold

    qa = Assistant(index_dir=args.index, backend="extractive")
    questions = [q for f in args.questions for q in load_questions(f) if q.answerable and len(split(q.question)) == 1]
    held = sorted((a.doc_id, a.indexed_at, a.chunks) for a in qa.articles())
    key = hashlib.sha256(json.dumps([[q.id, q.question] for q in questions] + [str(Path(args.index).resolve()), held,
                                                                             DEPTH]).encode()).hexdigest()[:12]
    data = lists(qa, questions, Path(tempfile.gettempdir()) / f"fit-fusion-{key}.pkl")
    top_k, base = qa.settings.top_k, RetrievalConfig()
    grid = [(k, w, b) for k in GRID["rrf_k"] for w in GRID["dense_weight"] for b in GRID["speaker_boost"]]
    table = {g: scores(data, replace(base, rrf_k=g[0], dense_weight=g[1], speaker_boost=g[2]), top_k) for g in grid}
    everyone = np.arange(len(data))
    chosen = best(table, everyone)
    groups = [min((q["story"][i][0] for i in q["gold"]), default=q["id"]) for q in data]  # the first gold article
    out_of_fold, picks = np.zeros((len(data), 2)), []
    for train, test in GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(data, groups=groups):
        picks.append(best(table, train))
        out_of_fold[test] = table[picks[-1]][test]
    hand_set = scores(data, replace(base, **HAND_SET), top_k)
    paraphrase = np.array([q["type"] == "paraphrase" for q in data])
    figures = {name: dict(hit=round(float(s[:, 0].mean()), 4), mrr=round(float(s[:, 1].mean()), 4),
                          paraphrase_hit=round(float(s[paraphrase, 0].mean()), 4))
               for name, s in (("chosen_on_all", table[chosen]), ("out_of_fold", out_of_fold),
                               ("hand_set_before", hand_set))}
    fitted = dict(fitted=f"{date.today().isoformat()} by eval/fit_fusion.py on {', '.join(args.questions)}: "
                         f"{len(data)} answerable one-part questions, hit = a gold article in the top {top_k}",
                  rrf_k=chosen[0], dense_weight=chosen[1], speaker_boost=chosen[2],
                  folds_chose=[list(p) for p in picks], **figures)
    text = json.dumps(fitted, indent=1)  # each grid point and each set of figures on one line
    text = re.sub(r"(\[|\{)\s+([^\[\]{}]*?)\s+(\]|\})",
                  lambda m: m.group(1) + re.sub(r"\s+", " ", m.group(2)) + m.group(3), text)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
