"""The bench's inputs, decided in the parent process before anything is timed (bench/corpus.py, bench/inputs.py)."""
import json
import shutil
from pathlib import Path

import pytest

from bench.corpus import (CorpusArticle, calibration_texts, change_corpus, find_corpus, folder_corpus, make_questions,
                          read_articles)
from bench.inputs import InputError, check_writable, load_question_file, questions_from_file
from bench.measure import cpu_info, describe_cpu

from .conftest import ROOT, SAMPLES, SHARED


def _article(rel: str, n_sentences: int = 6, index: int = 0) -> CorpusArticle:
    body = " ".join(f"The council of town {rel[:3]} voted on budget line number {i} after a long debate that night."
                    for i in range(n_sentences))
    return CorpusArticle(rel, index, f"Budget vote in {rel}", body)


def test_a_folder_corpus_is_what_newsdesk_would_ingest(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "news" / "nested" / "deeper")
    (tmp_path / "news" / "README.md").write_text("# About\n\nThese are my articles.\n")
    (tmp_path / "news" / ".hidden.txt").write_text("Hidden\n\nNot to be read.\n")
    (tmp_path / "news" / "notes.docx").write_bytes(b"PK\x03\x04")
    corpus = folder_corpus(tmp_path / "news")
    assert len(corpus.files) == 14 and all(f.rel.startswith("nested/deeper/") for f in corpus.files)
    assert {f.rel.rsplit(".", 1)[1] for f in corpus.files} == {"txt", "md", "html", "json"}
    articles, readable, failed = read_articles(corpus)
    assert len(articles) == 14 and len(readable) == 14 and failed == []
    assert [f.rel for f in corpus.pick(5).files] == [corpus.files[i].rel for i in (0, 2, 5, 8, 11)]


def test_a_corpus_that_gives_no_article_says_which_file_and_why(tmp_path):
    (tmp_path / "a.json").write_text('{"title": "No body"}')
    with pytest.raises(InputError, match=r"none of its 1 article files could be read \(a.json: record 1: no article "
                                         r"text .*\); pass --corpus DIR"):
        read_articles(folder_corpus(tmp_path))


@pytest.mark.skipif(not (SHARED / "corpora" / "bbc").is_dir(), reason="needs ../shared/corpora/bbc")
def test_the_default_corpus_is_the_bbc_corpus_and_seeds_of_shared():
    corpus = find_corpus(None, SHARED)
    bbc = [f for f in corpus.files if f.rel.startswith("bbc/")]
    seeds = [f for f in corpus.files if f.rel.startswith("seeds/")]
    assert len(bbc) == len(list((SHARED / "corpora" / "bbc").glob("*/*.txt")))  # as before: README.TXT left out
    assert len(seeds) == corpus.pinned > 0 and len(corpus.files) == len(bbc) + len(seeds)
    picked = corpus.pick(30)
    assert len(picked.files) == 30 and picked.files[-len(seeds):] == seeds  # the seeds always kept


def test_no_bbc_corpus_names_both_ways_out(tmp_path):
    with pytest.raises(InputError, match=r"no --corpus given, and the default .* has no corpora/bbc folder; "
                                         r"pass --corpus DIR .* or --shared DIR"):
        find_corpus(None, tmp_path)
    with pytest.raises(InputError, match=rf"--shared {tmp_path} has no corpora/bbc"):
        find_corpus(None, tmp_path, shared_given=True)


def test_questions_are_made_from_the_articles_and_never_repeat():
    articles = [_article(f"{name}.md") for name in ("alpha", "beta", "gamma")]
    questions = make_questions(articles, 12, dev_share=0)
    assert len(questions) == 12 and len({q.text for q in questions}) == 12  # more questions than articles
    assert {q.path for q in questions} == {"alpha.md", "beta.md", "gamma.md"}
    assert sum(q.kind == "headline" for q in questions) == 2 and questions == make_questions(articles, 12, dev_share=0)


def test_dev_questions_join_only_when_their_articles_are_in_the_corpus():
    dev = [json.loads(line) for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line.strip()]
    gold = next(d for d in dev if len(d["gold_docs"]) == 1)["gold_docs"][0]
    about = [d["question"] for d in dev if d["gold_docs"] == [gold]]
    articles = [_article(gold)] + [_article(f"other/{i}.txt") for i in range(7)]
    questions = make_questions(articles, 8, dev_share=0.25)
    asked = [q for q in questions if q.kind == "dev"]
    assert len(asked) == min(2, len(about)) and all(q.text in about and q.path == gold for q in asked)
    assert not any(q.kind == "dev" for q in make_questions(articles[1:], 8, dev_share=0.25))


def test_calibration_is_at_least_a_torch_batch_even_for_one_short_article():
    from assistant.ingest.embedder import SMALL_BATCH

    texts = calibration_texts([_article("one.txt", n_sentences=2)])
    assert len(texts) > SMALL_BATCH and all(t.strip() for t in texts)
    with pytest.raises(InputError, match="no text to measure"):
        calibration_texts([])


