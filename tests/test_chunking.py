from assistant.ingest.chunking import chunk_text, count_tokens, embedding_text, split_sentences
from assistant.text.sentences import sentences


def test_sentences_respect_abbreviations_numbers_and_quotes():
    text = 'Mr. Smith paid $3.5m. "It is fine," he said! Then J. Doe left?\nNew line starts here'
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Mr. Smith paid $3.5m.", '"It is fine," he said!', "Then J. Doe left?", "New line starts here"]
    assert sentences(text) == [text[s:e] for s, e in split_sentences(text)]  # the same sentences, as strings


def test_chunks_pack_whole_sentences_within_budget_with_exact_offsets():
    text = " ".join(f"Sentence number {i} talks about the harbour and the ships." for i in range(40))
    chunks = chunk_text("doc", text, budget=60)
    assert len(chunks) > 3
    for c in chunks:
        assert c.tokens <= 60
        assert text[c.start:c.end] == c.text
        assert c.text.startswith("Sentence") and c.text.endswith(".")
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    # every sentence is in exactly one chunk
    assert sum(c.text.count("Sentence number") for c in chunks) == 40


def test_a_run_on_line_is_cut_at_words_within_budget():
    text = "word " * 5000
    chunks = chunk_text("doc", text.strip(), budget=100)
    assert all(c.tokens <= 100 for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 5000


def test_chunks_fit_the_embedder_window(embedder):
    """MiniLM reads 256 word pieces: a full chunk with its headline must fit."""
    text = " ".join("The Bundesbank's quarterly forecast (Q3/2024) revised GDP growth to 0.8%, citing supply-chain issues." for _ in range(30))
    chunk = chunk_text("doc", text, budget=170)[0]
    full = embedding_text("Germany's economy stalls as exporters struggle with weak demand from China", chunk.text)
    assert embedder.count_word_pieces([full]) < 256
    assert count_tokens(chunk.text) <= 170
