"""The plain llama-index pipeline with the same model, as a newcomer would write it: the one baseline that both
`python -m bench` (in its own worker process, `run`) and `newsdesk eval` (`PlainPipeline`) compare Newsdesk with.
Its packages are the `baseline` extra: `pip install 'newsdesk[baseline]'`.

SimpleDirectoryReader -> VectorStoreIndex.from_documents (default SentenceSplitter, 1,024-token chunks) over a
Chroma collection -> as_retriever(similarity_top_k=10). Nothing online: no LLM (MockLLM), the embedding model from
the installed package's folder. Its chunks are longer than MiniLM's 256-word-piece window, which truncates them
silently, so throughput counts the word pieces the model actually read, not the tokens stored.

Both pipelines read the same articles. `.txt` files go through SimpleDirectoryReader, which reads a plain-text
article as it is (headline line, body). The other formats Newsdesk reads are not read the same way by it (without
llama-index-readers-file it takes Markdown, HTML and JSON as raw text: markup, tags and keys included, and a
.json/.jsonl file of several articles as one document), so those files are parsed by Newsdesk's reader
(`assistant.sources.articles.parse_file`) inside the timed ingest, and each article becomes a llama-index `Document` of its
headline and body, with the metadata SimpleDirectoryReader gives a file (and the same keys kept out of the
embedded text), plus which article of the file it is.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable, Sequence

MAX_WORD_PIECES = 256
TOP_K = 10
EMBEDDED: list[str] = []  # every text the embedding model was given during ingest (kept outside pydantic fields)
SECONDS = {"embed (model)": 0.0, "Chroma add": 0.0}


def _counting_embedding_model(path: str):
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


def article_files(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a folder as SimpleDirectoryReader lists it (recursive, sorted, READMEs left out), keeping the
    path spelling it gives (the file path is part of the text a chunk is embedded with)."""
    from llama_index.core import SimpleDirectoryReader

    files: list[Path] = []
    for path in paths:
        if Path(path).is_dir():
            files += SimpleDirectoryReader(str(path), recursive=True, required_exts=[".txt", ".md", ".html", ".json"],
                                           exclude=["README*"]).input_files
        else:
            files.append(Path(path))
    return files


def read_documents(paths: Sequence[Path]) -> list:
    """Article files as llama-index Documents: SimpleDirectoryReader for .txt, Newsdesk's parser for the rest."""
    from llama_index.core import Document, SimpleDirectoryReader
    from llama_index.core.readers.file.base import default_file_metadata_func

    from assistant.sources.articles import parse_file

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


def embedding_model(path: str | None = None):
    """The same MiniLM that Newsdesk embeds with, through llama-index's HuggingFaceEmbedding on the CPU."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from assistant.ingest.embedder import model_path

    return HuggingFaceEmbedding(model_name=path or model_path(), device="cpu")


class PlainPipeline:
    """VectorStoreIndex over an embedded Chroma collection in `folder`, default splitter, top-k dense retrieval.

    `embed_model` and `vector_store` (a ChromaVectorStore class) may be given to measure them (the bench does)."""

    collection = "plain"

    def __init__(self, folder: str | Path, embed_model=None, top_k: int = TOP_K, vector_store=None):
        self.folder = Path(folder)
        self.embed_model = embed_model
        self.top_k = top_k
        self.vector_store = vector_store
        self.index = None
        self.store = None  # the vector store, once `open`
        self.chroma = None  # its Chroma collection
        self._retriever = None

    def open(self) -> None:
        """Load the model (unless given), open the Chroma collection, and set llama-index's framework-global
        settings, once, here at the edge: no LLM, and never the OpenAI embedding default."""
        from llama_index.core import Settings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from assistant.store.record import chroma_client

        self.embed_model = self.embed_model or embedding_model()
        Settings.llm = None
        Settings.embed_model = self.embed_model
        client = chroma_client(self.folder)  # the same embedded Chroma (persistent, telemetry off) as the project
        self.chroma = client.get_or_create_collection(self.collection)
        self.store = (self.vector_store or ChromaVectorStore)(chroma_collection=self.chroma)

    def index_documents(self, documents: Sequence) -> None:
        from llama_index.core import StorageContext, VectorStoreIndex

        if self.store is None:
            self.open()
        storage = StorageContext.from_defaults(vector_store=self.store)
        self.index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=self.embed_model)

    def build(self, corpus: Sequence[str | Path], progress: Callable[[str], None] = print) -> None:
        """Index the files and folders of `corpus`, unless an earlier run left them indexed in `folder`."""
        import logging

        from llama_index.core import VectorStoreIndex

        logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)
        self.open()
        if self.chroma.count() > 0:
            self.index = VectorStoreIndex.from_vector_store(self.store, embed_model=self.embed_model)
            progress(f"llama-index baseline: reusing {self.chroma.count()} chunks in {self.folder}")
            return
        started = time.perf_counter()
        documents = read_documents(article_files(corpus))
        self.index_documents(documents)
        progress(f"llama-index baseline: {len(documents)} documents, {self.chroma.count()} chunks in "
                 f"{time.perf_counter() - started:.0f}s")

    def nodes(self, question: str) -> list:
        """The top-k chunks as llama-index NodeWithScore."""
        if self._retriever is None:
            self._retriever = self.index.as_retriever(similarity_top_k=self.top_k)
        return self._retriever.retrieve(question)

    def retrieve(self, question: str) -> list[tuple[str, str]]:
        """(file path, chunk text) of the top-k chunks."""
        return [(n.node.metadata.get("file_path", ""), n.node.get_content()) for n in self.nodes(question)]


def run(spec: dict) -> dict:
    """The bench's worker: ingest and query timings of the plain pipeline, measured like Newsdesk's."""
    from llama_index.core import Settings

    from assistant.ingest.embedder import Embedder, model_path

    from .corpus import Question
    from .measure import MachineShare, folder_mb, model_throughput, peak_rss_mb, percentiles, rss_mb

    work = Path(spec["work_dir"])
    corpus = Path(spec["corpus_dir"])
    chroma_dir = work / "plain-index"
    shutil.rmtree(chroma_dir, ignore_errors=True)
    questions = [Question(**q) for q in spec["questions"]]
    result: dict = {}

    started = time.perf_counter()
    embed_model = _counting_embedding_model(model_path())
    embed_model.get_text_embedding("warm up the model")
    result["model_load_s"] = time.perf_counter() - started
    dtype = str(embed_model._model[0].auto_model.dtype).replace("torch.", "")
    result["embed_precision"] = {"float32": "fp32", "bfloat16": "bf16"}.get(dtype, dtype) + " (llama-index default)"
    EMBEDDED.clear()
    SECONDS.update(dict.fromkeys(SECONDS, 0.0))

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

    plain = PlainPipeline(chroma_dir, embed_model, vector_store=TimedChromaVectorStore)
    plain.open()
    with MachineShare() as share:
        started = time.perf_counter()
        documents = read_documents([corpus / rel for rel in spec["files"]])
        plain.index_documents(documents)
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

    for q in questions[:3]:
        plain.nodes(q.text)
    seconds, hits = [], []
    share = MachineShare().__enter__()
    for q in questions:
        started = time.perf_counter()
        nodes = plain.nodes(q.text)
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
