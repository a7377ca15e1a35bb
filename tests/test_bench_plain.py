"""bench/plain.py: the one plain llama-index baseline, as `newsdesk eval` runs it (the bench's worker:
test_bench_smoke.py), and the error `newsdesk eval` gives when it cannot be loaded."""
from __future__ import annotations

import sys

import pytest

from assistant.errors import ConfigError
from assistant.evaluation import Question, plain_pipeline, run_baseline

from .conftest import SAMPLES


def test_the_baseline_indexes_a_folder_and_its_top_chunk_is_its_answer(tmp_path):
    pytest.importorskip("llama_index.vector_stores.chroma")
    plain = plain_pipeline(tmp_path / "plain")
    messages: list[str] = []
    plain.build([SAMPLES], messages.append)
    assert "documents" in messages[-1]
    question = Question("q1", "How many buses is Halbrook buying?", "factoid", ("01_halbrook_transit_vote.txt",), ())
    outcome, = run_baseline(plain, [question])
    assert outcome.ranked_docs[0].endswith("/examples/articles/01_halbrook_transit_vote.txt")
    assert outcome.answer.endswith(" [1]") and outcome.cited_docs == outcome.ranked_docs[:1]

    again = plain_pipeline(tmp_path / "plain")  # `--keep-index`: a second run reuses the collection
    again.build([SAMPLES], messages.append)
    assert messages[-1].startswith("llama-index baseline: reusing")
    assert again.retrieve(question.question) == plain.retrieve(question.question)


@pytest.mark.parametrize("missing, named", [
    ("llama_index.vector_stores.chroma", "pip install 'newsdesk[baseline]'"),
    ("llama_index.embeddings.huggingface", "pip install 'newsdesk[baseline]'"),
    ("bench.plain", "bench/plain.py"),
])
def test_a_missing_baseline_is_one_error_naming_what_to_install(monkeypatch, tmp_path, missing, named):
    monkeypatch.setitem(sys.modules, missing, None)  # what Python does for a package that is not installed
    with pytest.raises(ConfigError) as error:
        plain_pipeline(tmp_path)
    assert named in str(error.value) and "--no-baseline" in str(error.value)


def test_markdown_html_and_json_articles_are_read_by_newsdesks_parser_and_text_files_as_they_are():
    pytest.importorskip("llama_index.core")
    from bench.plain import article_files, read_documents

    files = article_files([SAMPLES])
    assert files == sorted(files) and not any(f.name.startswith("README") for f in files)
    documents = read_documents(files)
    by_file = {d.metadata["file_name"]: d.text for d in documents}
    assert set(by_file) == {f.name for f in files}
    assert "<p" not in by_file["04_eastmere_film_festival.html"]  # tags gone: the headline and body only
    assert not by_file["07_greywater_plastic_enzyme.json"].lstrip().startswith("{")
    halbrook = SAMPLES / "01_halbrook_transit_vote.txt"
    assert by_file[halbrook.name] == halbrook.read_text(encoding="utf-8")  # SimpleDirectoryReader: as it is
