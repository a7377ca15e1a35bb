"""The plain llama-index pipeline with the same model, as a newcomer would write it, in its own worker process.

SimpleDirectoryReader -> VectorStoreIndex.from_documents (default SentenceSplitter, 1,024-token chunks) over a
Chroma collection -> as_retriever(similarity_top_k=10). Nothing online: no LLM (MockLLM), the embedding model from
the installed package's folder. Its chunks are longer than MiniLM's 256-word-piece window, which truncates them
silently, so throughput counts the word pieces the model actually read, not the tokens stored.

Both pipelines read the same articles. `.txt` files go through SimpleDirectoryReader, which reads a plain-text
article as it is (headline line, body). The other formats Newsdesk reads are not read the same way by it (without
llama-index-readers-file it takes Markdown, HTML and JSON as raw text: markup, tags and keys included, and a
.json/.jsonl file of several articles as one document), so those files are parsed by Newsdesk's reader
(`assistant.articles.parse_file`) inside the timed ingest, and each article becomes a llama-index `Document` of its
headline and body, with the metadata SimpleDirectoryReader gives a file (and the same keys kept out of the
embedded text), plus which article of the file it is.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from .corpus import Question
from .measure import MachineShare, folder_mb, model_throughput, peak_rss_mb, percentiles, rss_mb

MAX_WORD_PIECES = 256
EMBEDDED: list[str] = []  # every text the embedding model was given during ingest (kept outside pydantic fields)
SECONDS = {"embed (model)": 0.0, "Chroma add": 0.0}


def _embedding_model(path: str):
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    class CountingEmbedding(HuggingFaceEmbedding):
        """Records what it embeds; the counting (tokenising) happens after the clock stops."""

        def _get_text_embeddings(self, texts):
            EMBEDDED.extend(texts)
            started = time.perf_counter()
            try:
                return super()._get_text_embeddings(texts)
            finally:
                SECONDS["embed (model)"] += time.perf_counter() - started

    return CountingEmbedding(model_name=path, device="cpu")


_SDR_EXCLUDED = ["file_name", "file_type", "file_size", "creation_date", "last_modified_date", "last_accessed_date"]


def read_documents(corpus: Path, files: list[str]) -> list:
    """The corpus as llama-index Documents: SimpleDirectoryReader for .txt, Newsdesk's parser for the rest."""
    from llama_index.core import Document, SimpleDirectoryReader
    from llama_index.core.readers.file.base import default_file_metadata_func

    from assistant.sources.articles import parse_file

    paths = [corpus / rel for rel in files]
    txt = [p for p in paths if p.suffix.lower() == ".txt"]
    documents = SimpleDirectoryReader(input_files=[str(p) for p in txt]).load_data() if txt else []
    for path in paths:
        if path.suffix.lower() == ".txt":
            continue
        meta = default_file_metadata_func(str(path))
        for i, article in enumerate(parse_file(path)):
            documents.append(Document(text=f"{article.title}\n\n{article.text}", metadata={**meta, "article_index": i},
                                      excluded_embed_metadata_keys=_SDR_EXCLUDED + ["article_index"],
                                      excluded_llm_metadata_keys=_SDR_EXCLUDED + ["article_index"]))
    return documents


