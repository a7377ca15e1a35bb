"""Retrieval at scale: a synthetic index grown to 10k / 100k / 1M chunks through `assistant.store.Store.commit`,
measured with the project's own `assistant.retrieval.Retriever` at each size, and Chroma's dense results checked
against exact search. No model runs for the synthetic chunks: texts are a base chunk's sentences thinned and mixed
with one sentence from elsewhere in the corpus, so BM25 sees realistic vocabulary; vectors are the same mix of the
two real chunk vectors plus small random perturbations (renormalised).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from .corpus import SEED, Question
from .measure import PRECISION_NAMES, MachineShare, folder_mb, peak_rss_mb, percentiles, rss_mb

CHUNKS_PER_ARTICLE = 4
NOISE = 0.02  # per-dimension sigma: cosine to the base vector ~0.93, so neighbours stay topical but distinct


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def _cached_for(cache_dir: Path | None, fingerprint: str) -> bool:
    """The main benchmark's cached vectors exist and came from this corpus (same files, same sizes)."""
    if not cache_dir or not all((cache_dir / name).exists() for name in
                                ("base_vectors.npy", "base_chunks.jsonl", "base_corpus.json")):
        return False
    return json.loads((cache_dir / "base_corpus.json").read_text(encoding="utf-8")).get("fingerprint") == fingerprint


