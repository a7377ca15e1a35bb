"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank, near-duplicates collapsed."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Collection, Iterable, Mapping, Sequence

import numpy as np

from ..ingest.embedder import Embedder
from .query import asked_speakers, split
from ..text.quotes import any_speaks
from ..store.record import ArticleRow, ChunkRow, Store
from ..types import Passage

# how the two lists are fused, fitted on dev by eval/fit_fusion.py (its docstring says how)
FUSION = Path(__file__).with_name("fusion.json")
_FITTED = json.loads(FUSION.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval knobs; the fusion's are fitted (FUSION), the others set by hand."""

    candidates: int = 40  # depth of each ranked list before fusion
    rrf_k: float = _FITTED["rrf_k"]
    dense_weight: float = _FITTED["dense_weight"]
    keyword_weight: float = 1.0  # the unit the dense weight is in: only their ratio moves the ranking
    speaker_boost: float = _FITTED["speaker_boost"]  # in rank-1 RRF scores, for passages where the asked person speaks
    extra_per_part: int = 2  # a two-part question gets this many more passages, so each part has its own share
    followers: int = 4  # the chunk after each of the best few passages is read too (see Retriever.with_next)
    chain: int = 2  # ... and for the best passage, this many chunks after it (a list or a long quote runs on)


def fuse_rankings(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: float = 60) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: sum of weight / (k + rank) over the lists an id appears in."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def fuse(dense: Sequence[str], keyword: Sequence[str], boosted: Collection[str], cfg: RetrievalConfig
         ) -> dict[str, float]:
    """Each id's fused score: the two lists' weighted reciprocal ranks, and the speaker bonus for the `boosted` ids
    (passages where a person whose words the question asks for speaks)."""
    scores = fuse_rankings([dense, keyword], [cfg.dense_weight, cfg.keyword_weight], cfg.rrf_k)
    bonus = cfg.speaker_boost * (cfg.dense_weight + cfg.keyword_weight) / (cfg.rrf_k + 1)
    for chunk_id in boosted:
        if chunk_id in scores:
            scores[chunk_id] += bonus
    return scores


def stories(rows: Mapping[str, ChunkRow], articles: Mapping[str, ArticleRow]) -> dict[str, tuple[str, str]]:
    """Each chunk id's article and duplicate key (copies of one story share the key), for the ids whose article is
    in the record (crash leftovers fall away): what `one_per_story` reads."""
    return {i: (r.doc_id, articles[r.doc_id].dup_key) for i, r in rows.items() if r.doc_id in articles}


