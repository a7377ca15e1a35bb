"""Newsdesk's retriever in a llama-index pipeline, with an LLM of yours (any OpenAI-compatible server).

    pip install 'newsdesk[llama]'
    python examples/llama_index_pipeline.py "What did Lei Jun say about chips?" \\
        --base-url http://localhost:11434/v1 --model qwen2.5:1.5b      # or OPENAI_BASE_URL and NEWSDESK_MODEL

llama-index's CitationQueryEngine answers from the passages Newsdesk retrieves (hybrid search over the index in
--index or NEWSDESK_HOME); then the same LLM answers through Newsdesk's query engine, whose citation check keeps only
the citations the passages support. The two are printed one after the other.
"""
from __future__ import annotations

import argparse
import sys

from llama_index.core.query_engine import CitationQueryEngine
from llama_index.llms.openai_like import OpenAILike

from assistant import Assistant, NewsdeskError
from assistant.settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("question")
    parser.add_argument("--base-url", default=settings.openai_base_url, help="OpenAI-compatible server "
                        "(default: OPENAI_BASE_URL)")
    parser.add_argument("--model", default=settings.model, help="model name (default: NEWSDESK_MODEL)")
    parser.add_argument("--index", help="index folder (default: NEWSDESK_HOME or ./index)")
    parser.add_argument("--top-k", type=int, default=4, help="passages retrieved (default: 4)")
    args = parser.parse_args(argv)
    if not args.base_url:
        parser.error("say where the LLM is: --base-url URL (or set OPENAI_BASE_URL)")

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
    llm = OpenAILike(model=args.model, api_base=args.base_url, api_key=key, is_chat_model=True,
                     context_window=settings.llm_context, timeout=settings.llm_timeout, max_retries=0)
    qa = Assistant(index_dir=args.index, llm=llm)
    try:
        plain = CitationQueryEngine(qa.as_retriever(top_k=args.top_k), llm=llm).query(args.question)
        checked = qa.as_query_engine(top_k=args.top_k).query(args.question)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the LLM's client failed inside llama-index: say where and what
        print(f"error: the LLM at {args.base_url} ({args.model}) failed: {type(exc).__name__}: {exc}. Check "
              "--base-url, --model and that the server is running.", file=sys.stderr)
        return 1

    print("llama-index CitationQueryEngine over Newsdesk's retriever:")
    print(plain.response)
    for n, node in enumerate(plain.source_nodes, 1):
        print(f"  [{n}] {node.metadata['title']} ({node.metadata['source']})")
    print(f"\nNewsdesk's query engine, same LLM, citations checked ({checked.metadata['backend']}):")
    print(checked.response)
    for n, node in enumerate(checked.source_nodes, 1):
        print(f"  [{n}] {node.metadata['title']} ({node.metadata['source']})")
    if checked.metadata["note"]:
        print(f"Note: {checked.metadata['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