def base_chunks(spec: dict, embedder) -> tuple[np.ndarray, list[dict], str]:
    """Real chunk vectors and texts: from the cache the main benchmark saved for this corpus, else by embedding the
    sample of the corpus's articles the parent chose (`base_articles`: file and article in it)."""
    cache_dir = Path(spec["cache_dir"]) if spec.get("cache_dir") else None
    if _cached_for(cache_dir, spec["corpus_fingerprint"]):
        vectors = np.load(cache_dir / "base_vectors.npy")
        rows = [json.loads(line) for line in (cache_dir / "base_chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        if len(rows) == len(vectors) and len(rows) > 0:
            return vectors.astype(np.float32), rows, f"cache ({len(rows)} chunks from the main benchmark's index)"
    from assistant.sources.articles import parse_file
    from assistant.ingest.pipeline import build_chunks

    rows, texts = [], []
    corpus = Path(spec["corpus_dir"])
    for rel, index in spec["base_articles"]:
        article = parse_file(corpus / rel)[index]
        chunks, embed_texts = build_chunks(article, 170)
        rows += [{"title": article.title, "text": c.text, "speakers": list(c.speakers)} for c in chunks]
        texts += embed_texts
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return vectors, rows, (f"embedded {len(rows)} chunks of {len(spec['base_articles'])} articles in "
                           f"{time.perf_counter() - started:.0f}s")


class Synthesizer:
    """Makes NewVersion batches of synthetic articles (CHUNKS_PER_ARTICLE chunks each) from the base chunks.

    A synthetic chunk is a base chunk's sentences thinned (a quarter dropped) with one sentence of another chunk
    put in; its vector is the same mix of the two base vectors (weighted by their share of the text) plus small
    noise. Noise alone around ~1,000 base vectors would make 1M chunks into ~1,000 tight clumps of near-copies,
    which no real collection looks like and which HNSW searches badly (greedy search stuck in the wrong clump)."""

    def __init__(self, vectors: np.ndarray, rows: list[dict], seed: int = SEED, mix: bool = True, prefix: str = "syn"):
        from assistant.ingest.chunking import split_sentences

        self.vectors = vectors
        self.rows = rows
        self.sentences = [[r["text"][s:e] for s, e in split_sentences(r["text"])] or [r["text"]] for r in rows]
        self.pool = [s for group in self.sentences for s in group]
        self.pool_owner = np.repeat(np.arange(len(rows)), [len(g) for g in self.sentences])
        self.mix = mix  # False: the older noise-only vectors (for comparison runs)
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.articles = 0
        self.prefix = prefix  # another prefix for articles that must not collide with the index's ids

    def batch(self, chunks: int):
        from assistant.ingest.chunking import embedding_text
        from assistant.store.record import ArticleRow, ChunkRow, NewVersion

        n_articles = max(1, chunks // CHUNKS_PER_ARTICLE)
        total = n_articles * CHUNKS_PER_ARTICLE
        base = self.np_rng.integers(0, len(self.rows), total)
        other = np.zeros(total, dtype=np.int64)  # the chunk the put-in sentence comes from
        share = np.zeros(total, dtype=np.float32)  # its share of the text
        rng = self.rng
        versions = []
        for a in range(n_articles):
            self.articles += 1
            doc_id = f"{self.prefix}{self.articles:013x}"
            title = self.rows[base[a * CHUNKS_PER_ARTICLE]]["title"]
            chunk_rows, docs = [], []
            pos = 0
            for o in range(CHUNKS_PER_ARTICLE):
                n = a * CHUNKS_PER_ARTICLE + o
                j = int(base[n])
                kept = [s for s in self.sentences[j] if rng.random() > 0.25] or self.sentences[j][:1]
                k = rng.randrange(len(self.pool))
                kept.insert(rng.randrange(len(kept) + 1), self.pool[k])
                text = " ".join(kept)
                other[n], share[n] = self.pool_owner[k], len(self.pool[k]) / max(1, len(text))
                chunk_rows.append(ChunkRow(f"{doc_id}:00000000:{o}", doc_id, o, text, pos, pos + len(text),
                                           len(text) // 4, tuple(self.rows[j]["speakers"])))
                docs.append(embedding_text(title, text))
                pos += len(text) + 1
            row = ArticleRow(doc_id, title, f"synthetic:{doc_id}", "", "", "", "", 0, doc_id, doc_id,
                             CHUNKS_PER_ARTICLE, "2025-01-01T00:00:00+00:00")
            versions.append((row, chunk_rows, docs))
        vecs = self.vectors[base]
        if self.mix:
            vecs = (1 - share[:, None]) * vecs + share[:, None] * self.vectors[other]
        vecs = vecs + self.np_rng.normal(0.0, NOISE, vecs.shape).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        vecs = vecs.astype(np.float32)
        out = [NewVersion(row, chunk_rows, vecs[a * CHUNKS_PER_ARTICLE:(a + 1) * CHUNKS_PER_ARTICLE], docs)
               for a, (row, chunk_rows, docs) in enumerate(versions)]
        return out, total

    @staticmethod
    def chunk_id(row: int) -> str:
        """The id of the `row`-th chunk this synthesizer made (rows counted in the order batches were made)."""
        return f"syn{row // CHUNKS_PER_ARTICLE + 1:013x}:00000000:{row % CHUNKS_PER_ARTICLE}"


class ExactSearch:
    """Brute-force cosine over every inserted vector, kept in a flat float32 file (not in memory): the truth that
    Chroma's HNSW results are checked against. Vectors are unit length, so cosine is a dot product."""

    def __init__(self, path: Path, dim: int):
        self.path, self.dim, self.rows = path, dim, 0
        path.write_bytes(b"")

    def append(self, vectors: np.ndarray) -> None:
        with open(self.path, "ab") as fh:
            fh.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        self.rows += len(vectors)

    def top(self, queries: np.ndarray, k: int, block: int = 50_000) -> np.ndarray:
        """Row numbers of the k most similar vectors per query, best first."""
        best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        best_i = np.zeros((len(queries), 0), dtype=np.int64)
        q = np.asarray(queries, dtype=np.float32)
        for start in range(0, self.rows, block):
            count = min(block, self.rows - start)
            part = np.fromfile(self.path, dtype=np.float32, count=count * self.dim, offset=start * self.dim * 4)
            sims = q @ part.reshape(count, self.dim).T
            del part
            cand_s = np.concatenate([best_s, sims], axis=1)
            cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + count), sims.shape)], axis=1)
            keep = np.argpartition(-cand_s, min(k, cand_s.shape[1]) - 1, axis=1)[:, :k]
            best_s, best_i = np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_i, keep, 1)
        order = np.argsort(-best_s, axis=1)
        return np.take_along_axis(best_i, order, 1)


