"""Newsdesk inside llama-index: its retrieval as a `BaseRetriever`, its checked answers as a query engine.

Made by `Assistant.as_retriever()` and `Assistant.as_query_engine()`. This module imports llama-index, so the
`Assistant` imports it only when one of them is asked for (`newsdesk --help` and a plain `ask` never load it).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Iterator, Optional

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from .types import Answer, Passage

if TYPE_CHECKING:
    from .assistant import Assistant

METADATA = ("doc_id", "title", "source", "url", "author", "date")
# What a llama-index prompt shows of a node besides its text: the headline, author and date help a model (when the
# article has them); ids, paths and links are noise to it.
HIDDEN_FROM_LLM = ("doc_id", "source", "url")


def passage_node(p: Passage) -> NodeWithScore:
    """A passage as a llama-index node: its chunk id, its text, its article's metadata and its fused score."""
    node = TextNode(text=p.text, id_=p.chunk_id, metadata={key: getattr(p, key) for key in METADATA},
                    start_char_idx=p.start, end_char_idx=p.end,
                    excluded_llm_metadata_keys=[k for k in METADATA if k in HIDDEN_FROM_LLM or not getattr(p, k)],
                    excluded_embed_metadata_keys=list(METADATA),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.doc_id)})
    return NodeWithScore(node=node, score=p.score)


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    """The passages an answer cites, as nodes in citation order: source_nodes[i] is the answer's [i + 1]."""
    by_chunk = {p.chunk_id: p for p in answer.passages}
    return [passage_node(by_chunk[c.chunk_id]) for c in answer.citations]


def answer_metadata(answer: Answer) -> dict[str, Any]:
    return {"answer": answer, "backend": answer.backend, "abstained": answer.abstained, "note": answer.note}


class NewsdeskRetriever(BaseRetriever):
    """Newsdesk's hybrid retrieval (dense + BM25 fused, speaker boost, near-duplicates collapsed) for llama-index."""

    def __init__(self, assistant: Assistant, top_k: int, callback_manager: Optional[CallbackManager] = None):
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [passage_node(p) for p in self.assistant.retrieve(query_bundle.query_str, top_k=self.top_k)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


@dataclass
class CheckedStreamingResponse(StreamingResponse):
    """A streamed Newsdesk answer. `response_gen` yields the text as it is written (an LLM's words before the
    check, as `Assistant.ask_stream` does); once it has been read to the end, `response_txt`, `source_nodes` and
    `metadata` are the checked answer's, and `str()`, `get_response()` and `print_response_stream()` read it to the
    end and give the checked text."""

    answer: Optional[Answer] = None

    def finish(self, answer: Answer) -> None:
        self.answer = answer
        self.response_txt = answer.text
        self.source_nodes = cited_nodes(answer)
        self.metadata = answer_metadata(answer)

    def _read_to_end(self) -> None:
        for _ in self.response_gen:
            pass

    def __str__(self) -> str:
        self._read_to_end()
        return self.response_txt or "None"

    def get_response(self) -> Response:
        self._read_to_end()
        return Response(self.response_txt, self.source_nodes, self.metadata)

    def print_response_stream(self) -> None:
        """Prints the text as it comes; then the checked answer, when the check changed it."""
        shown = ""
        for text in self.response_gen:
            print(text, end="", flush=True)
            shown += text
        if not shown:
            print(self.response_txt)
        elif shown.strip() != (self.response_txt or "").strip():
            print(f"\n\nChecked answer: {self.response_txt}" + (f"\nNote: {self.answer.note}" if self.answer and
                                                                 self.answer.note else ""))
        else:
            print()


class NewsdeskQueryEngine(BaseQueryEngine):
    """Questions answered by Newsdesk (retrieval, extractive or LLM answer, citation check) as a llama-index
    query engine: `Response.response` is the checked `Answer.text` and `source_nodes` its cited passages, [1] first."""

    def __init__(self, assistant: Assistant, streaming: bool = False, top_k: int | None = None,
                 callback_manager: Optional[CallbackManager] = None):
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.streaming = streaming
        self.top_k = top_k

    def _get_prompt_modules(self) -> dict:
        return {}  # Newsdesk's prompts are files under prompts/ (NEWSDESK_PROMPTS_DIR), not llama-index templates

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return NewsdeskRetriever(self.assistant, self.top_k or self.assistant.settings.top_k).retrieve(query_bundle)

    def _query(self, query_bundle: QueryBundle) -> Response | CheckedStreamingResponse:
        if self.streaming:
            return self._stream(query_bundle.query_str)
        answer = self.assistant.ask(query_bundle.query_str, top_k=self.top_k)
        return Response(answer.text, source_nodes=cited_nodes(answer), metadata=answer_metadata(answer))

    async def _aquery(self, query_bundle: QueryBundle) -> Response | CheckedStreamingResponse:
        return await asyncio.to_thread(self._query, query_bundle)

    def _stream(self, question: str) -> CheckedStreamingResponse:
        items = self.assistant.ask_stream(question, top_k=self.top_k)
        first = next(items)  # checks the question and retrieves now, so that a bad question fails in query()
        response = CheckedStreamingResponse(response_gen=iter(()))

        def text() -> Iterator[str]:
            for item in chain([first], items):
                if isinstance(item, Answer):
                    response.finish(item)
                elif isinstance(item, str):
                    yield item  # a Waiting (the LLM is slow to start) is for pages that show it

        response.response_gen = text()
        return response