def one_per_story(ranked: Iterable[str], story: Mapping[str, tuple[str, str]], top_k: int) -> list[str]:
    """The first `top_k` of the `ranked` ids, keeping only the best-ranked copy of a story told under several names
    (`story`: each id's article and duplicate key; an id without one falls away)."""
    kept: list[str] = []
    article_of: dict[str, str] = {}
    for chunk_id in ranked:
        if chunk_id not in story:
            continue
        doc, dup = story[chunk_id]
        if article_of.setdefault(dup, doc) != doc:
            continue  # the same story under another name
        kept.append(chunk_id)
        if len(kept) >= top_k:
            break
    return kept


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, config: RetrievalConfig | None = None):
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    def with_next(self, passages: Sequence[Passage], first: int | None = None) -> list[Passage]:
        """The passages, then the chunk that follows each of the first few in its article when it was not retrieved
        itself: the figure, or the rest of a quote, often comes just after the words that match the question."""
        first = self.config.followers if first is None else first
        have = {p.chunk_id for p in passages}
        extra: list[Passage] = []
        rows_of: dict[str, list] = {}
        for n, p in enumerate(passages[:first]):
            rows = rows_of.setdefault(p.doc_id, self.store.chunks_of(p.doc_id))
            end = p.end
            for _ in range(self.config.chain if n == 0 else 1):
                nxt = next((r for r in rows if r.start >= end), None)
                if nxt is None:
                    break
                end = nxt.end
                if nxt.chunk_id not in have:
                    have.add(nxt.chunk_id)
                    extra.append(replace(p, text=nxt.text, chunk_id=nxt.chunk_id, start=nxt.start, end=nxt.end,
                                         speakers=nxt.speakers, dense=0.0, keyword=0.0))
        return [*passages, *self.with_sentence_vectors(extra)]

    def with_sentence_vectors(self, passages: Sequence[Passage]) -> list[Passage]:
        """The passages with the sentence vectors stored at ingest (None for a chunk without them), so the answerer
        embeds only the question."""
        stored = self.store.sentence_vectors([p.chunk_id for p in passages])
        return [replace(p, sentence_vectors=stored.get(p.chunk_id)) for p in passages]

    def retrieve(self, question: str, top_k: int = 10, query_vector: np.ndarray | None = None) -> list[Passage]:
        """The best passages; a two-part question gets the best of each part, interleaved (and a few more)."""
        parts = split(question)
        if len(parts) == 1:
            vector = self.embedder.embed_query(question) if query_vector is None else query_vector
            return self.with_sentence_vectors(self._retrieve_many([question], top_k, [vector])[0])
        vectors = self.embedder.embed(parts if query_vector is not None else [*parts, question])  # one batch
        whole = query_vector if query_vector is not None else vectors[-1]
        lists = self._retrieve_many([*parts, question], top_k, [*vectors[:len(parts)], whole])
        merged: list[Passage] = []
        seen: set[str] = set()
        for rank in range(top_k + self.config.extra_per_part):
            for ranking in lists:
                if rank < len(ranking) and ranking[rank].chunk_id not in seen:
                    seen.add(ranking[rank].chunk_id)
                    merged.append(ranking[rank])
        return self.with_sentence_vectors(merged[:top_k + self.config.extra_per_part * (len(parts) - 1)])

    def _retrieve_many(self, questions: Sequence[str], top_k: int, vectors: Sequence[np.ndarray]
                       ) -> list[list[Passage]]:
        """Hybrid retrieval for each question; the dense searches and record lookups are one call each."""
        cfg = self.config
        denses = self.store.dense_search_many(vectors, cfg.candidates)
        keywords = [self.store.keyword_search(q, cfg.candidates) for q in questions]
        # ids outside the record (crash leftovers) fall away here
        rows = self.store.chunks(list(dict.fromkeys(i for found in [*denses, *keywords] for i, _ in found)))
        articles = self.store.articles_by_id(dict.fromkeys(row.doc_id for row in rows.values()))
        story = stories(rows, articles)
        return [self._rank(q, rows, articles, story, dict(dense), dict(keyword), top_k)
                for q, dense, keyword in zip(questions, denses, keywords)]

    def _rank(self, question: str, rows: dict, articles: dict, story: dict[str, tuple[str, str]],
              dense_sim: dict[str, float], kw_score: dict[str, float], top_k: int) -> list[Passage]:
        cfg = self.config
        speakers = asked_speakers(question) if cfg.speaker_boost else []
        boosted = {i for i in [*dense_sim, *kw_score] if i in rows and any_speaks(speakers, rows[i].speakers)}
        fused = fuse(list(dense_sim), list(kw_score), boosted, cfg)
        ranked = sorted((i for i in fused if i in rows), key=lambda i: -fused[i])
        passages: list[Passage] = []
        for chunk_id in one_per_story(ranked, story, top_k):
            row, art = rows[chunk_id], articles[rows[chunk_id].doc_id]
            passages.append(Passage(
                doc_id=art.doc_id, title=art.title, source=art.source, text=row.text, score=fused[chunk_id],
                chunk_id=chunk_id, start=row.start, end=row.end, url=art.url, author=art.author, date=art.date,
                speakers=row.speakers, dense=dense_sim.get(chunk_id, 0.0), keyword=kw_score.get(chunk_id, 0.0),
            ))
        return passages
