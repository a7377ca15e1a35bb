"""Fits the grounding check (assistant/answering/grounding.json): does a passage carry a claim an LLM cited it for?

    python eval/fit_grounding.py             # fit on eval/claims/replies.jsonl, write grounding.json
    python eval/fit_grounding.py --frozen    # also report the frozen written claims once (never to choose anything)

Data (eval/claims/, all over the invented articles of eval/fictional):
- replies.jsonl: the cited claims of real replies to 150 dev questions (`eval/reply_claims.py`), each with the passage
  it cites, labelled supported or not by a helper who saw no code. Two models wrote them: a capable one (a helper
  answering under Newsdesk's prompt) and SmolLM2-135M made to cite (eval/forced_citations.py). The model is fitted on
  these: they are what models write.
- written.jsonl: claims helpers wrote over passages.jsonl to be hard, half supported (close, paraphrased, combining two
  sentences, reported speech) and half not, from the passage's own words (recombined, wrong speaker, a number on the
  wrong thing, negated, an added detail, overreaching, garbled). Reported beside, not fitted on: fitted on them, the
  model learned how they were made (a close paraphrase has fewer of the passage's words than a recombination, so more
  words counted against a claim) and removed a third of the capable model's true claims.
- held_out.jsonl: the cited claims of the same two models' replies to 150 other dev questions, labelled the same way;
  only reported (their replies, in replies/, are replayed whole with eval/llm_replay.py).
- frozen.jsonl: more written claims over other passages, by a helper who saw none of the above; only reported.

A claim the rules of support.py reject (a name, number or quote the passage lacks, words given to the wrong speaker)
is removed whatever the model says, so the model is fitted on the claims the rules keep. The threshold keeps the most
supported claims less unsupported ones, out of fold (five folds grouped by question, seeds 7, 2 and 5 pooled), the
way the answerer's criterion counts right less wrong.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.grounding import FEATURES, MODEL, features, sentences_of  # noqa: E402
from assistant.answering.support import Evidence, support  # noqa: E402

CLAIMS = ROOT / "eval" / "claims"
SEEDS = (7, 2, 5)
FOLDS = 5
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CLAIMS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def featurise(pairs: list[tuple[str, str]], embed) -> tuple[np.ndarray, np.ndarray]:
    """(features, whether the rules keep the claim) for each (claim, passage as given to the model)."""
    X, kept = [], []
    for claim, passage in pairs:
        evidence = Evidence.of(passage)  # as the check reads a passage
        sentences = sentences_of(evidence.text)
        vectors = embed([claim, *sentences])
        X.append(features(claim, sentences, vectors[0], vectors[1:]))
        kept.append(not support(claim, evidence).missing)
    return np.array(X), np.array(kept)


def written(name: str, embed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    passages = {p["pid"]: p["title"] + "\n" + p["text"] for p in load("passages.jsonl")}
    claims = load(name)
    X, kept = featurise([(c["claim"], passages[c["pid"]]) for c in claims], embed)
    return X, kept, np.array([bool(c["supported"]) for c in claims])


def fit(X: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    return scaler, LogisticRegression(max_iter=1000).fit(scaler.transform(X), y)


def out_of_fold(X, kept, y, groups, seed: int) -> np.ndarray:
    names = sorted(set(groups))
    random.Random(seed).shuffle(names)
    fold = {g: i % FOLDS for i, g in enumerate(names)}
    folds = np.array([fold[g] for g in groups])
    p = np.zeros(len(y))
    for k in range(FOLDS):
        train = (folds != k) & kept
        scaler, model = fit(X[train], y[train])
        p[folds == k] = model.predict_proba(scaler.transform(X[folds == k]))[:, 1]
    return p


def counts(p, kept, y, threshold: float) -> dict:
    shown = kept & (p >= threshold)
    return {"supported_kept": int((shown & y).sum()), "of_supported": int(y.sum()),
            "unsupported_kept": int((shown & ~y).sum()), "of_unsupported": int((~y).sum())}


def compared(p, kept, y, threshold: float) -> dict:
    """What the rules alone keep, beside what they and the model keep."""
    return {"rules_alone": counts(np.ones(len(y)), kept, y, 0.5), "with_the_model": counts(p, kept, y, threshold)}


def by_model(rows: list[dict], p, kept, y, threshold: float) -> dict:
    """`compared` for each model's claims apart."""
    out = {}
    for name in sorted({r["model"] for r in rows}):
        mine = np.array([r["model"] == name for r in rows])
        out[name] = compared(p[mine], kept[mine], y[mine], threshold)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--frozen", action="store_true", help="report the frozen claims (only to report)")
    parser.add_argument("--out", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    from assistant.ingest.embedder import Embedder

    embed = Embedder().embed
    replies = load("replies.jsonl")
    X, kept = featurise([(r["claim"], r["passage"]) for r in replies], embed)
    y = np.array([bool(r["supported"]) for r in replies])
    oof = [out_of_fold(X, kept, y, [r["qid"] for r in replies], seed) for seed in SEEDS]

    def criterion(t: float) -> int:
        return sum(c["supported_kept"] - c["unsupported_kept"] for c in (counts(p, kept, y, t) for p in oof))

    threshold = float(max(THRESHOLDS, key=lambda t: (criterion(t), -t)))
    scaler, model = fit(X[kept], y[kept])

    def probability(X_: np.ndarray) -> np.ndarray:
        return model.predict_proba(scaler.transform(X_))[:, 1]

    Xw, kept_w, y_w = written("written.jsonl", embed)
    held = load("held_out.jsonl")
    Xh, kept_h = featurise([(r["claim"], r["passage"]) for r in held], embed)
    y_h = np.array([bool(r["supported"]) for r in held])
    out = {
        "fitted": f"{date.today()} by eval/fit_grounding.py on eval/claims/replies.jsonl: {len(replies)} cited claims "
                  f"of {len({r['qid'] for r in replies})} questions' replies, {int(kept.sum())} of them kept by the "
                  "rules",
        "names": list(FEATURES), "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
        "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]), "threshold": threshold,
        f"out_of_fold_seed_{SEEDS[0]}": by_model(replies, oof[0], kept, y, threshold),
        "held_out_claims": by_model(held, probability(Xh), kept_h, y_h, threshold),
        "written_claims": compared(probability(Xw), kept_w, y_w, threshold),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in ("mean", "scale")}, indent=1))
    if args.frozen:
        Xf, kept_f, y_f = written("frozen.jsonl", embed)
        print("frozen written claims:", compared(probability(Xf), kept_f, y_f, threshold))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
