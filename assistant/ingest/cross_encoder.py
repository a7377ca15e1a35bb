"""A cross-encoder on the embedding model's network: it reads a question and a sentence in one pass and scores whether
the sentence gives what the question asks (a logit). The network is all-MiniLM-L6-v2 (from its package) with a
linear head over the mean of its outputs; only what eval/fit_reader.py fits ships, in fp16 (the upper layers and the
head). Questions run an ONNX copy of the whole, made once with torch into the model cache (`prepare`; setup runs
it), so a question never imports torch. The answerer's reader (answering/extractive/reader.py) is one of these.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

FROZEN_LAYERS = 2  # the word embeddings and the first layers keep the embedding model's weights
MAX_PIECES = 128  # question and sentence together, in word pieces


def network():
    """The network, as fitted and as exported: the embedding model with a linear head on its mean output."""
    import torch
    from transformers import AutoModel

    from .embedder import model_path

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(model_path(), local_files_only=True)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    return CrossEncoder()


def fitted_names(model) -> list[str]:
    """The weights fitted (and stored): all but the word embeddings and the first FROZEN_LAYERS layers."""
    frozen = ("bert.embeddings.",) + tuple(f"bert.encoder.layer.{i}." for i in range(FROZEN_LAYERS))
    return [n for n, _ in model.named_parameters() if not n.startswith(frozen)]


def with_weights(path: Path):
    """The network with the fitted weights of `path`, in fp32, for inference (torch)."""
    from ..settings import prepare_model_libraries

    prepare_model_libraries()
    from safetensors.torch import load_file

    model = network()
    weights = {k: v.float() for k, v in load_file(str(path)).items()}
    if set(weights) != set(fitted_names(model)):
        raise ValueError(f"{path} does not fit this reader's network: refit it with eval/fit_reader.py")
    model.load_state_dict(weights, strict=False)
    return model.eval()


class CrossEncoder:
    """Scores (question, sentence) pairs with the fitted weights at `path`, through their ONNX copy in `cache_dir`
    (default: Settings().model_cache); loads on first use, and makes the copy then if it is missing or damaged."""

    def __init__(self, path: Path, cache_dir: Path | None = None):
        self.path = Path(path)
        self._cache_dir = cache_dir
        self._loaded: tuple | None = None
        self._lock = threading.Lock()

    def graph(self) -> Path:
        """Where the ONNX copy of these weights lives: its name changes with the weights and with the exporter."""
        from .onnx_model import weights_digest

        if self._cache_dir is None:
            from ..settings import Settings

            self._cache_dir = Settings().model_cache
        return Path(self._cache_dir) / f"reader-{weights_digest(self.path, b'reader-export-v1')}.onnx"

    def prepare(self, again: bool = False) -> Path:
        """Make the ONNX copy now (loading torch once) unless it exists (or `again`); its path."""
        from .onnx_model import export_module

        if not self.path.exists():
            raise FileNotFoundError(f"the reader's weights are missing ({self.path}): run eval/fit_reader.py, or "
                                    "reinstall Newsdesk")
        graph = self.graph()
        if again or not graph.exists():
            model = with_weights(self.path)  # a weights file that cannot be read is no fault of the cache
            try:
                export_module(model, graph, "score", {0: "batch"})
            except OSError as exc:
                raise OSError(f"could not write the reader's ONNX copy to {graph} ({exc}): make that folder "
                              "writable, or set NEWSDESK_MODEL_CACHE to one that is") from exc
        return graph

    def _load(self) -> tuple:
        from .embedder import model_path
        from .onnx_model import session, tokenizer

        graph = self.prepare()
        try:
            run = session(graph)
        except Exception as exc:  # noqa: BLE001 - a damaged copy (a crash while it was written by hand, a bad disk)
            log.warning("could not load %s (%s); making it again", graph, exc)
            run = session(self.prepare(again=True))
        return tokenizer(model_path(), MAX_PIECES), run

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One score per sentence (a logit: above 0, more likely than not to give what the question asks)."""
        if not sentences:
            return np.zeros(0)
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        tokenizer, run = self._loaded
        pairs = tokenizer.encode_batch([(question, s) for s in sentences])
        feed = {name: np.array([getattr(e, attr) for e in pairs], dtype=np.int64)
                for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                   ("token_type_ids", "type_ids"))}
        return run.run(None, feed)[0].astype(float)
