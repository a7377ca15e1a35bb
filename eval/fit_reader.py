"""Fits the offline answerer's reader (assistant/answering/extractive/reader.safetensors) from labelled dev questions,
and scores every dev sentence with it out of fold for eval/fit_extractive.py, whose gate reads those scores.

    python eval/fit_reader.py eval/dev.jsonl --index /tmp/evalidx/newsdesk

Run it before eval/fit_extractive.py, over the same questions and index (it reads the same cached retrieval).

- Pairs, ranked by the scorer (fit_extractive's sentence model, fitted on the same questions), which picks the
  sentences the reader is given to read: each answerable one-part question's labelled sentences (the best two;
  labelled as fit_extractive labels them) against its three likeliest unlabelled ones and one more at random; each
  near-topic trap's four likeliest sentences and each off-topic question's likeliest one, as sentences that do not
  answer. The traps' sentences are what the reader is for: about the right story, not giving what is asked.
- Training: the embedding model's upper layers and a linear head (ingest/cross_encoder.network), cross-entropy,
  AdamW with a one-cycle learning rate, EPOCHS passes in batches of BATCH; bf16 autocast where the CPU has AMX.
- Out of fold: FOLDS models, each fitted without one fold's articles (folds grouped by gold article), score that
  fold's sentences; the scores are cached where fit_extractive.py finds them (`reader_scores_path`). Then one model
  is fitted on every question and written. `--final-only` fits only that one, over scores an earlier run cached (a
  run stopped in its final fit resumes there: the folds take most of the time).
Seeded (torch and the pairs' sampling); on another CPU or thread count the sums may round differently.
"""
from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fit_extractive as fe  # noqa: E402
from assistant.answering.extractive import reader as R  # noqa: E402
from assistant.ingest import cross_encoder as CE  # noqa: E402
from assistant.ingest.precision import has_amx, usable_cpu_flags  # noqa: E402

SEED = 7
FOLDS = 3
EPOCHS = 3  # out of fold on dev 5,035 (seeds 7, 2, 5 pooled): 2 passes 978, 3 passes 1,035 (quality.md, 21st)
BATCH = 32
LEARNING_RATE = 1e-4


def pairs(items: list[dict], rng: random.Random) -> list[tuple[str, str, int]]:
    """(question part, sentence, 1 if it gives the answer) for training, as the module's docstring says. Ranked by
    the scorer, as the answerer ranks them before the reader reads them (out of fold on dev 4,635, three seeds:
    975.7 against 938.3 ranked by likeness to the question; docs/quality.md, eighteenth session)."""
    scorer = fe.sentence_model(items)
    out = []
    for it in items:
        order = [int(i) for i in np.argsort(-fe.scored(it, scorer), kind="stable")]
        texts, y = [c.text for c in it["d"]["cands"]], it["y"]
        if it["answerable"]:
            if not it["labelled"] or not y.any():
                continue
            negatives = [i for i in order if not y[i]]
            chosen = [(i, 1) for i in order if y[i]][:2] + [(i, 0) for i in negatives[:3]] + \
                [(i, 0) for i in rng.sample(negatives[3:], min(1, len(negatives[3:])))]
        else:
            chosen = [(i, 0) for i in order[:1 if it["offtopic"] else 4]]
        out += [(it["query"].text, texts[i], label) for i, label in chosen]
    return out


def train(examples: list[tuple[str, str, int]], seed: int, bf16: bool, log=print):
    from assistant.settings import prepare_model_libraries

    prepare_model_libraries()
    import torch
    from transformers import AutoTokenizer

    from assistant.ingest.embedder import model_path

    torch.manual_seed(seed)
    examples = list(examples)
    random.Random(seed).shuffle(examples)
    tokenizer = AutoTokenizer.from_pretrained(model_path(), local_files_only=True)
    model = CE.network()
    fitted = set(CE.fitted_names(model))
    for name, p in model.named_parameters():
        p.requires_grad = name in fitted
    params = [p for p in model.parameters() if p.requires_grad]
    steps = int(len(examples) * EPOCHS) // BATCH
    optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=LEARNING_RATE, total_steps=steps, pct_start=0.1)
    model.train()
    started = time.time()
    for step in range(steps):
        batch = [examples[(step * BATCH + j) % len(examples)] for j in range(BATCH)]
        enc = tokenizer([b[0] for b in batch], [b[1] for b in batch], truncation=True, max_length=CE.MAX_PIECES,
                        padding=True, return_tensors="pt")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(**enc)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), torch.tensor([float(b[2]) for b in batch]))
        loss.backward()
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if step % 100 == 0:
            log(f"  step {step}/{steps}, loss {loss.item():.3f}, {time.time() - started:.0f} s")
    return model.eval()


def save(model, path: Path, note: str) -> None:
    from safetensors.torch import save_file

    weights = dict(model.named_parameters())
    save_file({n: weights[n].detach().half().contiguous() for n in CE.fitted_names(model)}, str(path),
              metadata=dict(fitted=note))


def score(model, items: list[dict], path: Path) -> dict[str, list[float]]:
    """Every sentence of `items` scored by `model` (a Reader over its weights, saved to `path` first; its ONNX copy
    goes beside it, not into the user's model cache)."""
    save(model, path, "out of fold")
    reader = R.Reader(path, cache_dir=path.parent)
    return {f"{it['d']['q'].id}\n{it['query'].text}":
            reader.scores(it["query"].text, [c.text for c in it["d"]["cands"]]).round(4).tolist() for it in items}


def out_of_fold(items: list[dict], bf16: bool) -> dict[str, list[float]]:
    """Every sentence of `items` scored by a model fitted without its fold's articles (FOLDS folds)."""
    from sklearn.model_selection import GroupKFold

    oof: dict[str, list[float]] = {}
    groups = [it["article"] for it in items]
    for k, (fit_on, test) in enumerate(GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
                                       .split(items, groups=groups)):
        examples = pairs([items[i] for i in fit_on], random.Random(SEED))
        print(f"fold {k + 1}/{FOLDS}: {len(examples)} pairs", flush=True)
        model = train(examples, SEED + k, bf16)
        with tempfile.TemporaryDirectory() as tmp:
            oof |= score(model, [items[i] for i in test], Path(tmp) / "fold.safetensors")
    return oof


FINAL_ONLY = ("the out-of-fold scores of these questions are cached by an earlier run (one stopped in its final fit): "
              "fit only the model that is written")


def main(argv: list[str] | None = None) -> int:
    args = fe.arguments(__doc__, R.READER, {"--final-only": FINAL_ONLY}, argv)
    items = fe.load_items(args.questions, args.index)
    bf16 = has_amx(usable_cpu_flags())
    cached = fe.reader_scores_path(items)
    if not args.final_only:
        cached.write_text(json.dumps(out_of_fold(items, bf16)), encoding="utf-8")
    elif not cached.exists():
        sys.exit(f"--final-only needs the out-of-fold scores of these questions and index cached at {cached}, and "
                 "there are none: run without it")
    print("out-of-fold scores:", cached, flush=True)
    examples = pairs(items, random.Random(SEED))
    print(f"all questions: {len(examples)} pairs", flush=True)
    model = train(examples, SEED, bf16)
    save(model, Path(args.out), f"{date.today().isoformat()} by eval/fit_reader.py (seed {SEED}) on "
                                f"{', '.join(args.questions)}: {len(examples)} pairs")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
