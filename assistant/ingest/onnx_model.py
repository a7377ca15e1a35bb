"""The embedding model as an ONNX graph, for a quick start: exported once with torch into a cache folder, then run
with onnxruntime, so answering a question never imports torch or transformers (about 5 s of a cold start here).

The graph is the same network with the same weights: vectors agree with the torch model to a cosine of 0.9999998.
Torch stays the runtime for bulk embedding (an ingest), where it is faster on this CPU (7k vs 4.5k word pieces/s).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir() -> Path:
    """NEWSDESK_MODEL_CACHE, else $XDG_CACHE_HOME/newsdesk, else ~/.cache/newsdesk."""
    explicit = os.environ.get("NEWSDESK_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsdesk"


def graph_path(model_dir: str) -> Path:
    """Where the graph of this model lives; the name changes when the weights or the exporter do."""
    weights = Path(model_dir) / "model.safetensors"
    digest = hashlib.sha256()
    with open(weights, "rb") as fh:
        digest.update(fh.read(1 << 20))
    digest.update(str(weights.stat().st_size).encode())
    digest.update(b"export-v1")
    return cache_dir() / f"all-MiniLM-L6-v2-{digest.hexdigest()[:16]}.onnx"


def export(model, path: Path) -> None:
    """Write `model` (a loaded transformers BertModel) as an ONNX graph with dynamic batch and length; atomic."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(Encoder(model).eval(), example, tmp, input_names=list(_INPUTS),
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={name: {0: "batch", 1: "length"} for name in (*_INPUTS, "last_hidden_state")})
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OnnxEncoder:
    """Mean-pooled, unit-length sentence vectors from the exported graph and the model's own tokenizer.json."""

    def __init__(self, graph: Path, model_dir: str, max_word_pieces: int, threads: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        # Spinning threads fight for the cores with a concurrent ingest or other requests (cf. OMP_WAIT_POLICY).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_word_pieces)
        self.tokenizer.enable_padding()

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32), int(mask.sum())
