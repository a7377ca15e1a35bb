"""One typed Settings object, read from NEWSDESK_* (and the usual OPENAI_*) environment variables."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Read by torch, transformers and huggingface_hub when they are imported, so they are set before that import (by
# prepare_model_libraries, called by the embedder): offline, quiet, and OpenMP threads that wait passively. Busy-
# waiting collapses when the cores are shared (other processes, a web server next to an ingest): measured here, one
# query embedding went from ~16 ms to 100-500 ms; passive waiting keeps it at ~11-18 ms (bench/, OMP_WAIT_POLICY=
# PASSIVE vs unset). A value the user set wins.
MODEL_LIBRARY_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                             "TRANSFORMERS_VERBOSITY": "error", "OMP_WAIT_POLICY": "PASSIVE"}


def prepare_model_libraries() -> None:
    """Give the model libraries their environment defaults (MODEL_LIBRARY_ENVIRONMENT) before they are imported."""
    for name, value in MODEL_LIBRARY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def _default_model_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsdesk"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore", populate_by_name=True)

    home: Path = Field(Path("index"), description="Folder of the index (record, keyword index, embedded Chroma).")
    chroma_host: Optional[str] = Field(None, description="Chroma server host; unset means embedded Chroma in `home`.")
    chroma_port: int = Field(8000, description="Chroma server port (with NEWSDESK_CHROMA_HOST).")
    collection: str = Field("newsdesk", description="Chroma collection name.")
    chroma_documents: bool = Field(
        False, description="Also store each chunk's text in Chroma (for other tools reading the collection); "
        "Newsdesk reads texts from its record, and embedded Chroma inserts ~3x slower with them.")

    backend: Literal["auto", "extractive", "openai", "llama-index"] = Field(
        "auto", description="Answer backend: auto = llama-index when NEWSDESK_LLAMA_INDEX_LLM is set, else openai when "
        "OPENAI_API_KEY or OPENAI_BASE_URL is set, else extractive."
    )
    openai_api_key: Optional[SecretStr] = Field(
        None, validation_alias=AliasChoices("NEWSDESK_OPENAI_API_KEY", "OPENAI_API_KEY"), description="API key."
    )
    openai_base_url: Optional[str] = Field(
        None,
        validation_alias=AliasChoices("NEWSDESK_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama.",
    )
    model: str = Field(
        "gpt-4.1-mini", validation_alias=AliasChoices("NEWSDESK_MODEL", "OPENAI_MODEL"), description="Chat model name."
    )
    llama_index_llm: Optional[str] = Field(
        None, description="A llama-index LLM class to write answers with, as module.Class, e.g. "
        "llama_index.llms.openai_like.OpenAILike (pip install 'newsdesk[llama]'); checked like the openai backend's.")
    llama_index_llm_args: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="The arguments of NEWSDESK_LLAMA_INDEX_LLM's class as a JSON object, e.g. "
        '{"model": "qwen2.5:1.5b", "api_base": "http://localhost:11434/v1", "api_key": "none", "is_chat_model": true}.')
    llm_timeout: float = Field(30.0, gt=0, description="Seconds an LLM answer may take in all, retries included; "
                               "then what it wrote so far is checked, or the answer falls back to extractive.")
    llm_max_retries: int = Field(2, ge=0, description="Retries (with backoff) on 429/5xx/timeouts, within the "
                                 "time limit, before falling back.")
    llm_max_tokens: int = Field(512, ge=16, description="Most tokens the LLM may write for one answer (small "
                                "models can loop for thousands).")
    llm_gate: bool = Field(True, description="Withhold an LLM's answer when the offline answerer's gate judges that "
                           "the articles do not answer the question (small models answer what the articles do not "
                           "cover, citing passages that do not say it); false trusts the LLM and the check alone.")
    llm_context: int = Field(4096, ge=512, description="The model's context window in tokens: passages are left out, "
                             "lowest-ranked first, so that prompt and answer fit.")

    top_k: int = Field(6, ge=1, le=50, description="Passages handed to the answerer.")
    chunk_tokens: int = Field(170, ge=32, le=1000, description="Token budget of a chunk body (cl100k_base).")
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")
    embed_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto", description="Precision of bulk embedding (an ingest): fp32, bf16 (autocast), int8 (an onnxruntime "
        "copy with per-channel int8 weights, built once into NEWSDESK_MODEL_CACHE) or auto: bf16 where the CPU has "
        "AMX (2.5x faster there, cosine to fp32 >= 0.9999), else int8 where its check on this machine kept every "
        "vector within cosine 0.99 of fp32, else fp32.",
    )
    model_cache: Path = Field(
        default_factory=_default_model_cache, description="Folder of the embedding model's copies made on this machine "
        "(the ONNX graph for a quick start, the int8 graph); default $XDG_CACHE_HOME/newsdesk, else ~/.cache/newsdesk.")
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped with a reason.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a message.")
    host: str = Field("127.0.0.1", description="Where the web page listens (app.py, newsdesk serve).")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web page.")
    auth: Optional[SecretStr] = Field(
        None, description="'user:password' required by the web page; needed to listen beyond 127.0.0.1.")
    insecure_public: bool = Field(
        False, description="Allow listening beyond 127.0.0.1 without a password (you take the risk).")
    prompts_dir: Path = Field(PROJECT_DIR / "prompts", description="Folder of prompt templates.")
    samples_dir: Path = Field(PROJECT_DIR / "examples" / "articles", description="Sample articles for a new index.")

    user_agent: str = Field("Newsdesk/0.1 (+https://github.com/newsdesk/newsdesk)",
                            description="User-Agent sent when fetching feeds and article pages; names the product.")
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds before a feed or page request is abandoned.")
    fetch_max_mb: float = Field(10.0, gt=0, description="Feeds and pages larger than this are not downloaded.")
    fetch_host_delay: float = Field(1.0, ge=0, description="Seconds between two requests to the same host.")
    watch_debounce: float = Field(1.0, ge=0, description="`newsdesk watch`: seconds a folder must be quiet before "
                                  "its changes are ingested (a save-and-rename or a folder copy counts once).")
    watch_reconcile: float = Field(300.0, ge=0, description="`newsdesk watch`: seconds between full re-scans of the "
                                   "folders, a safety net for missed events (0 = only at start).")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:  # one line per wrong setting, naming it and the fix, not pydantic's report
            raise ConfigError("\n".join(_explain(err) for err in exc.errors())) from None

    @field_validator("home", "prompts_dir", "samples_dir", "model_cache")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("llama_index_llm")
    @classmethod
    def _class_path(cls, value: Optional[str]) -> Optional[str]:
        if value and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", value.strip()):
            raise ValueError("name the class with its module, e.g. llama_index.llms.openai_like.OpenAILike")
        return value.strip() if value else None

    @field_validator("llama_index_llm_args", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos}); write an object such as "
                                 '{"model": "m", "api_base": "http://localhost:8080/v1"}') from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object such as {"model": "m", "api_base": "http://localhost:8080/v1"}')
        return value

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key) or bool(self.openai_base_url) or bool(self.llama_index_llm)

    @property
    def answer_backend(self) -> str:
        if self.backend == "auto":
            if self.llama_index_llm:
                return "llama-index"
            return "openai" if self.llm_configured else "extractive"
        return self.backend

    def scrub(self, message: str) -> str:
        """The message without secrets: the API key, and credentials inside OPENAI_BASE_URL (error messages from
        HTTP clients may carry either)."""
        message = blank_secrets(message, [self.openai_api_key.get_secret_value() if self.openai_api_key else ""])
        if self.openai_base_url:
            try:
                netloc = urlsplit(self.openai_base_url).netloc
            except ValueError:
                netloc = ""
            if "@" in netloc:
                message = message.replace(netloc.rsplit("@", 1)[0] + "@", "")
        return message


def passage_count(top_k: int) -> int:
    """`top_k` when it is a passage count Settings allows (as NEWSDESK_TOP_K, 1 to 50), else a QuestionError."""
    from .errors import QuestionError

    bounds = {key: getattr(m, key) for m in Settings.model_fields["top_k"].metadata for key in ("ge", "le")
              if getattr(m, key, None) is not None}
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not bounds["ge"] <= top_k <= bounds["le"]:
        raise QuestionError(f"top_k={top_k!r} is not valid: ask for a whole number of passages from {bounds['ge']} "
                            f"to {bounds['le']}.")
    return top_k


def blank_secrets(text: str, values) -> str:
    """`text` with every secret value in `values` (4 characters or more) shown as •••."""
    for value in values:
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "•••")
    return text


def redact_url(url: str | None) -> str:
    """A base URL without credentials or query string, safe to show (pages, notes, error messages)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def use_bundled_tiktoken() -> None:
    """Point tiktoken at the cl100k_base file that ships inside llama-index, so nothing is downloaded.

    tiktoken takes its cache folder only from TIKTOKEN_CACHE_DIR, so this sets that variable (unless the user set it)
    before the first encoding is loaded; it is the one place outside `Settings` that touches the environment."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec and spec.origin:
        os.environ["TIKTOKEN_CACHE_DIR"] = os.path.join(os.path.dirname(spec.origin), "_static", "tiktoken_cache")


_MAY_HOLD_SECRETS = {"llama_index_llm_args"}  # its JSON may carry an api_key: never echoed in a message


def _explain(error: dict) -> str:
    """'NEWSDESK_TOP_K=abc is not valid (passages handed to the answerer): input should be a valid integer, ...
    Set it to a whole number from 1 to 50, or unset it for the default (6).'"""
    name = str(error["loc"][0]) if error.get("loc") else ""
    field = Settings.model_fields.get(name)
    if field is None:
        return f"A setting is not valid: {error['msg']}."
    aliases = getattr(field.validation_alias, "choices", None) or [f"NEWSDESK_{name.upper()}"]
    shown = str(error.get("input"))
    secret = field.annotation in (SecretStr, Optional[SecretStr]) or name in _MAY_HOLD_SECRETS
    value = "" if secret else \
        "=" + (shown if len(shown) <= 60 else shown[:59] + "…")
    # What the setting is for, from its description's first clause (a list of choices says enough by itself).
    what = "" if _choices(field) else re.split(r"(?<!e\.g)\. | \(|; |, e\.g\.", field.description or "",
                                               maxsplit=1)[0].rstrip(".")
    what = f" ({what[:1].lower()}{what[1:]})" if what else ""
    reason = error["msg"][:1].lower() + error["msg"][1:]
    default = field.get_default(call_default_factory=True)
    if isinstance(default, (bool, float)):
        default = str(default).lower() if isinstance(default, bool) else f"{default:g}"
    default = "" if default is None else f" for the default ({default})"
    return f"{aliases[0]}{value} is not valid{what}: {reason}. Set it to {_expected(field)}, or unset it{default}."


def _choices(field) -> tuple[str, ...]:
    kind = field.annotation
    return kind.__args__ if getattr(kind, "__origin__", None) is Literal else ()


def _expected(field) -> str:
    """What a value of this field looks like, in words."""
    bounds = {key: getattr(m, key) for m in field.metadata for key in ("ge", "gt", "le", "lt")
              if getattr(m, key, None) is not None}
    if _choices(field):
        return "one of " + ", ".join(_choices(field))
    if field.annotation is bool:
        return "true or false (1 or 0)"
    what = {int: "a whole number", float: "a number"}.get(field.annotation, "a valid value")
    if "ge" in bounds and "le" in bounds:
        return f"{what} from {bounds['ge']:g} to {bounds['le']:g}"
    limits = [f"of at least {bounds['ge']:g}" if "ge" in bounds else "", f"above {bounds['gt']:g}" if "gt" in bounds
              else "", f"of at most {bounds['le']:g}" if "le" in bounds else ""]
    return " ".join([what, *[x for x in limits if x]])
