"""The two runtimes of the embedding model agree, and a question in a new process never loads torch."""
import json
import subprocess
import sys

import numpy as np

from assistant.ingest.embedder import Embedder

from .conftest import ANSWERED, ROOT

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

    graph = onnx_model.graph_path(model_path(), tmp_path / "cache")
    graph.parent.mkdir(parents=True)
    graph.write_bytes(b"not a graph")
    e = Embedder()
    vector = e.embed(TEXTS[:1])
    assert e._onnx_failed and e._model is not None
    assert float(vector[0] @ embedder.embed(TEXTS[:1])[0]) > 0.9999


def test_a_question_from_a_new_process_does_not_import_torch(sample_index_dir, embedder):
    from assistant.answering.extractive.reader import Reader
    from assistant.ingest.embedder import model_path

    # the copies are in the user's cache (as after setup): the embedding model's and the reader's
    Embedder._ensure_graph(model_path(), embedder.model[1], embedder.cache_dir)
    Reader(cache_dir=embedder.cache_dir).prepare()
    script = ("import sys; from assistant import Assistant; "
              f"a = Assistant(index_dir={str(sample_index_dir)!r}, backend='extractive').ask("
              f"{ANSWERED!r}); "
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


def _sample_chunks() -> list[str]:
    from assistant.ingest.pipeline import build_chunks
    from assistant.sources.articles import parse_file

    from .conftest import SAMPLES

    return [text for path in sorted(SAMPLES.iterdir()) for article in parse_file(path)
            for text in build_chunks(article, 170)[1]]


AVX512_NO_AMX = frozenset({"avx2", "avx512f", "avx512bw", "avx512_vnni"})


def test_the_int8_copy_is_built_once_checked_and_gives_the_fp32_vectors(tmp_path):
    """int8 (auto's choice without AMX) must stay within the cosine bar of fp32 on real texts, and be built once."""
    from assistant.ingest.precision import INT8_MIN_COSINE

    texts = _sample_chunks()  # 41 chunks of the sample articles, headline + chunk as the ingest embeds them
    cache = tmp_path / "cache"
    first = Embedder(cache_dir=cache, quick_start=False, cpu_flags=AVX512_NO_AMX)
    assert first.precision == "int8"
    int8 = first.embed(texts)
    graph, check_file = first._int8_paths()
    check = json.loads(check_file.read_text())
    assert check["texts"] == len(texts) and check["worst_cosine"] >= INT8_MIN_COSINE
    fp32 = Embedder(precision="fp32", cache_dir=cache, quick_start=False).embed(texts)
    cosine = (int8 * fp32).sum(1)
    assert cosine.min() >= INT8_MIN_COSINE and cosine.mean() > 0.995
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    # every word piece is read: the counts match torch's
    assert first.embed_counted(texts)[1] == Embedder(precision="fp32", quick_start=False).embed_counted(texts)[1]

    built = graph.stat().st_mtime_ns
    again = Embedder(cache_dir=cache, quick_start=False, cpu_flags=AVX512_NO_AMX)
    assert np.allclose(again.embed(texts), int8, atol=1e-6)
    assert again._model is None and graph.stat().st_mtime_ns == built  # reused from the cache, torch not loaded
    assert sorted(p.name for p in cache.iterdir()) == sorted([graph.name, check_file.name])  # no leftovers


def test_auto_runs_fp32_where_the_int8_copy_failed_its_check(tmp_path):
    cache = tmp_path / "cache"
    probe = Embedder(cache_dir=cache, cpu_flags=AVX512_NO_AMX)
    graph, check_file = probe._int8_paths()
    cache.mkdir()
    check_file.write_text(json.dumps({"worst_cosine": 0.95, "texts": 64}))
    assert Embedder(cache_dir=cache, cpu_flags=AVX512_NO_AMX).precision == "fp32"
    assert Embedder(precision="int8", cache_dir=cache, cpu_flags=AVX512_NO_AMX).precision == "int8"  # as asked
    amx = AVX512_NO_AMX | {"amx_tile", "amx_bf16"}
    assert Embedder(cache_dir=cache, cpu_flags=amx).precision == "bf16"


def test_too_few_texts_to_check_the_int8_copy_on_go_to_torch(tmp_path):
    e = Embedder(precision="int8", cache_dir=tmp_path / "cache", quick_start=False)
    vectors = e.embed(["one text"] * 40)  # a single distinct text: nothing to check int8 against
    assert e._int8 is None and not (tmp_path / "cache").exists()
    assert float(vectors[0] @ Embedder(precision="fp32", quick_start=False).embed(["one text"] * 30)[0]) > 0.9999


def test_sentence_vectors_come_from_the_chunks_own_pass(embedder):
    """One forward pass gives a text's vector and each sentence's (its word pieces' mean in context), on torch and on
    the quick ONNX copy alike; a sentence past the model's 256 word pieces is embedded on its own."""
    text = ("Halbrook council will buy twelve electric buses. They cost £4m and arrive in May. "
            "The depot in Marsh Lane gets chargers.")
    spans = [(0, 48), (49, 83), (84, len(text))]
    vectors, parts, read = embedder.embed_with_spans([text, TEXTS[0]], [spans, [(0, 8)]])
    assert read == embedder.embed_counted([text, TEXTS[0]])[1]
    assert np.allclose(vectors, embedder.embed([text, TEXTS[0]]), atol=1e-4)
    assert parts[0].shape == (3, 384) and parts[1].shape == (1, 384)
    assert np.allclose(np.linalg.norm(parts[0], axis=1), 1.0, atol=1e-5)
    alone = embedder.embed([text[s:e] for s, e in spans])
    assert ((parts[0] * alone).sum(1) > 0.5).all()  # the same sentence, read in its context
    quick = Embedder()
    quick.embed(["warm up"])
    if quick._onnx is not None:
        assert ((quick.embed_with_spans([text], [spans])[1][0] * parts[0]).sum(1) > 0.999).all()
    long = "word " * 300 + "The last sentence is past the model's reach."
    _, [tail], _ = embedder.embed_with_spans([long], [[(1500, len(long))]])
    assert float(tail[0] @ embedder.embed([long[1500:]])[0]) > 0.9999
