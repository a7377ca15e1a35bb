"""Newsdesk: questions answered from news articles, every claim cited.

    from assistant import answer
    result = answer("What did Lei Jun say about chips?")
    print(result.text)
    for c in result.citations:
        print(c.number, c.title, c.source, c.quote)
"""
from .assistant import Assistant, answer
from .errors import (ArticleError, ConfigError, FeedError, FetchError, IndexBusyError, IndexNotFoundError, LLMError,
                     NewsdeskError, QuestionError)
from .types import Answer, ArticleInfo, Citation, IngestReport, Passage, Status

__all__ = [
    "answer", "Assistant", "Answer", "Citation", "Passage", "IngestReport", "ArticleInfo", "Status",
    "NewsdeskError", "IndexNotFoundError", "IndexBusyError", "ArticleError", "ConfigError", "LLMError",
    "QuestionError", "FetchError", "FeedError",
]
__version__ = "0.1.0"