def test_question_files_eval_jsonl_or_one_a_line(tmp_path):
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"id": "a", "question": " Who won? ", "gold_docs": ["sport/03.txt"]}\n\n'
                     '{"id": "b", "question": "Why?", "gold_docs": ["x.txt", "y.txt"]}\n')
    loaded = load_question_file(jsonl, 2000)
    assert [(q.text, q.gold_docs) for q in loaded] == [("Who won?", ("sport/03.txt",)), ("Why?", ("x.txt", "y.txt"))]
    articles = [_article("news/sport/03.txt"), _article("x.txt"), _article("y.txt")]
    assert [(q.kind, q.path) for q in questions_from_file(loaded, articles)] == [("file", "news/sport/03.txt"),
                                                                                ("file", "")]
    lines = tmp_path / "q.txt"
    lines.write_text("# my questions\nWho won the semi-final?\n\n  How much did the buses cost?  \n")
    assert [q.text for q in load_question_file(lines, 2000)] == ["Who won the semi-final?",
                                                                 "How much did the buses cost?"]

    lines.write_text('{"id": "a", "question": "Who won?"}\n')
    with pytest.raises(InputError, match="name it .jsonl"):
        load_question_file(lines, 2000)
    lines.write_text("# nothing but a comment\n")
    with pytest.raises(InputError, match="holds no questions"):
        load_question_file(lines, 2000)
    lines.write_text("Why " * 30 + "?\n")
    with pytest.raises(InputError, match="question 1 is 121 characters, over Newsdesk's limit of 100"):
        load_question_file(lines, 100)
    jsonl.write_text('{"question": "no id"}\n')
    with pytest.raises(InputError, match="line 1: not a question object"):
        load_question_file(jsonl, 2000)
    with pytest.raises(InputError, match="no such file; pass --questions-file FILE"):
        load_question_file(tmp_path / "absent.txt", 2000)


def test_output_paths_are_checked_by_writing(tmp_path):
    check_writable(tmp_path / "new" / "deeper" / "out.json", "--out")
    assert (tmp_path / "new" / "deeper").is_dir() and not list((tmp_path / "new" / "deeper").iterdir())
    with pytest.raises(InputError, match="--out .* is a folder; pass --out FILE"):
        check_writable(tmp_path, "--out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"file is a file, not a folder\); pass --png FILE"):
        check_writable(tmp_path / "file" / "plot.png", "--png")


def test_the_change_edits_text_files_only_and_adds_articles(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "c")
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    change = change_corpus(tmp_path / "c", edits=20, adds=3)
    assert change["editable"] == 12 and len(change["edited"]) == 12  # the .txt and .md files, not .html or .json
    for name, data in before.items():
        assert ((tmp_path / "c" / name).read_bytes() == data) == (name not in change["edited"])
    assert len(list((tmp_path / "c" / "added").glob("new_*.txt"))) == 3


AMX_CPU = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
ARM_CPU = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n"


def test_cpu_features_from_proc_cpuinfo():
    amx = cpu_info(AMX_CPU)
    assert (amx["model"], amx["amx"], amx["avx512"], amx["avx2"]) == ("Some Xeon", True, True, True)
    assert "AMX yes (amx_tile amx_bf16), AVX-512 yes (avx512f avx512_bf16), AVX2 yes" in describe_cpu(amx)
    arm = cpu_info(ARM_CPU)
    assert (arm["amx"], arm["avx512"], arm["avx2"]) == (False, False, False)
    assert "AMX no, AVX-512 no, AVX2 no" in describe_cpu(arm)
    assert "CPU flags unknown" in describe_cpu(cpu_info(""))


def test_news_batches_are_real_articles_added_to_an_index_and_reported(tmp_path, embedder):
    """`bench scale`'s end-to-end add (issue 21): seeded folders of files the synthetic chunks did not come from, each
    ingested by Assistant.ingest in one process; the report turns the running process's batches into a target."""
    from assistant import Assistant
    from bench.report import scale_table, scale_targets
    from bench.scale import news, news_folders

    names = sorted(p.name for p in SAMPLES.iterdir())
    taken = set(names[:6])
    folders = news_folders(SAMPLES, taken, tmp_path, batches=3, per_batch=3)
    assert len(folders) == 2  # 8 files left: two full batches of 3
    picked = [p.name.split("-", 1)[1] for f in folders for p in sorted(Path(f).iterdir())]
    assert len(set(picked)) == 6 and not taken & set(picked)
    assert news_folders(SAMPLES, taken, tmp_path, batches=3, per_batch=3) == folders  # seeded
    index = tmp_path / "idx"
    Assistant(index_dir=index, embedder=embedder).ingest([SAMPLES / n for n in names[:6]])
    result = news({"index_dir": str(index), "folders": folders})
    assert [b["articles"] for b in result["batches"]] == [3, 3] and all(b["seconds"] > 0 for b in result["batches"])
    scale = {"sizes": [{"size": 2000, "target": 2000, "retrieve": {"p95_ms": 1.0}, "peak_rss_mb": 1.0}],
             "news_end_to_end": result}
    added = [t for t in scale_targets(scale) if t["target"].startswith("add 3 real articles")]
    assert len(added) == 1 and added[0]["measured"] == result["batches"][1]["seconds"]
    assert "then 3 in" in scale_table({**scale, "sizes": []})
