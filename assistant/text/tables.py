"""The language tables of tables.toml, loaded once: kinds of answer a question asks for, verbs of speech, and the
words of quote attribution."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Kind:
    """A kind of answer: `asked` finds a question that wants it, `given` a sentence that gives it."""

    name: str
    asked: re.Pattern
    given: re.Pattern
    example: str  # a question of this kind ...
    answer: str  # ... and a sentence that answers it


@lru_cache(maxsize=1)
def _tables() -> dict:
    with open(Path(__file__).with_name("tables.toml"), "rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=1)
def kinds() -> tuple[Kind, ...]:
    """Every kind, in the order a question is tried against them."""
    return tuple(Kind(name, re.compile(k["asked"], re.I), re.compile(k["given"], 0 if k.get("case") else re.I),
                      k["example"], k["answer"]) for name, k in _tables()["kind"].items())


def kind_of(question: str) -> Kind | None:
    """The first kind whose `asked` pattern the question matches."""
    return next((k for k in kinds() if k.asked.search(question)), None)


def speech_forms(which: str) -> list[str]:
    """The verbs of speech of one list of tables.toml's [speech]: 'reported', 'inverted' or 'asked'."""
    return list(_tables()["speech"][which])


def words(which: str) -> frozenset[str]:
    """One word list of tables.toml's [names], the words of quote attribution: 'titles', 'not_names', ..."""
    return frozenset(_tables()["names"][which])


@lru_cache(maxsize=2)
def speech_verbs(asked: bool = False) -> re.Pattern:
    """The verbs of speech as one pattern: those of an article ('said', 'told') or of a question ('say', 'react')."""
    verbs = speech_forms("asked" if asked else "reported")
    return re.compile(r"\b(?:" + "|".join(re.escape(v) for v in sorted(verbs, key=len, reverse=True)) + r")\b", re.I)
