"""The two runtimes of the embedding model agree, and a question in a new process never loads torch."""
import subprocess
import sys

import numpy as np

from assistant.ingest.embedder import Embedder

from .conftest import ROOT

TEXTS = ["What did Lei Jun say about chips?", "Halbrook council will buy twelve electric buses next spring.",
         "台北市政府今天宣布，明年將增加公車路線。"]


def test_the_quick_start_copy_is_exported_once_and_gives_the_same_vectors(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(tmp_path / "cache"))
    cold = Embedder()
    assert cold._quick(1) is None  # nothing exported yet: torch does the work ...
    reference = cold.embed(TEXTS * 10)  # a bulk batch loads torch
    exported = list((tmp_path / "cache").glob("*.onnx"))
    assert len(exported) == 1  # ... and leaves the ONNX copy behind
    quick = Embedder()
    vectors = quick.embed(TEXTS)
    assert quick._model is None and quick._onnx is not None  # served without torch
    cosine = (vectors * reference[:3]).sum(1)
    assert cosine.min() > 0.9999
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_damaged_copy_falls_back_to_torch(tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(tmp_path / "cache"))
    from assistant.ingest import onnx_model
    from assistant.ingest.embedder import model_path

    graph = onnx_model.graph_path(model_path())
    graph.parent.mkdir(parents=True)
    graph.write_bytes(b"not a graph")
    e = Embedder()
    vector = e.embed(TEXTS[:1])
    assert e._onnx_failed and e._model is not None
    assert float(vector[0] @ embedder.embed(TEXTS[:1])[0]) > 0.9999


def test_a_question_from_a_new_process_does_not_import_torch(sample_index_dir, embedder):
    from assistant.ingest.embedder import model_path

    Embedder._ensure_graph(model_path(), embedder.model[1])  # the copy is in the user's cache (as after setup)
    script = ("import sys; from assistant import Assistant; "
              f"a = Assistant(index_dir={str(sample_index_dir)!r}, backend='extractive').ask("
              "'What did Lei Jun say about chips?'); "
              "print(bool(a.citations), 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "False"]


def test_bf16_gives_the_fp32_vectors():
    """bf16 autocast (the default where the CPU has AMX) must not move the vectors: retrieval ranks by them."""
    texts = TEXTS * 12
    fp32 = Embedder(precision="fp32", quick_start=False).embed(texts)
    bf16 = Embedder(precision="bf16", quick_start=False).embed(texts)
    assert (fp32 * bf16).sum(1).min() > 0.9995
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
