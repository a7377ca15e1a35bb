"""The plain llama-index pipeline we compare against: VectorStoreIndex over Chroma, default splitter, top-k dense."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence


class PlainPipeline:
    """What a user gets from the llama-index quick start with the same local embedding model."""

    collection = "plain"

    def __init__(self, folder: str | Path, embedder_path: str | None = None, top_k: int = 10):
        self.folder = Path(folder)
        self.top_k = top_k
        self._embedder_path = embedder_path
        self._index = None
        self._retriever = None

    def _embed_model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        from .ingest.embedder import model_path

        return HuggingFaceEmbedding(model_name=self._embedder_path or model_path(), device="cpu")

    def _vector_store(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = chromadb.PersistentClient(path=str(self.folder), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection(self.collection)
        return ChromaVectorStore(chroma_collection=collection), collection

    def build(self, corpus: Sequence[str | Path], progress: Callable[[str], None] = print) -> dict:
        """Index the corpus unless a previous run already did; returns what it measured."""
        from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex

        Settings.llm = None  # never reach for OpenAI
        import logging

        logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)
        embed_model = self._embed_model()
        store, collection = self._vector_store()
        if collection.count() > 0:
            self._index = VectorStoreIndex.from_vector_store(store, embed_model=embed_model)
            progress(f"llama-index baseline: reusing {collection.count()} chunks in {self.folder}")
            return {}
        docs = []
        for path in corpus:
            path = Path(path)
            if path.is_dir():
                docs += SimpleDirectoryReader(str(path), recursive=True, required_exts=[".txt", ".md", ".html", ".json"],
                                              exclude=["README*"]).load_data()
            else:
                docs += SimpleDirectoryReader(input_files=[str(path)]).load_data()
        import time

        started = time.perf_counter()
        self._index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                                      embed_model=embed_model)
        seconds = time.perf_counter() - started
        progress(f"llama-index baseline: {len(docs)} documents, {collection.count()} chunks in {seconds:.0f}s")
        return {"documents": len(docs), "chunks": collection.count(), "seconds": seconds}

    def retrieve(self, question: str) -> list[tuple[str, str]]:
        """(file path, chunk text) of the top-k chunks."""
        if self._retriever is None:
            self._retriever = self._index.as_retriever(similarity_top_k=self.top_k)
        nodes = self._retriever.retrieve(question)
        return [(n.node.metadata.get("file_path", ""), n.node.get_content()) for n in nodes]
