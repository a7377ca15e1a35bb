"""`python -m bench` as someone runs it from a fresh copy of the sources with no ../shared beside it.

On their own articles (every format Newsdesk reads, nested folders) it must measure both pipelines and write finite,
non-zero figures; with no corpus anywhere, an empty folder, unreadable articles, a broken question file or an
output it cannot write, it must stop at once with one line that says what to pass (exit 2), never a traceback.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLES

SOURCES = ("assistant", "bench", "eval", "prompts", "examples")  # what `python -m bench` needs of a checkout
JSONL_FROM = ("01_halbrook_transit_vote.txt", "05_caldora_rate_decision.txt")  # become two records of one .jsonl


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A copy of the sources, alone in its folder: no ../shared, no git, no results or caches of this checkout."""
    checkout = tmp_path_factory.mktemp("fresh") / "newsdesk"
    for name in SOURCES:
        shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "results"))
    assert not (checkout.parent / "shared").exists()
    return checkout


@pytest.fixture(scope="module")
def own_articles(tmp_path_factory) -> Path:
    """The 14 sample articles as someone's own folder: nested folders, a space in the name, .txt .md .html .json,
    and two stories moved into one .jsonl file (two articles in one file)."""
    from assistant.sources.articles import parse_file

    corpus = tmp_path_factory.mktemp("own") / "my articles"
    for n, src in enumerate(sorted(SAMPLES.iterdir())):
        if src.name in JSONL_FROM:
            continue
        dest = corpus / ("", "world", "world/deep")[n % 3] / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    records = [parse_file(SAMPLES / name)[0] for name in JSONL_FROM]
    (corpus / "wire").mkdir()
    (corpus / "wire" / "feed.jsonl").write_text(
        "".join(json.dumps({"title": a.title, "text": a.text, "url": a.url}) + "\n" for a in records), encoding="utf-8")
    return corpus


def bench(checkout: Path, *args: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith(("NEWSDESK_", "OPENAI_"))}  # the defaults, as for a newcomer
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench", *args], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return proc, time.perf_counter() - started