def run(spec: dict) -> dict:
    from llama_index.core import Settings, StorageContext, VectorStoreIndex

    from assistant.ingest.embedder import Embedder, model_path
    from assistant.store.record import chroma_client

    work = Path(spec["work_dir"])
    corpus = Path(spec["corpus_dir"])
    chroma_dir = work / "plain-index"
    shutil.rmtree(chroma_dir, ignore_errors=True)
    questions = [Question(**q) for q in spec["questions"]]
    result: dict = {}

    started = time.perf_counter()
    embed_model = _embedding_model(model_path())
    embed_model.get_text_embedding("warm up the model")
    result["model_load_s"] = time.perf_counter() - started
    dtype = str(embed_model._model[0].auto_model.dtype).replace("torch.", "")
    result["embed_precision"] = {"float32": "fp32", "bfloat16": "bf16"}.get(dtype, dtype) + " (llama-index default)"
    EMBEDDED.clear()
    SECONDS.update(dict.fromkeys(SECONDS, 0.0))
    # Framework-global settings, set once here at the edge: no LLM, and never the OpenAI embedding default.
    Settings.llm = None
    Settings.embed_model = embed_model

    from llama_index.vector_stores.chroma import ChromaVectorStore

    class TimedChromaVectorStore(ChromaVectorStore):
        def add(self, nodes, **kwargs):
            started = time.perf_counter()
            try:
                return super().add(nodes, **kwargs)
            finally:
                SECONDS["Chroma add"] += time.perf_counter() - started

    # The machine's speed right now, measured like the project's worker does: the same texts through the same
    # Embedder code, but on this pipeline's own loaded model (no second copy in memory).
    reference = Embedder()
    reference._model = (embed_model._model.tokenizer, embed_model._model[0].auto_model)
    calibration = spec["calibration_texts"]
    model_before = model_throughput(reference, calibration)

    client = chroma_client(chroma_dir)  # the same embedded Chroma (persistent, telemetry off) as the project
    collection = client.get_or_create_collection("plain")
    with MachineShare() as share:
        started = time.perf_counter()
        documents = read_documents(corpus, spec["files"])
        storage = StorageContext.from_defaults(vector_store=TimedChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embed_model)
        wall = time.perf_counter() - started

    model_after = model_throughput(reference, calibration)
    result["model_word_pieces_per_s"] = {"before": model_before, "after": model_after, "mean": (model_before + model_after) / 2}
    tokenizer = embed_model._model.tokenizer
    read = sum(len(ids) for ids in tokenizer(EMBEDDED, truncation=True, max_length=MAX_WORD_PIECES)["input_ids"])
    stored = sum(len(ids) for ids in tokenizer(EMBEDDED, truncation=False)["input_ids"])
    truncated = sum(1 for ids in tokenizer(EMBEDDED, truncation=False)["input_ids"] if len(ids) > MAX_WORD_PIECES)
    result["ingest_breakdown_s"] = {**SECONDS, "other (read files, split, docstore)": wall - sum(SECONDS.values())}
    result["ingest"] = {"wall_s": wall, "articles": len(documents), "chunks": len(EMBEDDED), "tokens": read,
                        "tokens_stored": stored, "chunks_truncated": truncated,
                        "articles_per_s": len(documents) / wall, "chunks_per_s": len(EMBEDDED) / wall,
                        "tokens_per_s": read / wall, "max_seq_length": embed_model._model.max_seq_length,
                        "efficiency": read / wall / result["model_word_pieces_per_s"]["mean"],
                        **share.result, "tokens_per_cpu_s": read / share.result["own_cpu_s"]}

    retriever = index.as_retriever(similarity_top_k=10)
    for q in questions[:3]:
        retriever.retrieve(q.text)
    seconds, hits = [], []
    share = MachineShare().__enter__()
    for q in questions:
        started = time.perf_counter()
        nodes = retriever.retrieve(q.text)
        seconds.append(time.perf_counter() - started)
        if q.path:
            want = (str((corpus / q.path).resolve()), q.index)
            hits.append(any((str(Path(n.node.metadata.get("file_path", "")).resolve()),
                             n.node.metadata.get("article_index", 0)) == want for n in nodes))
    share.__exit__(None, None, None)
    result["queries_others_cpu_share"] = share.result["others_cpu_share"]
    result["retrieve"] = percentiles(seconds)
    result["retrieve"]["hit_at_10"] = sum(hits) / len(hits) if hits else None
    result["retrieve"]["hit_questions"] = len(hits)
    result["rss_after_queries_mb"] = rss_mb()
    result["peak_rss_mb"] = peak_rss_mb()
    result["index_mb"] = folder_mb(chroma_dir)
    result["llm"] = type(Settings.llm).__name__
    return result
