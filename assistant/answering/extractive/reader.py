"""The reader: a model that reads a question together with one sentence and scores whether the sentence gives what
the question asks. It reads the scorer's likeliest sentences again (`reread`): their probabilities then weigh the
scorer's and the reader's views together, and the gate reads the reader's best score (its `reader` column).

Features of words and likeness cannot tell a near-topic trap ("Which coroner held the inquest?" over a story that
never names the coroner) from an answerable question: both have a story about the right people. A cross-encoder
sees the question and the sentence at once. It is the embedding model's own network (all-MiniLM-L6-v2, from its
package) with its upper layers and a scoring head over the mean of its outputs fitted on dev by eval/fit_reader.py;
reader.safetensors holds only the fitted weights, in fp16. Questions run an ONNX copy of it (`Reader`).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

READER = Path(__file__).with_name("reader.safetensors")
FROZEN_LAYERS = 2  # the word embeddings and the first layers keep the embedding model's weights
MAX_PIECES = 128  # question and sentence together, in word pieces
READ = 4  # the likeliest sentences read again (out of fold on dev 4,235, three seeds: 4, 6 and 8 gave 854, 816, 843)
NO_READING = -10.0  # the score of no sentence at all
READING = ("logit", "reader")  # what the second look reads of a sentence: the scorer's log-odds, the reader's score


def network():
    """The reader's network, as fitted and as loaded: the embedding model with a linear head on its mean output."""
    import torch
    from transformers import AutoModel

    from ...ingest.embedder import model_path

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


def reread(probs: np.ndarray, score: Callable[[list[int]], np.ndarray], second) -> tuple[np.ndarray, float]:
    """The READ sentences the scorer finds likeliest, read again: their probability from the scorer's and the
    reader's together (`second`, a model over READING fitted by eval/fit_extractive.py), every other sentence's 0;
    and the reader's best score of them (NO_READING when there is no sentence). `score` gives the reader's scores of
    the sentences at the indices it is given."""
    top = likeliest(probs)
    out = np.zeros(len(probs))
    if not top:
        return out, NO_READING
    scores = np.asarray(score(top), dtype=float)
    out[top] = second.probability(np.c_[log_odds(probs[top]), scores]) * (probs[top] > 0)
    return out, float(scores.max())


def likeliest(probs: np.ndarray) -> list[int]:
    """The indices of the READ likeliest sentences, the likeliest first (the earlier on a tie)."""
    return [int(i) for i in np.argsort(-probs, kind="stable")[:READ]]


def log_odds(probs: np.ndarray) -> np.ndarray:
    """The scorer's probabilities as the second look reads them (READING's "logit")."""
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fitted_names(model) -> list[str]:
    """The weights fitted (and stored): all but the word embeddings and the first FROZEN_LAYERS layers."""
    frozen = ("bert.embeddings.",) + tuple(f"bert.encoder.layer.{i}." for i in range(FROZEN_LAYERS))
    return [n for n, _ in model.named_parameters() if not n.startswith(frozen)]


class Reader:
    """Scores (question, sentence) pairs with the fitted reader; loads on first use. It runs an ONNX copy of the
    network, made once into `cache_dir` (default: Settings().model_cache) the first time it loads with torch, so a
    question never imports torch after that (`prepare` makes the copy; setup runs it). With torch, `bf16` autocasts
    to bf16 (default: where this CPU has AMX, as the embedder decides)."""

    def __init__(self, path: Path = READER, bf16: bool | None = None, cache_dir: Path | None = None):
        self.path = Path(path)
        self._bf16 = bf16
        self._cache_dir = cache_dir
        self._loaded: tuple | None = None
        self._lock = threading.Lock()

    def graph(self) -> Path:
        """Where the ONNX copy of these weights lives: its name changes with the weights and with the exporter."""
        from ...ingest.onnx_model import weights_digest

        if self._cache_dir is None:
            from ...settings import Settings

            self._cache_dir = Settings().model_cache
        return Path(self._cache_dir) / f"reader-{weights_digest(self.path, b'reader-export-v1')}.onnx"

    def prepare(self) -> Path:
        """Make the ONNX copy now (loading torch once) unless it exists; its path."""
        graph = self.graph()
        if not graph.exists():
            self._torch(graph)
        return graph

    def _load(self) -> tuple:
        if not self.path.exists():
            raise FileNotFoundError(f"the reader's weights are missing ({self.path}): run eval/fit_reader.py, or "
                                    "reinstall Newsdesk")
        graph = self.graph()
        if graph.exists():
            try:
                from ...ingest.embedder import model_path
                from ...ingest.onnx_model import session, tokenizer

                return "onnx", tokenizer(model_path(), MAX_PIECES), session(graph)
            except Exception as exc:  # noqa: BLE001 - a damaged copy: torch reads as well, only slower to start
                log.warning("could not load %s (%s); using torch", graph, exc)
        return self._torch(graph)

    def _torch(self, graph: Path) -> tuple:
        """The network with the fitted weights, through torch; it leaves its ONNX copy at `graph`."""
        from ...settings import prepare_model_libraries

        prepare_model_libraries()
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        from ...ingest.embedder import model_path
        from ...ingest.onnx_model import export_module
        from ...ingest.precision import has_amx, usable_cpu_flags

        model = network()
        weights = {k: v.float() for k, v in load_file(str(self.path)).items()}
        if set(weights) != set(fitted_names(model)):
            raise ValueError(f"{self.path} does not fit this reader's network: refit it with eval/fit_reader.py")
        model.load_state_dict(weights, strict=False)
        model.eval()
        try:
            export_module(model, graph, "score", {0: "batch"})
        except Exception as exc:  # noqa: BLE001 - the copy only saves the next process from loading torch
            log.warning("could not export the reader to ONNX (%s); questions will load torch", exc)
        bf16 = has_amx(usable_cpu_flags()) if self._bf16 is None else self._bf16
        return "torch", AutoTokenizer.from_pretrained(model_path(), local_files_only=True), model, bf16

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One score per sentence (a logit: above 0, more likely than not to give what the question asks)."""
        if not sentences:
            return np.zeros(0)
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        if self._loaded[0] == "onnx":
            _, tokenizer, graph = self._loaded
            pairs = tokenizer.encode_batch([(question, s) for s in sentences])
            feed = {name: np.array([getattr(e, attr) for e in pairs], dtype=np.int64)
                    for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                       ("token_type_ids", "type_ids"))}
            return graph.run(None, feed)[0].astype(float)
        import torch

        _, tokenizer, model, bf16 = self._loaded
        batch = tokenizer([question] * len(sentences), list(sentences), truncation=True, max_length=MAX_PIECES,
                          padding=True, return_tensors="pt")
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(**batch).float().numpy()
