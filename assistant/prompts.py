"""Prompt templates, loaded by name from the prompts folder, placeholders checked at load."""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

REQUIRED = {
    "answer_system": {"not_found"},
    "answer_user": {"passages", "question"},
    "condense": {"history", "question"},
}


@lru_cache(maxsize=32)
def load_prompt(folder: Path, name: str) -> str:
    path = Path(folder) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Prompt template {path} is missing: restore it or set NEWSDESK_PROMPTS_DIR.") from exc
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    missing = REQUIRED.get(name, set()) - found
    unknown = found - REQUIRED.get(name, found)
    if missing or unknown:
        raise ConfigError(
            f"Prompt template {path} must use the placeholders {sorted(REQUIRED[name])}; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}."
        )
    return text


def render(folder: Path, name: str, **values: str) -> str:
    return load_prompt(Path(folder), name).format(**values)
