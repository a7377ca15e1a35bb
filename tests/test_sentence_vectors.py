"""The answerer reads the sentence vectors stored at ingest, and embeds a sentence only when its passage has none."""
from dataclasses import replace

import numpy as np

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.extractive.candidates import candidates
from assistant.answering.extractive.vectors import candidate_vectors

QUESTION = "How many buses is Halbrook buying?"


class Recording:
    """The real embedder's `embed`, remembering every text it was given."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.texts: list[str] = []

    def __call__(self, texts):
        self.texts += list(texts)
        return self.embedder.embed(texts)


def _passages(qa):
    passages = qa.retriever.with_next(qa.retrieve(QUESTION))
    assert passages and all(p.sentence_vectors is not None for p in passages)
    return passages


def test_with_stored_vectors_the_answer_embeds_no_sentence(sample_assistant, embedder):
    passages = _passages(sample_assistant)
    qvec = embedder.embed_query(QUESTION)
    stored, live = Recording(embedder), Recording(embedder)
    answer = ExtractiveAnswerer(stored).sentences(QUESTION, passages, qvec)
    assert answer and stored.texts == []
    bare = [replace(p, sentence_vectors=None) for p in passages]  # an index from before: embedded while answering
    # stored rows are pooled in the chunk's context, so sentences embedded alone score a little differently and the
    # answer may pick other sentences of the same passages
    again = ExtractiveAnswerer(live).sentences(QUESTION, bare, qvec)
    assert again and {s[s.rindex("["):] for s in again} & {s[s.rindex("["):] for s in answer}
    assert live.texts


def test_passages_whose_vectors_do_not_line_up_are_embedded(sample_assistant, embedder):
    passages = _passages(sample_assistant)
    trimmed = replace(passages[0], text=passages[0].text[: passages[0].text.rfind(". ") + 1])  # a sentence less
    mixed = [trimmed, *passages[1:]]
    cands = candidates(mixed)
    record = Recording(embedder)
    vectors = candidate_vectors(cands, mixed, record)
    assert sorted(record.texts) == sorted(c.text for c in cands if c.passage == 0)
    alone = [i for i, c in enumerate(cands) if c.passage == 0]
    assert np.all(np.sum(vectors[alone] * embedder.embed([cands[i].text for i in alone]), axis=1) > 0.995)
    kept = [i for i, c in enumerate(cands) if c.passage > 0]  # the rest are the stored rows, as they were
    assert np.array_equal(vectors[kept], np.stack([mixed[cands[i].passage].sentence_vectors[cands[i].position]
                                                   for i in kept]))


def test_passages_found_by_keywords_alone_get_their_meaning_from_their_sentences(sample_assistant, embedder):
    """An index read without its vector store (read-only) finds passages by keyword alone: their closeness to the
    question, which the gates read, comes from their sentences' vectors and is close to the dense score."""
    from assistant.answering.extractive.vectors import with_meaning

    passages = _passages(sample_assistant)
    qvec = embedder.embed_query(QUESTION)
    cands = candidates(passages)
    vectors = candidate_vectors(cands, passages, embedder.embed)
    assert with_meaning(passages, cands, vectors, qvec) == list(passages)  # scored passages stay as they are
    approx = with_meaning([replace(p, dense=0.0) for p in passages], cands, vectors, qvec)
    dense = [p.dense for p in passages if p.dense]
    assert dense and max(abs(a.dense - p.dense) for a, p in zip(approx, passages) if p.dense) < 0.15
    assert np.corrcoef(dense, [a.dense for a, p in zip(approx, passages) if p.dense])[0, 1] > 0.9