def dense_recall(store, exact: ExactSearch, qvecs: np.ndarray, k: int = 10) -> tuple[dict, list[list[str]]]:
    """Recall@k of the product's dense search (Store.dense_search, its own depth of 40) against exact search."""
    from assistant.retrieve.hybrid import RetrievalConfig

    depth = RetrievalConfig().candidates
    truth = [[Synthesizer.chunk_id(int(r)) for r in row] for row in exact.top(qvecs, k)]
    got = [[i for i, _ in store.dense_search(v, depth)[:k]] for v in qvecs]
    per_query = [len(set(g) & set(t)) / k for g, t in zip(got, truth)]
    return {"k": k, "queries": len(per_query), "recall": float(np.mean(per_query)), "worst_query": min(per_query),
            "queries_below_0.9": sum(r < 0.9 for r in per_query)}, got


def _time_calls(fn, args_list) -> list[float]:
    out = []
    for args in args_list:
        started = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - started)
    return out


def measure_size(store, embedder, questions: list[str], qvecs: np.ndarray) -> dict:
    """Latency of Retriever.retrieve (query embedding included) and of each of its parts, at the current size."""
    from assistant.retrieve.hybrid import Retriever

    out: dict = {}
    started = time.perf_counter()
    index = store.keyword_index()  # opened, and brought up to the record (kept by every commit)
    out["bm25_rebuild_s"] = time.perf_counter() - started
    out["bm25_chunks"] = len(index)
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
        "is_empty (Assistant checks it per question)": _time_calls(store.is_empty, [()] * len(questions)),
        "store_counts (status line)": _time_calls(store.counts, [()] * min(20, len(questions))),
    }
    out["parts"] = {k: percentiles(v) for k, v in parts.items()}
    # what the keyword side ranks first, to compare another build of it with (`--keyword-reference`)
    out["keyword_top10"] = [[i for i, _ in store.keyword_search(q, 40)[:10]] for q in questions]
    share.__exit__(None, None, None)
    out["others_cpu_share"] = share.result["others_cpu_share"]  # other processes' use of the CPUs meanwhile
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


NEWS_ARTICLES = 20  # what a newsroom adds at once (issue #21): "a few stories an hour to a large archive"


def add_and_remove(store, synth: Synthesizer, articles: int = NEWS_ARTICLES) -> dict:
    """Seconds to add `articles` new articles and to remove them again, each until the keyword side is ready for the
    next question (`store.keyword_index()`, as an ingest leaves it); vectors come ready, so no model time is in it.
    Removing them leaves the index as it was, so the next size grows the same index."""
    versions, chunks = synth.batch(articles * CHUNKS_PER_ARTICLE)
    out: dict = {"articles": len(versions), "chunks": chunks}
    started = time.perf_counter()
    with store.writing():
        store.commit(versions)
        store.keyword_index()
    out["add_s"] = time.perf_counter() - started
    out["peak_rss_after_add_mb"] = peak_rss_mb()
    started = time.perf_counter()
    with store.writing():
        store.remove([v.article.doc_id for v in versions])
        store.keyword_index()
    out["remove_s"] = time.perf_counter() - started
    out["peak_rss_after_remove_mb"] = peak_rss_mb()
    return out


def keyword_overlap(mine: list[list[str]], reference: list[list[str]]) -> dict:
    """Mean share of a reference run's keyword top 10 found in this run's top 10, question by question."""
    pairs = [(set(g), r) for g, r in zip(mine, reference) if r]
    shares = [len(g.intersection(r)) / len(r) for g, r in pairs]
    return {"queries": len(shares), "mean": float(np.mean(shares)) if shares else None,
            "worst": min(shares) if shares else None,
            "identical_lists": sum(list(g) == r for g, r in zip(mine, reference))}


def _reference_point(reference: dict | None, size: int) -> dict | None:
    return next((p for p in (reference or {}).get("sizes", []) if p["size"] == size and "keyword_top10" in p), None)


