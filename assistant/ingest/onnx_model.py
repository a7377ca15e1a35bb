"""The embedding model as ONNX graphs, made once with torch into a cache folder, then run with onnxruntime.

The quick-start graph: the same network with the same weights (vectors agree with torch's to a cosine of 0.9999998),
so answering a question never imports torch or transformers (about 5 s of a cold start here).
The int8 graph, for bulk embedding on CPUs without AMX: exported with plain (eager) attention so that onnxruntime's
transformer optimizer fuses attention, layer norms and GELU, then dynamically quantised with per-channel int8
weights, the layers listed in int8_layers.json (fitted by bench/int8_layers.py) left in fp32.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
INT8_LAYERS = Path(__file__).with_name("int8_layers.json")  # which layers stay fp32, and what was measured


def _digest(model_dir: str, recipe: bytes) -> str:
    return weights_digest(Path(model_dir) / "model.safetensors", recipe)


def weights_digest(weights: Path, recipe: bytes) -> str:
    """A short name for a weights file as turned into a graph by `recipe`: its first MiB and size, and the recipe."""
    digest = hashlib.sha256()
    with open(weights, "rb") as fh:
        digest.update(fh.read(1 << 20))
    digest.update(str(weights.stat().st_size).encode())
    digest.update(recipe)
    return digest.hexdigest()[:16]


def graph_path(model_dir: str, cache_dir: Path) -> Path:
    """Where the quick-start graph of this model lives; the name changes when the weights or the exporter do."""
    return cache_dir / f"all-MiniLM-L6-v2-{_digest(model_dir, b'export-v1')}.onnx"


def int8_graph_path(model_dir: str, cache_dir: Path) -> Path:
    """Where the int8 graph lives; the name changes with the weights, the recipe and the layers kept in fp32."""
    recipe = b"int8-v1:" + json.dumps(int8_fp32_layers()).encode()
    return cache_dir / f"all-MiniLM-L6-v2-int8-{_digest(model_dir, recipe)}.onnx"


def int8_fp32_layers() -> list[str]:
    """Nodes of the fused graph left in fp32: the most sensitive to int8, as measured by bench/int8_layers.py."""
    return json.loads(INT8_LAYERS.read_text(encoding="utf-8"))["keep_fp32"]


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

    export_module(Encoder(model), path, "last_hidden_state", {0: "batch", 1: "length"})


def export_module(module, path: Path, output: str, output_axes: dict[int, str]) -> None:
    """Write a torch module over (input_ids, attention_mask, token_type_ids) as an ONNX graph with dynamic batch and
    length, its one output named `output` (with `output_axes` dynamic); atomic."""
    import torch

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "length"} for name in _INPUTS} | {output: output_axes}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(module.eval(), example, tmp, input_names=list(_INPUTS), output_names=[output],
                              opset_version=17, dynamo=False, dynamic_axes=axes)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def session(graph: Path, threads: int | None = None):
    """An onnxruntime session for `graph` on the CPU, its threads waiting passively."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    # Spinning threads fight for the cores with a concurrent ingest or other requests (cf. OMP_WAIT_POLICY).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def tokenizer(model_dir: str, max_word_pieces: int):
    """The model's own fast tokenizer (tokenizer.json), truncating at `max_word_pieces` and padding a batch."""
    from tokenizers import Tokenizer

    out = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    out.enable_truncation(max_word_pieces)
    out.enable_padding()
    return out


def fused_graph(model_dir: str, path: Path) -> None:
    """The fp32 network exported with eager attention and fused by onnxruntime's transformer optimizer (Attention,
    SkipLayerNormalization, BiasGelu, EmbedLayerNormalization): the graph the int8 one is quantised from."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    # torch's fused attention exports to a pattern the optimizer does not recognise; eager attention computes the
    # same function and fuses
    model = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager").eval()
    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    plain = path.with_suffix(".plain.onnx")
    export(model, plain)
    try:
        fused = optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=1)
        fused.save_model_to_file(str(path))
    finally:
        plain.unlink(missing_ok=True)


# The matrix products (attention's fused QKV projection, the dense layers): 95% of the fp32 graph's time. The
# embedding lookup and its layer norm stay fp32: 0.3% of the time, and quantised they moved vectors as much as the
# more sensitive dense layers (mean 1 - cosine 0.0003 on bench/int8_layers.py's sample)
QUANTISED_OPS = ("MatMul", "Attention")


def quantise(fused: Path, path: Path, keep_fp32: Sequence[str]) -> None:
    """Dynamic int8 quantisation of `fused`: per-channel int8 weights, activations quantised per batch; atomic."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantiser warns on the root logger to pre-process image models
    try:
        # DefaultTensorType: the fused ops are outside the standard domain, so shape inference cannot type them
        quantize_dynamic(fused, tmp, op_types_to_quantize=list(QUANTISED_OPS), per_channel=True,
                         weight_type=QuantType.QInt8, nodes_to_exclude=list(keep_fp32),
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        logging.disable(previous)
        if os.path.exists(tmp):
            os.unlink(tmp)


def quantisable_nodes(graph: Path) -> list[str]:
    """Names of the nodes quantise() turns into int8 (those multiplying by a weight), in graph order."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    weights = {init.name for init in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type in QUANTISED_OPS and n.input[1] in weights]


class OnnxEncoder:
    """Mean-pooled, unit-length sentence vectors from the exported graph and the model's own tokenizer.json."""

    def __init__(self, graph: Path, model_dir: str, max_word_pieces: int, threads: int | None = None):
        self.session = session(graph, threads)
        self.tokenizer = tokenizer(model_dir, max_word_pieces)

    def hidden(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The last hidden states (texts x word pieces x dimension), the attention mask and each word piece's
        character span in its text ((0, 0) for the special and padding pieces)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        offsets = np.array([e.offsets for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        return hidden, mask, offsets

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Mean-pooled unit vectors and the word pieces read."""
        hidden, mask, _ = self.hidden(texts)
        return mean_pool(hidden, mask), int(mask.sum())


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model's sentence vector: the mean of the unmasked word pieces' states, unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    return unit(pooled)


def span_pool(hidden: np.ndarray, mask: np.ndarray, offsets: np.ndarray,
              spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """For one text's states, the unit mean of the word pieces inside each character span (start, end): a
    sentence's vector read in its chunk's context. A span with no word piece read (truncated away) is all NaN."""
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    out = np.full((len(spans), hidden.shape[-1]), np.nan, dtype=np.float32)
    for k, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if inside.any():
            out[k] = hidden[inside].mean(0)
    return unit(out)


def unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
