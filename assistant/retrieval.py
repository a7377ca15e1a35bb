"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank, near-duplicates collapsed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .embedder import Embedder
from .quotes import mentions_person, person_names
from .store import Store
from .types import Passage

_SAY_RE = re.compile(
    r"\b(?:say|said|says|saying|tell|told|think|thinks|thought|believe|view|views|react|reacted|claim|claimed|"
    r"argue|argued|warn|warned|comment|commented|quote|quoted|according to|stance|position|opinion)\b",
    re.I,
)


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion knobs, tuned on eval/dev.jsonl (see README: Answer quality)."""

    candidates: int = 40  # depth of each ranked list before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    speaker_boost: float = 0.5  # in units of a rank-1 RRF score, for passages where the asked-about person speaks


def fuse_rankings(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: sum of weight / (k + rank) over the lists an id appears in."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def asked_speakers(question: str) -> list[str]:
    """People whose words the question asks about: 'What did Lei Jun say ...' -> ['Lei Jun']."""
    if not _SAY_RE.search(question):
        return []
    names = person_names(question)
    if not names:  # a single capitalised surname: "What did Okafor say about fares?"
        names = [w for w in re.findall(r"\b[A-Z][a-z][\w'-]+\b", question[1:]) if w.lower() not in _QUESTION_WORDS]
    return names


_QUESTION_WORDS = {"what", "who", "how", "why", "when", "where", "which", "did", "does", "said", "say", "the"}


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, config: RetrievalConfig | None = None):
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    def retrieve(self, question: str, top_k: int = 10, query_vector: np.ndarray | None = None) -> list[Passage]:
        cfg = self.config
        vector = self.embedder.embed_query(question) if query_vector is None else query_vector
        dense = self.store.dense_search(vector, cfg.candidates)
        keyword = self.store.keyword_search(question, cfg.candidates)
        fused = fuse_rankings([[i for i, _ in dense], [i for i, _ in keyword]],
                              [cfg.dense_weight, cfg.keyword_weight], cfg.rrf_k)
        rows = self.store.chunks(list(fused))  # ids outside the record (crash leftovers) fall away here
        speakers = asked_speakers(question)
        if speakers and cfg.speaker_boost:
            bonus = cfg.speaker_boost * (cfg.dense_weight + cfg.keyword_weight) / (cfg.rrf_k + 1)
            for chunk_id, row in rows.items():
                if any(mentions_person(name, s) for name in speakers for s in row.speakers):
                    fused[chunk_id] += bonus
        ranked = sorted((i for i in fused if i in rows), key=lambda i: -fused[i])
        articles = self.store.articles_by_id(rows[i].doc_id for i in ranked)
        dense_sim, kw_score = dict(dense), dict(keyword)
        passages: list[Passage] = []
        doc_for_dup: dict[str, str] = {}
        for chunk_id in ranked:
            row = rows[chunk_id]
            art = articles.get(row.doc_id)
            if art is None:
                continue
            if doc_for_dup.setdefault(art.dup_key, art.doc_id) != art.doc_id:
                continue  # the same story under another name: keep the best-ranked copy
            passages.append(Passage(
                doc_id=art.doc_id, title=art.title, source=art.source, text=row.text, score=fused[chunk_id],
                chunk_id=chunk_id, start=row.start, end=row.end, url=art.url, author=art.author, date=art.date,
                speakers=row.speakers, dense=dense_sim.get(chunk_id, 0.0), keyword=kw_score.get(chunk_id, 0.0),
            ))
            if len(passages) >= top_k:
                break
        return passages
