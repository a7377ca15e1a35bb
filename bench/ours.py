"""This project, measured through its public facade (`Assistant`) and its command line, in one worker process."""
from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .corpus import Question, change_corpus
from .measure import (PRECISION_NAMES, MachineShare, folder_mb, model_throughput, peak_rss_mb, percentiles, rss_mb,
                      run_timed)


def _newsdesk_cmd() -> list[str]:
    script = Path(sys.executable).parent / "newsdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def _child_env(index_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "NEWSDESK_"))}  # the user's LLM or Chroma server must not leak in
    env.update(NEWSDESK_HOME=str(index_dir), NEWSDESK_BACKEND="extractive")
    return env


def _report_dict(report, wall: float) -> dict:
    return {"wall_s": wall, "seconds": report.seconds, "added": report.added, "updated": report.updated,
            "unchanged": report.unchanged, "removed": report.removed, "failed": len(report.failed),
            "chunks": report.chunks, "tokens": report.tokens,
            "articles_per_s": (report.added + report.updated) / wall if wall else 0.0,
            "chunks_per_s": report.chunks / wall if wall else 0.0,
            "tokens_per_s": report.tokens / wall if wall else 0.0}


def _expected_doc_ids(root: Path, questions: list[Question]) -> dict[tuple[str, int], str]:
    """(file, article in it) -> the doc_id Newsdesk gives that article, for the questions that name one."""
    from assistant.sources.articles import parse_file

    out = {}
    for q in questions:
        if q.path and (root / q.path).exists():
            articles = parse_file((root / q.path).resolve())
            if q.index < len(articles):
                out[(q.path, q.index)] = articles[q.index].doc_id
    return out


class _Stopwatch:
    """Wraps methods of one object so each call's time is added to a named bucket (for the latency breakdown)."""

    def __init__(self):
        self.buckets: dict[str, float] = defaultdict(float)

    def wrap(self, obj, name: str, bucket=None):
        original = getattr(obj, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = bucket(*args, **kwargs) if callable(bucket) else (bucket or name)
                self.buckets[key] += time.perf_counter() - started

        setattr(obj, name, timed)


def _breakdown(qa, questions: list[str]) -> dict[str, float]:
    """Mean milliseconds per ask spent in each collaborator (embedding, Chroma, BM25, SQLite, the rest)."""
    watch = _Stopwatch()
    sentences = [0]

    def which(texts, *a, **k):
        if len(texts) == 1:
            return "embed_query"
        sentences[0] += len(texts)
        return "embed_answer_sentences"

    watch.wrap(qa.embedder, "embed", which)
    for name in ("dense_search", "keyword_search", "chunks", "articles_by_id", "counts", "sentence_vectors"):
        watch.wrap(qa.store, name, f"store.{name}")
    total = 0.0
    for q in questions:
        started = time.perf_counter()
        qa.ask(q)
        total += time.perf_counter() - started
    n = max(1, len(questions))
    out = {k: 1000 * v / n for k, v in sorted(watch.buckets.items())}
    out["other (fusion, extractive scoring, citations)"] = 1000 * total / n - sum(out.values())
    out["total"] = 1000 * total / n
    out["answer_sentences_embedded_per_ask"] = sentences[0] / n
    for name in ("embed",):
        qa.embedder.__dict__.pop(name, None)
    for name in ("dense_search", "keyword_search", "chunks", "articles_by_id", "counts", "sentence_vectors"):
        qa.store.__dict__.pop(name, None)
    return out


def save_base_vectors(store, cache_dir: Path, fingerprint: str, corpus_name: str) -> None:
    """The real chunk vectors and texts of this index, for `python -m bench scale` to build synthetic data from
    when it runs on the same corpus (`fingerprint`: its files' names and sizes)."""
    ids, vectors = store.all_vectors()
    rows = store.chunks(ids)
    titles = {a.doc_id: a.title for a in store.articles()}
    keep = [i for i, cid in enumerate(ids) if cid in rows]
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache_dir / "base_vectors.npy", vectors[keep])
    with open(cache_dir / "base_chunks.jsonl", "w", encoding="utf-8") as fh:
        for i in keep:
            r = rows[ids[i]]
            fh.write(json.dumps({"title": titles.get(r.doc_id, ""), "text": r.text, "speakers": list(r.speakers)},
                                ensure_ascii=False) + "\n")
    (cache_dir / "base_corpus.json").write_text(json.dumps({"fingerprint": fingerprint, "corpus": corpus_name,
                                                            "chunks": len(keep)}), encoding="utf-8")


