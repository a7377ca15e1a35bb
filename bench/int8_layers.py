"""Fit which layers of the int8 embedding graph stay fp32: assistant/ingest/int8_layers.json.

    python -m bench.int8_layers                     # BBC chunks in ../shared, 160 sampled with seed 21 (~20 min)
    python -m bench.int8_layers --corpus ~/news --sample 300

Each weight-multiplying node of the fused graph is quantised alone and scored by the mean 1 - cosine of the
sampled chunks' vectors to torch fp32's (its sensitivity). Then, most sensitive first, nodes are kept in fp32 until
the worst cosine of the sample reaches --target (above the 0.99 bar that `auto` demands, as a margin for texts
outside the sample). Chunks come from the corpus as the ingest makes them (headline + chunk, 170-token budget).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def corpus_texts(root: Path) -> list[str]:
    from assistant.ingest.pipeline import build_chunks
    from assistant.sources.articles import parse_file

    texts: list[str] = []
    for path in sorted(root.rglob("*.txt")):
        if path.stem.upper() == "README":
            continue
        for article in parse_file(path):
            texts += build_chunks(article, 170)[1]
    return texts


def encode(graph: Path, texts: list[str]) -> np.ndarray:
    from assistant.ingest.embedder import MAX_WORD_PIECES, model_path
    from assistant.ingest.onnx_model import OnnxEncoder

    encoder = OnnxEncoder(graph, model_path(), MAX_WORD_PIECES)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for begin in range(0, len(order), 32):
        idx = order[begin:begin + 32]
        out[idx] = encoder.encode([texts[i] for i in idx])[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.int8_layers", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared/corpora/bbc")
    parser.add_argument("--sample", type=int, default=160)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--target", type=float, default=0.995)
    parser.add_argument("--out", type=Path, default=None, help="default: assistant/ingest/int8_layers.json")
    args = parser.parse_args(argv)

    from assistant.ingest import onnx_model
    from assistant.ingest.embedder import Embedder, model_path

    texts = corpus_texts(args.corpus)
    if not texts:
        print(f"no .txt articles under {args.corpus}: pass --corpus DIR", file=sys.stderr)
        return 2
    sample = random.Random(args.seed).sample(texts, min(args.sample, len(texts)))
    reference = Embedder(precision="fp32", quick_start=False).embed(sample)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        fused, quantised = Path(tmp) / "fused.onnx", Path(tmp) / "int8.onnx"
        onnx_model.fused_graph(model_path(), fused)
        nodes = onnx_model.quantisable_nodes(fused)

        def cosines(keep_fp32: list[str]) -> np.ndarray:
            onnx_model.quantise(fused, quantised, keep_fp32)
            return (encode(quantised, sample) * reference).sum(1)

        sensitivity = {}
        for node in nodes:
            sensitivity[node] = float((1 - cosines([n for n in nodes if n != node])).mean())
            print(f"{node}: {sensitivity[node]:.6f}", file=sys.stderr, flush=True)
        keep: list[str] = []
        steps = []
        for node in [None, *sorted(nodes, key=sensitivity.get, reverse=True)]:
            if node:
                keep.append(node)
            cos = cosines(keep)
            steps.append({"fp32_layers": len(keep), "worst_cosine": round(float(cos.min()), 5),
                          "mean_cosine": round(float(cos.mean()), 5)})
            print(steps[-1], file=sys.stderr, flush=True)
            if cos.min() >= args.target:
                break
    fitted = {
        "keep_fp32": keep,
        "how": f"python -m bench.int8_layers --sample {args.sample} --seed {args.seed} --target {args.target} "
               f"(corpus {args.corpus.name}: {len(texts)} chunks)",
        "sensitivity_mean_1_minus_cosine": {n: round(v, 7) for n, v in sensitivity.items()},
        "steps": steps,
        "fitted": time.strftime("%Y-%m-%d", time.gmtime(started)),
    }
    out = args.out or Path(onnx_model.INT8_LAYERS)
    out.write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
    print(f"{len(keep)} of {len(nodes)} layers kept in fp32; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
