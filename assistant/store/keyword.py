"""BM25 keyword search over the committed chunks (bm25s), rebuilt from the record when it changes."""
from __future__ import annotations

import itertools
import json
import logging
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _quiet() -> None:
    logging.getLogger("bm25s").setLevel(logging.WARNING)


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")


def cjk_bigrams(text: str) -> str:
    """Chinese, Japanese and Korean have no spaces between words: index overlapping character pairs instead."""
    def pairs(match: re.Match) -> str:
        run = match.group(0)
        return " " + " ".join(run[i:i + 2] for i in range(max(1, len(run) - 1))) + " "

    return _CJK_RUN.sub(pairs, text)


def tokenize(texts: list[str]) -> list[list[str]]:
    return _tokenize(texts, return_ids=False)


def _tokenize(texts: Iterable[str], return_ids: bool):
    """The one tokenisation of index and queries: CJK pairs, English stopwords, Snowball stems."""
    import bm25s

    return bm25s.tokenize((cjk_bigrams(t) for t in texts), stopwords="en", stemmer=_stemmer(),
                          return_ids=return_ids, show_progress=False)


class _TokenIds:
    """Every chunk's token ids in one flat int32 array, shaped for `bm25s.BM25.index` (an object with `ids` and
    `vocab`): bm25s only takes len() of `ids` and iterates it, getting each chunk's ids as a list, in order."""

    def __init__(self, flat: np.ndarray, bounds: np.ndarray, vocab: dict[str, int]):
        self.flat, self.bounds, self.vocab = flat, bounds, vocab
        self.ids = self

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __iter__(self) -> Iterator[list[int]]:
        flat, bounds = self.flat, self.bounds
        for i in range(len(bounds) - 1):
            yield flat[bounds[i]:bounds[i + 1]].tolist()


class KeywordIndex:
    """An immutable BM25 index of (chunk_id, text) pairs, tagged with the record generation it was built from."""

    def __init__(self, generation: int, chunk_ids: list[str], retriever=None):
        self.generation = generation
        self.chunk_ids = chunk_ids
        self._retriever = retriever

    @classmethod
    def build(cls, generation: int, rows: Iterable[tuple[str, str]], batch: int = 50_000) -> "KeywordIndex":
        """Tokenised `batch` chunks at a time into one flat array of token ids, so a million chunks need neither
        their texts nor a Python list of ids per chunk in memory at once (about 1 GB less at the build's peak)."""
        import bm25s

        _quiet()
        ids: list[str] = []
        vocab: dict[str, int] = {}
        parts: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        rows = iter(rows)
        while True:
            texts = []
            for chunk_id, text in itertools.islice(rows, batch):
                ids.append(chunk_id)
                texts.append(text)
            if not texts:
                break
            tokens = _tokenize(texts, return_ids=True)  # ids local to this batch: renumber into `vocab`
            renumber = np.zeros(len(tokens.vocab), dtype=np.int32)
            for stem, local in tokens.vocab.items():
                renumber[local] = vocab.setdefault(stem, len(vocab))
            counts = np.fromiter((len(d) for d in tokens.ids), dtype=np.int64, count=len(tokens.ids))
            flat = np.fromiter(itertools.chain.from_iterable(tokens.ids), dtype=np.int32, count=int(counts.sum()))
            parts.append(renumber[flat])
            lengths.append(counts)
            del texts, tokens, flat
        if not ids:
            return cls(generation, [], None)
        bounds = np.concatenate([[0], np.cumsum(np.concatenate(lengths))])
        corpus = _TokenIds(np.concatenate(parts), bounds, vocab)
        del parts
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        return cls(generation, ids, retriever)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self._retriever is None or not self.chunk_ids or k <= 0:
            return []
        query_tokens = tokenize([query])[0]
        vocab = self._retriever.vocab_dict
        if not any(tok in vocab for tok in query_tokens):
            return []
        # bm25s's own scores; the top k are picked among the chunks that score at all (what bm25s.retrieve's
        # argpartition over every chunk takes 30-50 ms to do at 1M chunks, most of them scoring 0).
        scores = self._retriever.get_scores(query_tokens)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            values = scores[hits]
            kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th best score
            hits = np.concatenate([hits[values > kth], hits[values == kth][: k - int((values > kth).sum())]])
        hits = hits[np.lexsort((hits, -scores[hits]))]  # best first; equal scores in record (chunk id) order
        return [(self.chunk_ids[int(d)], float(scores[d])) for d in hits]

    def idf(self, words: list[str]) -> dict[str, float]:
        """Inverse document frequency over chunks for each word (stemmed as the index is); unseen words get the maximum."""
        n = len(self.chunk_ids)
        if self._retriever is None or n == 0:
            return {}
        vocab, indptr = self._retriever.vocab_dict, self._retriever.scores["indptr"]
        out = {}
        for word in words:
            [stem] = tokenize([word]) or [[]]
            if not stem:
                continue
            tid = vocab.get(stem[0])
            df = int(indptr[tid + 1] - indptr[tid]) if tid is not None else 0
            out[word] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def save(self, folder: Path) -> None:
        """Write next to `folder` and swap it in, so a reader never sees half an index."""
        if self._retriever is None:
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".keyword-", dir=folder.parent))
        try:
            self._retriever.save(str(tmp))
            (tmp / "newsdesk.json").write_text(json.dumps({"generation": self.generation, "chunk_ids": self.chunk_ids}))
            old = folder.with_name(folder.name + ".old")
            if folder.exists():
                os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        meta = folder / "newsdesk.json"
        if not meta.exists():
            return None
        try:
            import bm25s

            info = json.loads(meta.read_text())
            retriever = bm25s.BM25.load(str(folder), mmap=False)
            return cls(int(info["generation"]), list(info["chunk_ids"]), retriever)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index in %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None

