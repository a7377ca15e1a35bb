"""The reader (a fitted cross-encoder) and how its training pairs are chosen: the shipped weights, on examples
written here."""
from __future__ import annotations

import random
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answering.extractive.reader import NO_READING, READ, READING, Reader, reread
from assistant.answering.extractive.scorer import Logistic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))


@pytest.fixture(scope="module")
def reader():
    return Reader()


@pytest.mark.parametrize("question, gives, does_not", [
    ("How many people work at the Tessfield glass factory?",
     "About 650 people work at the plant, which opened in 1971.",
     "The Tessfield glass factory will close in March, its owner Verrow said."),
    ("Who won the Harwick by-election?",
     "Jo Baines won the Harwick by-election with 5,200 votes.",
     "Voters in Harwick went to the polls on a wet Thursday."),
    ("What did Ines Caro say about the closure?",
     '"This is a sad day for the town," said the mayor, Ines Caro, of the closure.',
     "Ines Caro has been mayor of Tessfield since 2019."),
])
def test_the_reader_scores_the_sentence_that_gives_what_is_asked_above_one_about_the_same_story(
        reader, question, gives, does_not):
    yes, no = reader.scores(question, [gives, does_not])
    assert yes > no


def test_a_story_about_the_subject_that_lacks_the_fact_asked_scores_low(reader):
    """The trap the reader is for: the right story, not the fact asked."""
    question = "Which coroner held the inquest into the Oxley crash?"
    score, = reader.scores(question, ["Three people died in the Oxley crash on the A40 in May, police said."])
    answer, = reader.scores(question, ["The coroner, Dr Mary Hale, held the inquest into the Oxley crash."])
    assert score < 0 < answer


def test_the_likeliest_sentences_are_read_again_and_weighed_with_the_reader():
    """The second look reads only the READ likeliest sentences; with weight on the reader alone, the sentence it
    scores highest becomes the likeliest; the rest, and a sentence ruled out before (probability 0), get 0."""
    probs = np.array([0.1, 0.9, 0.2, 0.0] + [0.05] * 20)
    asked = []

    def score(top):
        asked.append(top)
        return np.array([5.0 if i == 2 else -1.0 for i in top])

    reader_only = Logistic(READING, np.zeros(2), np.ones(2), np.array([0.0, 1.0]), 0.0)
    again, best = reread(probs, score, reader_only)
    assert asked == [[1, 2, 0] + list(range(4, 4 + READ - 3))]  # the likeliest first; the ruled-out one not read
    assert int(np.argmax(again)) == 2 and best == 5.0
    assert again[3] == 0 and (again[4 + READ - 3:] == 0).all()
    none, best = reread(np.zeros(0), lambda top: np.zeros(0), reader_only)
    assert len(none) == 0 and best == NO_READING
    assert len(Reader(Path("/nonexistent")).scores("Who?", [])) == 0  # nothing to read loads nothing