def keyword_only(synth: Synthesizer, size: int, questions: list[str], work: Path,
                 reference: dict | None = None) -> dict:
    """The keyword side alone at `size` chunks (no Chroma), in a record of its own: built from the record as an
    index from an older version is, then 20 articles added and removed, and the questions searched."""
    import sqlite3

    from assistant.store import keyword as kw

    rows = []
    while len(rows) < size:
        versions, _ = synth.batch(min(50_000, size - len(rows)))
        rows += [(c.chunk_id, kw.keyword_text(v.article.title, c.text, kw.speakers_json(())))
                 for v in versions for c in v.chunks]
    path = work / "keyword-only.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('generation', '1')")
    kw.create_tables(db)
    rss_before = rss_mb()
    started = time.perf_counter()
    db.execute("BEGIN")
    kw.rebuild(db, rows)
    db.execute("COMMIT")
    out: dict = {"size": size, "bm25_build_s": time.perf_counter() - started, "rss_before_mb": rss_before}
    del rows
    index = kw.KeywordIndex(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
    index.search("warm up", 10)
    versions, _ = synth.batch(NEWS_ARTICLES * CHUNKS_PER_ARTICLE)
    news = [(c.chunk_id, kw.keyword_text(v.article.title, c.text, "[]")) for v in versions for c in v.chunks]
    started = time.perf_counter()
    db.execute("BEGIN")
    kw.add(db, news)
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
    db.execute("COMMIT")
    index.search("warm up", 10)  # the reader follows
    out["news_add_s"] = time.perf_counter() - started
    started = time.perf_counter()
    db.execute("BEGIN")
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
    generation = int(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
    kw.remove(db, [chunk_id for chunk_id, _ in news], generation)
    db.execute("COMMIT")
    index.search("warm up", 10)
    out["news_remove_s"] = time.perf_counter() - started
    seconds = _time_calls(index.search, [(q, 40) for q in questions])
    out.update({"search": percentiles(seconds), "rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb(),
                "record_mb": sum(p.stat().st_size for p in work.glob("keyword-only.sqlite3*")) / 2**20,
                "keyword_top10": [[i for i, _ in index.search(q, 40)[:10]] for q in questions]})
    ref = (reference or {}).get("keyword_only")
    if ref and ref.get("size") == size and "keyword_top10" in ref:
        out["keyword_top10_overlap"] = keyword_overlap(out["keyword_top10"], ref["keyword_top10"])
    return out


def serve(spec: dict) -> dict:
    """A new process opening the finished index and answering retrievals: what a user's server would hold.
    It also re-runs the builder's recall queries: a reopened index must return what the builder's returned."""
    from assistant.ingest.embedder import Embedder
    from assistant.retrieve.hybrid import Retriever
    from assistant.store.record import Store, chroma_client

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
    qvecs = np.load(spec["recall_vectors"])
    out["retrieve_with_vector"] = percentiles(
        _time_calls(lambda q, v: retriever.retrieve(q, query_vector=v), list(zip(questions, qvecs))))
    builder = json.loads(Path(spec["builder_dense_top"]).read_text(encoding="utf-8"))
    from assistant.retrieve.hybrid import RetrievalConfig

    got = [[i for i, _ in store.dense_search(v, RetrievalConfig().candidates)[:10]] for v in qvecs]
    out["dense_top10_same_as_builder"] = sum(g == b for g, b in zip(got, builder)) / len(builder)
    out["chunks"] = store.counts()[1]
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run(spec: dict) -> dict:
    import resource

    from assistant.ingest.embedder import Embedder
    from assistant.store.record import Store, chroma_client

    work = Path(spec["work_dir"])
    index_dir = work / "scale-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    sizes = sorted(spec["sizes"])
    all_questions = [Question(**q).text for q in spec["questions"]]
    questions = all_questions[: spec.get("queries", 100)]
    recall_questions = all_questions[: spec.get("recall_queries", 200)]

    embedder = Embedder()
    embedder.embed(["warm up the model"])
    vectors, rows, origin = base_chunks(spec, embedder)
    log(f"base chunks: {origin}")
    synth = Synthesizer(vectors, rows)
    news = Synthesizer(vectors, rows, seed=SEED + 1, prefix="new")
    reference = None
    if spec.get("keyword_reference"):
        reference = json.loads(Path(spec["keyword_reference"]).read_text(encoding="utf-8"))
        reference = reference.get("scale", reference)
    recall_vecs = np.asarray(embedder.embed(recall_questions), dtype=np.float32)
    qvecs = recall_vecs[: len(questions)]
    exact = ExactSearch(work / "scale-vectors.f32", vectors.shape[1])
    documents = spec.get("chroma_documents", False)
    store = Store(index_dir, chroma_client(index_dir), documents=documents)
    from assistant.store.record import HNSW

    result: dict = {"base": origin, "sizes": [], "noise_sigma": NOISE, "queries": len(questions),
                    "embed_precision": PRECISION_NAMES[embedder.precision] + " (Embedder default: auto)",
                    "recall_queries": len(recall_questions), "chroma_documents": documents,
                    "hnsw": store.collection.configuration.get("hnsw") or HNSW}
    inserted, insert_s, insert_cpu_s, gen_s, n, took = 0, 0.0, 0.0, 0.0, 0, 1.0
    batch = spec.get("batch_chunks", 20_000)
    stopped = None
    deadline = time.monotonic() + 60 * spec.get("max_insert_minutes", 10.0)  # for the sizes after the first
    for number, size in enumerate(sizes):
        share = MachineShare().__enter__()
        while inserted < size and (number == 0 or time.monotonic() < deadline):
            started = time.perf_counter()
            versions, n = synth.batch(min(batch, size - inserted))
            exact.append(np.concatenate([v.vectors for v in versions]))
            gen_s += time.perf_counter() - started
            started, cpu0 = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            with store.writing():
                store.commit(versions)
            took = time.perf_counter() - started
            insert_cpu_s += sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0
            insert_s += took
            inserted += n
            log(f"{inserted:,} chunks (batch {n / took:,.0f}/s, {inserted / insert_s:,.0f}/s overall, "
                f"load {os.getloadavg()[0]:.1f})")
        share.__exit__(None, None, None)
        if inserted < size:
            stopped = {"target": size, "reached": inserted, "insert_s": insert_s,
                       "rate_last_chunks_per_s": n / took if inserted else None,
                       "reason": f"insert time budget of {spec.get('max_insert_minutes', 10.0)} min used up"}
            log(f"stopped at {inserted:,} of {size:,}: {stopped['reason']}")
        point = {"size": inserted, "target": size, "insert_s_total": insert_s, "generate_s_total": gen_s,
                 "insert_chunks_per_s": inserted / insert_s if insert_s else None,
                 "insert_last_batch_chunks_per_s": n / took if inserted else None,
                 "insert_cpu_ms_per_chunk": 1000 * insert_cpu_s / inserted if inserted else None,
                 "others_cpu_share_inserting": share.result["others_cpu_share"],
                 "load_avg": os.getloadavg()}
        point.update(measure_size(store, embedder, questions, qvecs))
        started = time.perf_counter()
        point["dense_recall_at_10"], dense_top = dense_recall(store, exact, recall_vecs)
        point["recall_check_s"] = time.perf_counter() - started
        point["news"] = add_and_remove(store, news)
        ref = _reference_point(reference, inserted)
        point["keyword_top10_overlap"] = keyword_overlap(point["keyword_top10"], ref["keyword_top10"]) if ref else None
        log(f"{inserted:,}: {NEWS_ARTICLES} articles added in {point['news']['add_s']:.2f}s, removed in "
            f"{point['news']['remove_s']:.2f}s; keyword top-10 overlap with the reference "
            f"{(point['keyword_top10_overlap'] or {}).get('mean')}")
        point["index_mb"] = folder_mb(index_dir)
        point["index_parts_mb"] = {p.name: folder_mb(p) if p.is_dir() else p.stat().st_size / 2**20
                                   for p in sorted(index_dir.iterdir())}
        result["sizes"].append(point)
        log(f"{inserted:,}: retrieve p50 {point['retrieve']['p50_ms']:.1f} ms, p95 {point['retrieve']['p95_ms']:.1f} ms, "
            f"dense recall@10 {point['dense_recall_at_10']['recall']:.3f}, bm25 rebuild {point['bm25_rebuild_s']:.1f}s, "
            f"rss {point['rss_mb']:.0f} MB")
        if stopped:
            result["stopped"] = stopped
            break
    result["peak_rss_mb"] = peak_rss_mb()
    exact.path.unlink(missing_ok=True)
    if spec.get("serve_check", True) and result["sizes"]:
        log(f"a new process opens the {inserted:,}-chunk index and retrieves")
        (work / "builder-dense-top.json").write_text(json.dumps(dense_top), encoding="utf-8")
        np.save(work / "recall-vectors.npy", recall_vecs)
        result["serve"] = _serve_in_new_process({**spec, "index_dir": str(index_dir),
                                                 "recall_vectors": str(work / "recall-vectors.npy"),
                                                 "builder_dense_top": str(work / "builder-dense-top.json")}, work)
        if result["serve"]:
            log(f"new process: open {result['serve']['open_s']:.1f}s, p95 {result['serve']['retrieve']['p95_ms']:.1f} ms, "
                f"RSS {result['serve']['rss_mb']:.0f} MB, dense top-10 as the builder's for "
                f"{result['serve']['dense_top10_same_as_builder']:.0%} of queries")
    largest = max(sizes)
    if spec.get("keyword_only_at_largest", True) and inserted < largest:
        log(f"BM25 alone at {largest:,} chunks (the full index did not fit the time budget)")
        del store
        result["keyword_only"] = keyword_only(Synthesizer(vectors, rows, seed=SEED + 7), largest, questions, work,
                                              reference)
    return result


def news(spec: dict) -> dict:
    """Real articles added to the finished index the way a user adds them: `Assistant.ingest` with the model, in a
    process of its own that starts cold (model and index not loaded), then two more batches in the same process (what
    a running page or `newsdesk watch` pays for each batch). Issue 21: adding 20 articles at 1M chunks <= 5 s."""
    from assistant import Assistant

    out: dict = {"batches": []}
    started = time.perf_counter()
    qa = Assistant(index_dir=spec["index_dir"])
    for number, folder in enumerate(spec["folders"]):
        batch = time.perf_counter()
        report = qa.ingest([folder])
        seconds = time.perf_counter() - batch
        out["batches"].append({"articles": report.added, "chunks": report.chunks, "seconds": seconds,
                               "since_start_s": time.perf_counter() - started, "failed": len(report.failed),
                               "peak_rss_mb": peak_rss_mb()})
        log(f"batch {number + 1}: {report.added} articles ({report.chunks} chunks) added in {seconds:.2f}s"
            + (" (process start: model and index loaded)" if number == 0 else ""))
    out["chunks"] = qa.status().chunks
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def news_folders(corpus_dir: Path, taken: set[str], work: Path, batches: int = 3,
                 per_batch: int = NEWS_ARTICLES) -> list[str]:
    """`batches` folders of `per_batch` corpus files each (seeded), none of them a file the synthetic chunks were
    made from (`taken`, relative to `corpus_dir`); a small corpus gives fewer folders."""
    files = [f for f in sorted(corpus_dir.rglob("*")) if f.is_file() and f.relative_to(corpus_dir).as_posix() not in taken]
    picked = random.Random(SEED).sample(files, min(len(files), batches * per_batch))
    folders = []
    for number in range(min(batches, len(picked) // per_batch)):
        folder = work / f"news-{number + 1}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for i, f in enumerate(picked[number * per_batch:(number + 1) * per_batch]):
            shutil.copy(f, folder / f"{i:02d}-{f.name}")
        folders.append(str(folder))
    return folders


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
    ax.set_xticks(sizes, [f"{n:,}" + (f"\ndense recall@10 {p['dense_recall_at_10']['recall']:.3f}"
                                      if p.get("dense_recall_at_10") else "") for n, p in zip(sizes, points)],
                  fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Newsdesk retrieval latency vs index size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
