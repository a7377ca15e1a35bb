"""What a question asks, analysed once: its parts, the kind of answer wanted, whose words, the names, years and
topic words it carries (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.quotes import TITLE, person_names
from ..text.tables import Kind, kind_of, speech_verbs, words
from ..text.words import POSSESSIVE, STOP, content_words_in_order, without_possessive

# a second question joined to the first: "..., and how many ...", "... and who beat him?", "..., and by how much ..."
_JOINED = re.compile(r",?\s+and\s+(?=(?:(?:by|in|on|at|for|from|to|with|of|since|until)\s+)?(?:what|how|who|whom|whose|"
                     r"which|when|where|why|did|does|is|was|were|has|had)\b)", re.I)
_PRONOUN = re.compile(r"\b(?:he|she|him|her|his|they|them|their|it|its)\b", re.I)
_TITLES = words("titles")
_TITLED = re.compile(rf"\b(?:{TITLE})\.?\s+(?=[A-Z])")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")
_NAME_RUN = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:of\s+)?[A-Z][\w'’-]+)*")  # 'Norvale Water', 'Bank of England'
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
# "what ... / which ... / how many ...", before the thing asked of ("What was the attendance ...", "In which hospital")
_WHAT = re.compile(r"^\W*(?:(?:in|on|at|for|from|by|to|with|of|under|during)\s+)?(?:(?:what|which)\s+"
                   r"(?:(?:is|was|were|are|will|would|has|have|had)\s+(?:(?:the|a|an)\s+)?)?|how\s+(?:many|much)\s+)",
                   re.I)
# the words of asking, not of the topic ("what did ... say", "how many")
_ASKING = frozenset("what which who whom whose how when where why many much long old did does do say said says tell "
                    "told according name called happen happened".split())


@dataclass(frozen=True)
class Query:
    """One question, analysed: `parts` are its questions (one unless it asks two things)."""

    text: str
    parts: tuple[str, ...]
    kind: Kind | None  # the kind of answer wanted (see text/tables.toml), for a one-part question
    speakers: tuple[str, ...]  # whose words it asks for: "what did Lei Jun say" -> ("Lei Jun",)
    names: tuple[str, ...]  # the names it gives, beyond its first word
    years: tuple[str, ...]
    terms: tuple[str, ...]  # its topic words, lower-case, in order
    focus: tuple[str, ...]  # the thing it asks of: "What pre-tax profit did ..." -> ("pre-tax", "profit")

    @property
    def kind_name(self) -> str:
        return self.kind.name if self.kind else ""


def analyse(question: str) -> Query:
    """The `Query` of a question."""
    parts = split(question)
    untitled = _TITLED.sub("", question)  # "Dr Marlow": an article may name her Ms Marlow or Jane Marlow
    return Query(question, tuple(parts), kind_of(question) if len(parts) == 1 else None,
                 tuple(asked_speakers(question)), tuple(_names(untitled)), tuple(_YEAR.findall(question)),
                 tuple(w for w in dict.fromkeys(content_words_in_order(untitled)) if w not in _ASKING),
                 focus(question))


def focus(question: str) -> tuple[str, ...]:
    """The words of the thing a "what/which/how many" question asks of, lower-case, names left out: "In which
    hospital was ...?" -> ("hospital",), "How many new dentists ...?" -> ("new", "dentists"); () for others."""
    m = _WHAT.match(question)
    out: list[str] = []
    for w in re.findall(r"[\w'’-]+", question[m.end():]) if m else []:
        if w.lower() in STOP or len(out) == 3:
            break
        if not w[0].isupper():
            out.append(w.lower())
    return tuple(out)


def asked_speakers(question: str) -> list[str]:
    """People whose words a question asks about: 'What did Lei Jun say about chips?' -> ['Lei Jun']; a surname
    alone before the verb counts ('What did Okafor say about fares?')."""
    verb = speech_verbs(asked=True).search(question)
    if not verb:
        return []
    names = person_names(question[:verb.start()]) or person_names(question)
    if names:
        return names
    near = " ".join(question[:verb.start()].split()[-3:])
    return [w for w in dict.fromkeys(_CAPITALISED.findall(near))  # "Japan's debt" is spoken of; "Dr" is no name
            if w.lower() not in _ASKING and without_possessive(w) == w and w.rstrip(".") not in _TITLES]


def split(question: str) -> list[str]:
    """'What did X say about A, and how did he react to B?' -> two questions; a later part that points back with a
    pronoun, or that names no one and nothing, carries the people the first names ('how did he react to B (X)?', 'how
    much was the firm fined (X)?'), unless the part names someone before its pronoun, whom the pronoun then stands
    for ('what did Munich Re put its exposure at?')."""
    parts = [p.strip(" ,;") for p in _JOINED.split(question) if p.strip(" ,;")]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [question]
    names = asked_speakers(parts[0]) or person_names(parts[0]) or _names(parts[0])[:1]  # whom a pronoun may mean
    out = [parts[0] if parts[0].endswith("?") else parts[0] + "?"]
    for part in parts[1:]:
        part = part[0].upper() + part[1:].rstrip("?")
        if names and (_points_back(part) or not _names(part)):
            part += f" ({', '.join(names)})"
        out.append(part + "?")
    return out


def _points_back(part: str) -> bool:
    """A pronoun comes before any name the part gives itself (its first word, capitalised anyway, is not a name)."""
    pronoun, rest = _PRONOUN.search(part), part.find(" ") + 1
    own = min((i for n in _names(part) if (i := part.find(n, rest)) >= 0), default=-1)
    return bool(pronoun) and (own < 0 or pronoun.start() < own)


def _names(question: str) -> list[str]:
    """The names after the first word, as written, a run of capitalised words each, which a possessive ends: 'How much
    did Norvale Water pay the contractors in Bocholt?' -> Norvale Water, Bocholt; "Rovers' Tannery Ground" is two."""
    out = []
    for m in _NAME_RUN.finditer(POSSESSIVE.sub(",", question.split(" ", 1)[-1])):
        words = [w for w in m.group().split() if w.lower() not in _ASKING and w not in {"I", "The", "A", "An"}]
        if words:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))