def test_missing_or_foreign_weights_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run eval/fit_reader.py"):
        Reader(tmp_path / "missing.safetensors").scores("Who won?", ["Ann won."])
    from safetensors.numpy import save_file

    save_file({"head.weight": np.zeros((1, 384), np.float16)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="refit it with eval/fit_reader.py"):
        Reader(tmp_path / "other.safetensors").scores("Who won?", ["Ann won."])


def _item(question, texts, y, scores, answerable=True, offtopic=False, parts=1):
    return dict(query=SimpleNamespace(text=question), d=dict(cands=[SimpleNamespace(text=t) for t in texts]),
                y=np.array(y), scores=np.array(scores), answerable=answerable, labelled=answerable and parts == 1,
                offtopic=offtopic)


def test_training_pairs_are_the_sentences_the_scorer_would_give_the_reader(monkeypatch):
    """Labelled sentences against the scorer's likeliest others, a trap's likeliest sentences: as the answerer ranks
    them before the reader reads them, not by their likeness to the question."""
    import fit_reader

    monkeypatch.setattr(fit_reader.fe, "sentence_model", lambda items: "scorer")
    monkeypatch.setattr(fit_reader.fe, "scored", lambda it, scorer: it["scores"])
    pairs = fit_reader.pairs
    texts = [f"s{i}" for i in range(8)]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    answerable = _item("Q?", texts, [0, 0, 1, 0, 0, 0, 0, 1], scores)
    got = pairs([answerable], random.Random(7))
    assert got[:2] == [("Q?", "s2", 1), ("Q?", "s7", 1)]  # labelled, likeliest first
    assert [t for _, t, label in got[2:5]] == ["s0", "s1", "s3"] and len(got) == 6 and got[5][1] in {"s4", "s5", "s6"}
    trap = _item("T?", texts, [0] * 8, scores, answerable=False)
    assert [(t, label) for _, t, label in pairs([trap], random.Random(7))] == [(f"s{i}", 0) for i in range(4)]
    off = _item("O?", texts, [0] * 8, scores, answerable=False, offtopic=True)
    assert [t for _, t, _ in pairs([off], random.Random(7))] == ["s0"]
    two_parts = _item("A and B?", texts, [0, 0, 1, 0, 0, 0, 0, 0], scores, parts=2)  # its labels are the whole's
    unlabelled = _item("U?", texts, [0] * 8, scores)  # answerable, but no sentence holds the keywords
    assert pairs([two_parts, unlabelled], random.Random(7)) == []


def test_questions_run_an_onnx_copy_that_scores_as_the_fitted_network_does(tmp_path):
    """The first question makes the ONNX copy, which gives the torch network's scores (no torch at question time
    after that); a damaged copy is made again."""
    import torch

    from assistant.ingest.cross_encoder import MAX_PIECES, with_weights
    from assistant.ingest.embedder import model_path
    from transformers import AutoTokenizer

    question, sentences = "Who won the Harwick by-election?", ["Jo Baines won the Harwick by-election.", "It rained."]
    batch = AutoTokenizer.from_pretrained(model_path(), local_files_only=True)(
        [question] * 2, sentences, truncation=True, max_length=MAX_PIECES, padding=True, return_tensors="pt")
    with torch.inference_mode():
        by_torch = with_weights(Reader().path)(**batch).numpy()
    first = Reader(cache_dir=tmp_path)
    assert not first.graph().exists()
    assert np.allclose(first.scores(question, sentences), by_torch, atol=1e-4) and first.graph().exists()
    first.graph().write_bytes(b"not a graph")
    damaged = Reader(cache_dir=tmp_path)
    assert np.allclose(damaged.scores(question, sentences), by_torch, atol=1e-4)
    assert damaged.graph().stat().st_size > 1_000_000  # made again


def test_a_cache_that_cannot_be_written_says_what_to_do(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(OSError, match="NEWSDESK_MODEL_CACHE"):
        Reader(cache_dir=blocked / "cache").scores("Who won?", ["Ann won."])


def test_a_final_only_run_fits_one_model_over_the_cached_scores_and_says_when_there_are_none(monkeypatch, tmp_path):
    """A run stopped in its final fit resumes there (`--final-only`): the folds are not fitted again, and without an
    earlier run's scores it says to run without the flag."""
    import fit_reader

    cached = tmp_path / "fit-reader-x.json"
    trained, written = [], []
    monkeypatch.setattr(fit_reader.fe, "load_items", lambda files, index: ["item"])
    monkeypatch.setattr(fit_reader.fe, "reader_scores_path", lambda items: cached)
    monkeypatch.setattr(fit_reader, "out_of_fold", lambda items, bf16: {"q\nQ?": [0.5]})
    monkeypatch.setattr(fit_reader, "pairs", lambda items, rng: [("Q?", "s", 1)])
    monkeypatch.setattr(fit_reader, "train", lambda examples, seed, bf16: trained.append(examples) or "model")
    monkeypatch.setattr(fit_reader, "save", lambda model, path, note: written.append(path))
    argv = ["eval/dev.jsonl", "--index", "idx", "--out", str(tmp_path / "reader.safetensors")]
    with pytest.raises(SystemExit, match="run without it"):
        fit_reader.main([*argv, "--final-only"])
    assert not trained and not written
    assert fit_reader.main(argv) == 0 and cached.exists() and len(trained) == 1  # the folds (stubbed), then one fit
    monkeypatch.setattr(fit_reader, "out_of_fold", lambda items, bf16: pytest.fail("the folds were fitted again"))
    assert fit_reader.main([*argv, "--final-only"]) == 0 and len(trained) == 2 and len(written) == 2