def run(spec: dict) -> dict:
    from assistant import Assistant
    from assistant.ingest.embedder import SMALL_BATCH, Embedder
    from assistant.settings import Settings

    work = Path(spec["work_dir"])
    corpus = Path(spec["corpus_dir"])
    folders = [str(corpus)]  # the whole copy, nested folders and the articles the change adds included
    index_dir = work / "ours-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    questions = [Question(**q) for q in spec["questions"]]
    texts = [q.text for q in questions]
    result: dict = {"index_dir": str(index_dir), "assistant_package": str(Path(sys.modules["assistant"].__file__).parent)}
    import torch

    result["torch_threads"] = torch.get_num_threads()

    # The model is loaded (and run once) before the clock starts, for both pipelines alike.
    settings = Settings(home=index_dir, chroma_host=None, backend="extractive")
    result["settings"] = {"chunk_tokens": settings.chunk_tokens, "embed_batch_size": settings.embed_batch_size,
                          "embed_precision": settings.embed_precision, "top_k": settings.top_k}
    embedder = Embedder(settings.embed_batch_size, settings.embed_precision, cache_dir=settings.model_cache)
    started = time.perf_counter()
    calibration = spec["calibration_texts"]
    # Both runtimes: one text goes to the ONNX copy (questions), a batch above SMALL_BATCH to the bulk runtime
    # (ingests). One text alone left torch to load inside the first calibration, which then read ~1k word pieces/s,
    # not ~6k. Different texts, so that an int8 copy not built yet on this machine is built and checked here.
    embedder.embed(["warm up the model"])
    embedder.embed(list(calibration[:SMALL_BATCH + 8]))
    result["model_load_s"] = time.perf_counter() - started
    result["embed_precision"] = PRECISION_NAMES[embedder.precision] + \
        f" (NEWSDESK_EMBED_PRECISION={settings.embed_precision})"
    qa = Assistant(settings=settings, embedder=embedder, backend="extractive")
    model_before = model_throughput(embedder, calibration)

    watch = _Stopwatch()  # where the first ingest's time goes (the wrappers cost microseconds per batch)
    watch.wrap(embedder, "embed_with_spans", "embed (model)")
    watch.wrap(qa.store, "commit", "store.commit (SQLite + Chroma upsert)")
    with MachineShare() as share:
        started = time.perf_counter()
        report = qa.ingest(folders)
        result["first_ingest"] = _report_dict(report, time.perf_counter() - started)
    result["first_ingest"].update(share.result)
    result["first_ingest"]["tokens_per_cpu_s"] = report.tokens / share.result["own_cpu_s"]
    embedder.__dict__.pop("embed_with_spans")
    qa.store.__dict__.pop("commit")
    parts = dict(watch.buckets)
    parts["other (discover, hash, parse, chunk, quotes)"] = result["first_ingest"]["wall_s"] - sum(parts.values())
    result["first_ingest_breakdown_s"] = parts
    model_after = model_throughput(embedder, calibration)
    result["model_word_pieces_per_s"] = {"before": model_before, "after": model_after, "mean": (model_before + model_after) / 2}
    result["first_ingest"]["efficiency"] = result["first_ingest"]["tokens_per_s"] / result["model_word_pieces_per_s"]["mean"]
    result["first_ingest"]["failures"] = report.failed[:5]
    result["rss_after_ingest_mb"] = rss_mb()
    result["index_mb_after_ingest"] = folder_mb(index_dir)

    # The keyword side is kept in the record by each commit: the first question after an ingest only follows it.
    started = time.perf_counter()
    qa.store.keyword_index()
    result["bm25_rebuild_s"] = time.perf_counter() - started
    started = time.perf_counter()
    qa.retrieve(texts[0])
    result["first_query_after_ingest_s"] = time.perf_counter() - started + result["bm25_rebuild_s"]

    started = time.perf_counter()
    report = qa.ingest(folders)
    result["reingest_unchanged"] = _report_dict(report, time.perf_counter() - started)

    result["change"] = change_corpus(corpus, spec.get("edits", 10), spec.get("adds", 10))
    started = time.perf_counter()
    report = qa.ingest(folders)
    result["reingest_changed"] = _report_dict(report, time.perf_counter() - started)
    started = time.perf_counter()
    qa.retrieve(texts[0])  # includes the BM25 rebuild this change caused
    result["first_query_after_change_s"] = time.perf_counter() - started

    for q in texts[:3]:  # warm caches (HNSW pages, SQLite, tokenizer) before the measured passes
        qa.ask(q)
    expected = _expected_doc_ids(corpus, questions)
    retrieve_s, retrieve_cpu, hits = [], [], []
    share = MachineShare().__enter__()
    for q in questions:
        started, cpu = time.perf_counter(), time.process_time()
        passages = qa.retrieve(q.text, top_k=10)
        retrieve_s.append(time.perf_counter() - started)
        retrieve_cpu.append(time.process_time() - cpu)
        if (q.path, q.index) in expected:
            hits.append(any(p.doc_id == expected[(q.path, q.index)] for p in passages))
    result["retrieve"] = percentiles(retrieve_s)
    result["retrieve"]["hit_at_10"] = sum(hits) / len(hits) if hits else None
    result["retrieve"]["hit_questions"] = len(hits)
    result["retrieve"]["cpu"] = percentiles(retrieve_cpu)  # process CPU (all threads): less noisy than wall here
    ask_s, ask_cpu, abstained = [], [], 0
    for q in texts:
        started, cpu = time.perf_counter(), time.process_time()
        answer = qa.ask(q)
        ask_s.append(time.perf_counter() - started)
        ask_cpu.append(time.process_time() - cpu)
        abstained += answer.abstained
    result["ask"] = percentiles(ask_s)
    result["ask"]["cpu"] = percentiles(ask_cpu)
    result["ask"]["abstained"] = abstained
    share.__exit__(None, None, None)
    result["queries_others_cpu_share"] = share.result["others_cpu_share"]
    result["ask_breakdown_ms"] = _breakdown(qa, texts[: spec.get("breakdown_questions", 50)])
    result["rss_after_queries_mb"] = rss_mb()
    result["peak_rss_mb"] = peak_rss_mb()
    articles, chunks = qa.store.counts()
    result["articles"], result["chunks"] = articles, chunks
    result["index_mb"] = folder_mb(index_dir)
    result["index_parts_mb"] = {p.name: folder_mb(p) if p.is_dir() else p.stat().st_size / 2**20
                                for p in sorted(index_dir.iterdir())}
    if spec.get("cache_dir"):
        save_base_vectors(qa.store, Path(spec["cache_dir"]), spec["corpus_fingerprint"], spec.get("corpus_name", ""))

    # Cold start: new processes, as a user runs them. Let go of our Chroma client first.
    del qa
    gc.collect()
    cmd, env = _newsdesk_cmd(), _child_env(index_dir)
    helps = [run_timed(cmd + ["--help"], env=env) for _ in range(spec.get("help_runs", 5))]
    asks = [run_timed(cmd + ["ask", q], env=env, timeout=120) for q in spec.get("cold_questions", texts[:3])]
    result["cold_help"] = {"runs_s": [h["seconds"] for h in helps], "median_s": float(np.median([h["seconds"] for h in helps])),
                           "ok": all(h["returncode"] == 0 for h in helps)}
    result["cold_ask"] = {"runs_s": [a["seconds"] for a in asks], "median_s": float(np.median([a["seconds"] for a in asks])),
                          "max_s": max(a["seconds"] for a in asks), "peak_rss_mb": max(a["peak_rss_mb"] for a in asks),
                          "ok": all(a["returncode"] == 0 for a in asks),
                          "errors": [a["stderr"][-500:] for a in asks if a["returncode"] != 0]}
    return result
