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