def assert_refused(proc: subprocess.CompletedProcess, seconds: float, *words: str) -> None:
    """Exit 2, one line on stderr naming what to pass, nothing on stdout, in under 2 seconds."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: "), proc.stderr[-2000:]
    for word in words:
        assert word in lines[0], f"{word!r} missing from: {lines[0]}"
    assert proc.stdout == ""
    assert seconds < 2, f"took {seconds:.1f}s to refuse: {lines[0]}"


def test_wrong_inputs_are_refused_at_once_with_what_to_pass(fresh, own_articles, tmp_path):
    proc, seconds = bench(fresh)  # no --corpus, and no ../shared beside this copy
    assert_refused(proc, seconds, "no --corpus given", "corpora/bbc", "pass --corpus DIR", "--shared DIR")

    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "README.md").write_text("# About this folder\n\nNot news.\n")  # skipped, as the product skips it
    proc, seconds = bench(fresh, "--corpus", str(empty))
    assert_refused(proc, seconds, f"--corpus {empty} holds no article files", "pass --corpus DIR")

    proc, seconds = bench(fresh, "--corpus", str(tmp_path / "missing"))
    assert_refused(proc, seconds, "no such folder", "pass --corpus DIR")

    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "blank.txt").write_text("  \n")
    proc, seconds = bench(fresh, "--corpus", str(unreadable))
    assert_refused(proc, seconds, "none of its 1 article files could be read", "blank.txt: the file is empty")

    bad = tmp_path / "questions.jsonl"
    bad.write_text('{"id": "q1", "question": "Who won the cup semi-final?"}\n{"id": "q2", "question": \n')
    proc, seconds = bench(fresh, "--corpus", str(own_articles), "--questions-file", str(bad))
    assert_refused(proc, seconds, f"--questions-file {bad}: line 2", "one question per line")

    proc, seconds = bench(fresh, "--corpus", str(own_articles), "--out", str(bad / "latest.json"))
    assert_refused(proc, seconds, f"{bad} is a file", "pass --out FILE")


def test_smoke_benchmark_on_your_own_articles_measures_both_pipelines(fresh, own_articles, tmp_path):
    out, png = tmp_path / "smoke.json", tmp_path / "scale.png"
    proc, _ = bench(fresh, "--smoke", "--corpus", str(own_articles), "--out", str(out), "--png", str(png),
                    "--work", str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr[-3000:]

    table = proc.stdout
    for expected in ("newsdesk", "plain llama-index", "ours/plain", "first ingest wall, s", "word pieces embedded/s",
                     "re-ingest, 10 edited + 10 new, s", "retrieval p95, ms", "full answer (extractive) p95, ms",
                     "`newsdesk --help`", "first `newsdesk ask` from a new process", "hybrid retrieval p95 at 2,000",
                     "insert/s", "CPU: ", "AMX ", "AVX-512 ", "AVX2 ", "embedding precision: newsdesk "):
        assert expected in table, f"{expected!r} missing from:\n{table}"
    assert table.index("CPU: ") < table.index("first ingest wall, s")  # at the top, read before the figures

    result = json.loads(out.read_text())
    meta, ours, plain, scale = result["meta"], result["ours"], result["plain"], result["scale"]
    # It ran this copy's code, on these articles: 13 files, 14 articles (the .jsonl holds two), in both pipelines.
    assert meta["bench_dir"] == str(fresh / "bench") and ours["assistant_package"] == str(fresh / "assistant")
    assert meta["corpus_root"] == str(own_articles) and meta["files"] == 13
    assert meta["articles"] == ours["first_ingest"]["added"] == plain["ingest"]["articles"] == 14
    assert ours["first_ingest"]["failed"] == 0
    assert meta["questions"] == 10 and meta["question_kinds"]["headline"] + meta["question_kinds"]["sentence"] == 10
    assert meta["calibration_texts"] > 24  # above the embedder's small batch: the bare model is timed on torch

    for name, pipeline, ingest in (("ours", ours, ours["first_ingest"]), ("plain", plain, plain["ingest"])):
        figures = {"ingest wall_s": ingest["wall_s"], "tokens": ingest["tokens"], "tokens_per_s": ingest["tokens_per_s"],
                   "efficiency": ingest["efficiency"], "tokens_per_cpu_s": ingest["tokens_per_cpu_s"],
                   "bare model word pieces/s": pipeline["model_word_pieces_per_s"]["mean"],
                   "bare model before": pipeline["model_word_pieces_per_s"]["before"],
                   "retrieval p50": pipeline["retrieve"]["p50_ms"], "retrieval p95": pipeline["retrieve"]["p95_ms"],
                   "peak RSS": pipeline["peak_rss_mb"], "index MB": pipeline["index_mb"]}
        for label, value in figures.items():
            assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (name, label, value)
        assert pipeline["retrieve"]["n"] == 10 and pipeline["retrieve"]["hit_questions"] == 10
        assert pipeline["retrieve"]["hit_at_10"] is not None
    for row in result["rows"]:
        for column in ("ours", "plain", "ratio"):
            value = row[column]
            assert value is None or (isinstance(value, (int, float)) and math.isfinite(value)), row
        assert row["ours"] is not None, row

    assert ours["reingest_unchanged"]["added"] == ours["reingest_unchanged"]["updated"] == 0
    assert len(ours["change"]["edited"]) == 10 and ours["reingest_changed"]["updated"] == 10
    assert ours["reingest_changed"]["added"] == 10
    assert ours["ask"]["n"] == 10 and ours["cold_help"]["ok"] and ours["cold_ask"]["ok"], ours["cold_ask"]["errors"]
    assert plain["llm"] == "MockLLM"  # nothing online: no OpenAI LLM, and the embedding model is the local one
    assert scale["sizes"][0]["size"] == 2000 and scale["sizes"][0]["retrieve"]["n"] == 10
    assert scale["base"].startswith("embedded")  # from these articles: a smoke run neither reads nor writes a cache
    assert png.stat().st_size > 0

    # The CPU's features as /proc/cpuinfo lists them, and the precision the embedder chose from them.
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("flags")), [])
        if flags:
            assert meta["cpu"]["amx"] == ("amx_tile" in flags)
            assert meta["cpu"]["avx512"] == ("avx512f" in flags) and meta["cpu"]["avx2"] == ("avx2" in flags)
            from assistant.ingest.precision import choose_precision

            chosen = choose_precision("auto", frozenset(flags))  # NEWSDESK_EMBED_PRECISION=auto
            assert meta["embed_precision"]["newsdesk"].startswith(chosen)
    assert meta["embed_precision"]["plain llama-index"].startswith("fp32")
