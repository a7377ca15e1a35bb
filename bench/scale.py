"""Retrieval at scale: a synthetic index grown to 10k / 100k / 1M chunks through `assistant.store.Store.commit`,
measured with the project's own `assistant.retrieval.Retriever` at each size. No model runs for the synthetic
chunks: vectors are real chunk vectors plus small random perturbations (renormalised), texts are the base chunk's
sentences thinned and mixed with one sentence from elsewhere in the corpus, so BM25 sees realistic vocabulary.
"""
from __future__ import annotations

import json
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from .corpus import SEED, Question, pick_articles
from .measure import MachineShare, folder_mb, peak_rss_mb, percentiles, rss_mb

CHUNKS_PER_ARTICLE = 4
NOISE = 0.02  # per-dimension sigma: cosine to the base vector ~0.93, so neighbours stay topical but distinct


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def base_chunks(cache_dir: Path | None, sample_articles: int, embedder) -> tuple[np.ndarray, list[dict], str]:
    """Real chunk vectors and texts: from the cache the main benchmark saves, else by embedding a corpus sample."""
    if cache_dir and (cache_dir / "base_vectors.npy").exists() and (cache_dir / "base_chunks.jsonl").exists():
        vectors = np.load(cache_dir / "base_vectors.npy")
        rows = [json.loads(line) for line in (cache_dir / "base_chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        if len(rows) == len(vectors) and len(rows) > 0:
            return vectors.astype(np.float32), rows, f"cache ({len(rows)} chunks from the main benchmark's index)"
    from assistant.articles import parse_file
    from assistant.ingest import build_chunks

    rows, texts = [], []
    for path, _ in pick_articles(sample_articles):
        article = parse_file(path)[0]
        chunks, embed_texts = build_chunks(article, 170)
        rows += [{"title": article.title, "text": c.text, "speakers": list(c.speakers)} for c in chunks]
        texts += embed_texts
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return vectors, rows, f"embedded {len(rows)} chunks of {sample_articles} articles in {time.perf_counter() - started:.0f}s"


class Synthesizer:
    """Makes NewVersion batches of synthetic articles (CHUNKS_PER_ARTICLE chunks each) from the base chunks."""

    def __init__(self, vectors: np.ndarray, rows: list[dict], seed: int = SEED):
        from assistant.chunking import split_sentences

        self.vectors = vectors
        self.rows = rows
        self.sentences = [[r["text"][s:e] for s, e in split_sentences(r["text"])] or [r["text"]] for r in rows]
        self.pool = [s for group in self.sentences for s in group]
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.articles = 0

    def batch(self, chunks: int):
        from assistant.chunking import embedding_text
        from assistant.store import ArticleRow, ChunkRow, NewVersion

        n_articles = max(1, chunks // CHUNKS_PER_ARTICLE)
        total = n_articles * CHUNKS_PER_ARTICLE
        base = self.np_rng.integers(0, len(self.rows), total)
        vecs = self.vectors[base] + self.np_rng.normal(0.0, NOISE, (total, self.vectors.shape[1])).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rng = self.rng
        versions = []
        for a in range(n_articles):
            self.articles += 1
            doc_id = f"syn{self.articles:013x}"
            title = self.rows[base[a * CHUNKS_PER_ARTICLE]]["title"]
            chunk_rows, docs = [], []
            pos = 0
            for o in range(CHUNKS_PER_ARTICLE):
                j = int(base[a * CHUNKS_PER_ARTICLE + o])
                kept = [s for s in self.sentences[j] if rng.random() > 0.25] or self.sentences[j][:1]
                kept.insert(rng.randrange(len(kept) + 1), rng.choice(self.pool))
                text = " ".join(kept)
                chunk_rows.append(ChunkRow(f"{doc_id}:00000000:{o}", doc_id, o, text, pos, pos + len(text),
                                           len(text) // 4, tuple(self.rows[j]["speakers"])))
                docs.append(embedding_text(title, text))
                pos += len(text) + 1
            row = ArticleRow(doc_id, title, f"synthetic:{doc_id}", "", "", "", "", 0, doc_id, doc_id,
                             CHUNKS_PER_ARTICLE, "2025-01-01T00:00:00+00:00")
            versions.append(NewVersion(row, chunk_rows, vecs[a * CHUNKS_PER_ARTICLE:(a + 1) * CHUNKS_PER_ARTICLE], docs))
        return versions, total


def _time_calls(fn, args_list) -> list[float]:
    out = []
    for args in args_list:
        started = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - started)
    return out


def measure_size(store, embedder, questions: list[str], qvecs: np.ndarray) -> dict:
    """Latency of Retriever.retrieve (query embedding included) and of each of its parts, at the current size."""
    from assistant.retrieval import Retriever

    out: dict = {}
    started = time.perf_counter()
    index = store.keyword_index()  # rebuilt from SQLite: the generation changed with every commit
    out["bm25_rebuild_s"] = time.perf_counter() - started
    out["bm25_chunks"] = len(index.chunk_ids)
    out["rss_after_bm25_mb"] = rss_mb()
    retriever = Retriever(store, embedder)
    started = time.perf_counter()
    retriever.retrieve(questions[0])
    out["first_query_s"] = time.perf_counter() - started  # HNSW loaded from disk, SQLite pages cold
    for q in questions[1:4]:
        retriever.retrieve(q)
    share = MachineShare().__enter__()
    seconds = _time_calls(retriever.retrieve, [(q,) for q in questions])
    out["retrieve"] = percentiles(seconds)
    out["retrieve_with_vector"] = percentiles(
        _time_calls(lambda q, v: retriever.retrieve(q, query_vector=v), list(zip(questions, qvecs))))
    parts = {
        "dense_search": _time_calls(lambda v: store.dense_search(v, 40), [(v,) for v in qvecs]),
        "keyword_search": _time_calls(lambda q: store.keyword_search(q, 40), [(q,) for q in questions]),
        "embed_query": _time_calls(embedder.embed_query, [(q,) for q in questions]),
        "store_counts (Assistant.retrieve checks it per question)": _time_calls(store.counts, [()] * min(20, len(questions))),
    }
    out["parts"] = {k: percentiles(v) for k, v in parts.items()}
    share.__exit__(None, None, None)
    out["others_cpu_share"] = share.result["others_cpu_share"]  # other processes' use of the CPUs meanwhile
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def keyword_only(synth: Synthesizer, size: int, questions: list[str]) -> dict:
    """BM25 alone at `size` chunks (no Chroma): the rebuild and search cost the full-size index would pay."""
    from assistant.keyword import KeywordIndex

    rows = []
    while len(rows) < size:
        versions, _ = synth.batch(min(50_000, size - len(rows)))
        rows += [(c.chunk_id, f"{v.article.title}\n{c.text} []") for v in versions for c in v.chunks]
    rss_before = rss_mb()
    started = time.perf_counter()
    index = KeywordIndex.build(1, rows)
    build = time.perf_counter() - started
    del rows
    seconds = _time_calls(index.search, [(q, 40) for q in questions])
    return {"size": size, "bm25_build_s": build, "search": percentiles(seconds), "rss_before_mb": rss_before,
            "rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}


def serve(spec: dict) -> dict:
    """A new process opening the finished index and answering retrievals: what a user's server would hold."""
    from assistant.embedder import Embedder
    from assistant.retrieval import Retriever
    from assistant.store import Store, chroma_client

    index_dir = Path(spec["index_dir"])
    questions = [Question(**q).text for q in spec["questions"]][: spec.get("queries", 100)]
    out: dict = {}
    started = time.perf_counter()
    embedder = Embedder()
    embedder.embed(["warm up the model"])
    out["model_load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    store = Store(index_dir, chroma_client(index_dir))
    store.keyword_index()  # loaded from disk (saved by the builder), not rebuilt
    out["open_s"] = time.perf_counter() - started
    retriever = Retriever(store, embedder)
    started = time.perf_counter()
    retriever.retrieve(questions[0])
    out["first_query_s"] = time.perf_counter() - started
    out["retrieve"] = percentiles(_time_calls(retriever.retrieve, [(q,) for q in questions]))
    out["chunks"] = store.counts()[1]
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run(spec: dict) -> dict:
    from assistant.embedder import Embedder
    from assistant.store import Store, chroma_client

    work = Path(spec["work_dir"])
    index_dir = work / "scale-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    sizes = sorted(spec["sizes"])
    questions = [Question(**q).text for q in spec["questions"]][: spec.get("queries", 100)]

    embedder = Embedder()
    embedder.embed(["warm up the model"])
    vectors, rows, origin = base_chunks(Path(spec["cache_dir"]) if spec.get("cache_dir") else None,
                                        spec.get("sample_articles", 400), embedder)
    log(f"base chunks: {origin}")
    synth = Synthesizer(vectors, rows)
    qvecs = embedder.embed(questions)
    store = Store(index_dir, chroma_client(index_dir))
    result: dict = {"base": origin, "sizes": [], "noise_sigma": NOISE, "queries": len(questions)}
    inserted, insert_s, gen_s, n, took = 0, 0.0, 0.0, 0, 1.0
    batch = spec.get("batch_chunks", 20_000)
    stopped = None
    deadline = time.monotonic() + 60 * spec.get("max_insert_minutes", 10.0)  # for the sizes after the first
    for number, size in enumerate(sizes):
        while inserted < size and (number == 0 or time.monotonic() < deadline):
            started = time.perf_counter()
            versions, n = synth.batch(min(batch, size - inserted))
            gen_s += time.perf_counter() - started
            started = time.perf_counter()
            with store.writing():
                store.commit(versions)
            took = time.perf_counter() - started
            insert_s += took
            inserted += n
            log(f"{inserted:,} chunks (batch {n / took:,.0f}/s, {inserted / insert_s:,.0f}/s overall)")
        if inserted < size:
            stopped = {"target": size, "reached": inserted, "insert_s": insert_s,
                       "rate_last_chunks_per_s": n / took if inserted else None,
                       "reason": f"insert time budget of {spec.get('max_insert_minutes', 10.0)} min used up"}
            log(f"stopped at {inserted:,} of {size:,}: {stopped['reason']}")
        point = {"size": inserted, "target": size, "insert_s_total": insert_s, "generate_s_total": gen_s,
                 "insert_chunks_per_s": inserted / insert_s if insert_s else None}
        point.update(measure_size(store, embedder, questions, qvecs))
        point["index_mb"] = folder_mb(index_dir)
        point["index_parts_mb"] = {p.name: folder_mb(p) if p.is_dir() else p.stat().st_size / 2**20
                                   for p in sorted(index_dir.iterdir())}
        result["sizes"].append(point)
        log(f"{inserted:,}: retrieve p50 {point['retrieve']['p50_ms']:.1f} ms, p95 {point['retrieve']['p95_ms']:.1f} ms, "
            f"bm25 rebuild {point['bm25_rebuild_s']:.1f}s, rss {point['rss_mb']:.0f} MB")
        if stopped:
            result["stopped"] = stopped
            break
    result["peak_rss_mb"] = peak_rss_mb()
    if spec.get("serve_check", True) and result["sizes"]:
        log(f"a new process opens the {inserted:,}-chunk index and retrieves")
        result["serve"] = _serve_in_new_process({**spec, "index_dir": str(index_dir)}, work)
        if result["serve"]:
            log(f"new process: open {result['serve']['open_s']:.1f}s, p95 {result['serve']['retrieve']['p95_ms']:.1f} ms, "
                f"RSS {result['serve']['rss_mb']:.0f} MB")
    largest = max(sizes)
    if spec.get("keyword_only_at_largest", True) and inserted < largest:
        log(f"BM25 alone at {largest:,} chunks (the full index did not fit the time budget)")
        del store
        result["keyword_only"] = keyword_only(Synthesizer(vectors, rows, seed=SEED + 7), largest, questions)
    return result


def _serve_in_new_process(spec: dict, work: Path) -> dict | None:
    import os

    from .measure import run_timed

    spec_path, out_path = work / "serve-spec.json", work / "serve-result.json"
    spec_path.write_text(json.dumps(spec, default=str), encoding="utf-8")
    run = run_timed([sys.executable, "-m", "bench", "_worker", "serve", str(spec_path), str(out_path)],
                    env=dict(os.environ), timeout=1800, capture=False)
    if run["returncode"] != 0 or not out_path.exists():
        log(f"the serving check failed (exit {run['returncode']})")
        return None
    out = json.loads(out_path.read_text(encoding="utf-8"))
    out["process_wall_s"], out["process_peak_rss_mb"] = run["seconds"], run["peak_rss_mb"]
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = result["sizes"]
    sizes = [p["size"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [p["retrieve"]["p95_ms"] for p in points], "o-", label="hybrid retrieve p95")
    ax.plot(sizes, [p["retrieve"]["p50_ms"] for p in points], "o--", label="hybrid retrieve p50")
    ax.plot(sizes, [p["retrieve_with_vector"]["p95_ms"] for p in points], "d-.", label="retrieve, question vector given, p95")
    ax.plot(sizes, [p["parts"]["embed_query"]["p95_ms"] for p in points], "x:", label="query embedding p95")
    ax.plot(sizes, [p["parts"]["dense_search"]["p95_ms"] for p in points], "s:", label="Chroma dense p95")
    ax.plot(sizes, [p["parts"]["keyword_search"]["p95_ms"] for p in points], "^:", label="BM25 p95")
    extra = result.get("keyword_only")
    if extra:
        ax.plot([extra["size"]], [extra["search"]["p95_ms"]], "^", color="tab:red",
                label=f"BM25 alone at {extra['size']:,} p95")
    ax.axhline(100, color="grey", lw=0.8, ls="--", label="target p95 100 ms")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Newsdesk retrieval latency vs index size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
