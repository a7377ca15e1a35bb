"""The few errors Newsdesk raises; each message says what to do about it."""


class NewsdeskError(Exception):
    """Base class: the message is meant for the user as it is."""


class IndexNotFoundError(NewsdeskError):
    def __init__(self, where: str):
        super().__init__(
            f"No articles are indexed in {where}. Run `newsdesk ingest PATH` first "
            "(or set NEWSDESK_HOME to the folder of an existing index)."
        )


class IndexBusyError(NewsdeskError):
    def __init__(self, where: str):
        super().__init__(
            f"Another ingest is writing to the index in {where}. Wait for it to finish and try again."
        )


class ArticleError(NewsdeskError):
    """A file or record that cannot be turned into an article; the message is the reason."""


class ConfigError(NewsdeskError):
    pass


class LLMError(NewsdeskError):
    """The LLM backend failed; the message names the setting to check."""


class QuestionError(NewsdeskError):
    pass


class FetchError(NewsdeskError):
    """A URL that could not be fetched; the message is "URL: reason", the reason in plain words."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FeedError(NewsdeskError):
    """A feed document that cannot be read; the message says why."""


class LockTimeout(Exception):
    """Someone else held the lock for longer than we were willing to wait (internal: the store turns it into
    IndexBusyError, the feed registry into its own message)."""
