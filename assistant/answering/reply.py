"""Reading an LLM's reply as models actually write it: citation styles, claims, meta lines, refusals (pure).

Models cite passages in many ways (`[2]`, `[1, 3]`, `[1-3]`, `【2】`, `[Passage 2]`, `(passage 2)`,
`<passage number="2">`, "according to passage 2", a closing "Sources: [1], [2]" line, a footnote list). `read_reply`
rewrites every style it knows to plain `[n]` markers and splits the reply into claims: each sentence with the numbers
it carries. Sentences that only point at passages ("This is stated in passage 3.", "Cited from [2]") are not claims:
their numbers are `floating`, to be given to the claims they support.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ..text.sentences import split_sentences

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")

# (style name, pattern, group holding the numbers). Order matters: longer forms first.
_NUMS = r"\d+(?:\s*(?:,|;|&|and|-|–|to)\s*\d+)*"
STYLES: tuple[tuple[str, re.Pattern], ...] = (
    ("tag", re.compile(rf"<\s*passages?\s+(?:number|id|n)\s*=\s*[\"']?({_NUMS})[\"']?\s*/?>(?:\s*</passage>)?", re.I)),
    ("tag", re.compile(rf"\bpassages?\s+number\s*=\s*[\"']({_NUMS})[\"']", re.I)),
    ("fullwidth", re.compile(rf"【\s*(?:passages?\s*)?({_NUMS})\s*】", re.I)),
    ("named bracket", re.compile(
        rf"\[\s*(?:passages?|sources?|docs?|documents?|articles?|refs?)\.?\s*#?\s*({_NUMS})\s*\]", re.I)),
    ("footnote caret", re.compile(rf"\[\^\s*({_NUMS})\s*\]")),
    ("range", re.compile(r"\[\s*(\d+\s*[-–]\s*\d+)\s*\]")),
    ("parenthesis", re.compile(
        rf"\(\s*(?:see\s+|source:?\s*|from\s+|cf\.?\s+)?(?:passages?|sources?)\s*#?\s*({_NUMS})\s*\)", re.I)),
    ("prose", re.compile(
        rf"\b(?:the\s+)?passages?\s*#?\s*({_NUMS})\s+(?:says|said|states|stated|mentions|notes|reports|explains|shows|"
        rf"confirms|indicates)\s+(?:that\s+)?", re.I)),
    ("prose", re.compile(
        rf"\b(?:according to|as stated in|as (?:said|noted|reported|mentioned) in|stated in|from|in|see|per)\s+"
        rf"(?:the\s+)?passages?\s*#?\s*({_NUMS})\b", re.I)),
    ("bare passage", re.compile(rf"\bpassages?\s*#?\s*({_NUMS})\b", re.I)),
)
# What a sentence may hold besides markers and still only point at passages: "This is stated in the passage from [3]."
_META_WORDS = set(
    "this that these it is are was were stated found mentioned said written given reported noted in the a an from of "
    "passage passages source sources cited cite citation citations reference references see according to as per "
    "information info comes based on article articles text above provided answer details detail and also both".split()
)
# A refusal: the prompt's phrase or a clear paraphrase of it (the model says the passages do not answer).
REFUSAL = re.compile(
    r"articles?\s+(?:do(?:es)?\s*n[o']t|do(?:es)? not|never)\s+(?:say|mention|state|specify|provide|give|contain|"
    r"answer|include|report|reveal)|"
    r"passages?\s+(?:do(?:es)?\s*n[o']t|do(?:es)? not|never)\s+(?:say|mention|state|specify|provide|give|contain|"
    r"answer|include|report|reveal)|"
    r"\bnot\s+(?:in|mentioned in|stated in|found in|given in|covered (?:in|by))\s+(?:the|any|these)\s+"
    r"(?:indexed\s+|news\s+)*(?:articles?|passages?|text|sources?|stor(?:y|ies)|reports?)|"
    r"\b(?:there is|there's|i (?:have|found)|contains?)\s+no\s+(?:information|mention|details?|data)\b|"
    r"\bno\s+(?:information|mention|details?)\s+(?:about|on|of|regarding)\b|"
    r"\b(?:i\s+)?(?:cannot|can't|could not|couldn't|am unable to|was unable to)\s+(?:find|answer|determine|tell)\b",
    re.I,
)
# A sentence about the passages or the question rather than about the news ("The passage asks about ...", "So the
# answer would be"): not a claim, whatever words it shares with a passage.
META = re.compile(r"^\W*(?:(?:a|answer)\s*:\s*)?(?:so\s+|thus\s+)?(?:the|this|that|these|each)\s+"
                  r"(?:(?:relevant|given|provided|above|cited|same|first|second|third)\s+)?"
                  r"(?:passages?|articles?|questions?|answers?|texts?|documents?|sources?)\b"
                  r"(?!\s+(?:says?|said|states?|stated|notes?|noted|reports?|reported)\b)"
                  r"|^\W*(?:so\s+)?(?:here is|here's|the answer is|the answer would be)\W*$", re.I)
_SAYS = re.compile(r"^(?:the|this)\s+(?:article|text|story|report|passage)\s+(?:says|states|notes|reports)\s+"
                   r"(?:that\s+)?", re.I)
_FOOTNOTE_LINE = re.compile(r"^\s*(?:[-*•]\s*)?\[(\d+)\][.:)]?\s+\S")
_SOURCES_HEADING = re.compile(r"^\s*(?:[-*•]\s*)?(?:sources?|references?|citations?|cited from|cited|see)\s*:?\s*$",
                              re.I)


@dataclass(frozen=True)
class Claim:
    """One sentence of the reply, without markers, and the passage numbers it carries (1-based, in order)."""

    text: str
    cited: tuple[int, ...] = ()
    refusal: bool = False
    gap: str = " "  # what separated it from the claim before: " " or "\n"


@dataclass
class ReadReply:
    claims: list[Claim]
    floating: list[int] = field(default_factory=list)  # numbers from lines that only point at passages
    styles: Counter = field(default_factory=Counter)  # citation style -> times seen


def normalise_markers(text: str) -> tuple[str, Counter]:
    """Every known citation style rewritten as `[n][m]`; also which styles were seen (style -> count)."""
    seen: Counter = Counter()
    for m in MARKER.finditer(text):
        seen["[n]" if m.group(1).strip().isdigit() else "[n, m]"] += 1
    for name, pattern in STYLES:

        def plain(match: re.Match, name: str = name) -> str:
            numbers = _numbers(match.group(1))
            if not numbers:
                return match.group(0)
            seen[name] += 1
            return "".join(f"[{n}]" for n in numbers)
        text = pattern.sub(plain, text)
    return text, seen


def _numbers(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|&|\band\b)\s*", spec):
        m = re.fullmatch(r"(\d+)\s*(?:[-–]|\bto\b)\s*(\d+)", part.strip())
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo <= hi and hi - lo <= 20:
                out.extend(range(lo, hi + 1))
        elif part.strip().isdigit():
            out.append(int(part))
    return list(dict.fromkeys(out))


def read_reply(reply: str, titles: Sequence[str] = ()) -> ReadReply:
    """The claims of a model's reply and the passage numbers they carry, whatever style the model cited in.

    `titles[n-1]` describes passage n (headline, date, author): a last line "[n] <words of that description>" is a
    footnote, not a claim."""
    text, styles = normalise_markers(reply.strip())
    lines = text.splitlines()
    floating: list[int] = []
    # A footnote list or a "Sources:" block at the end only points at passages.
    while lines and (not lines[-1].strip() or _SOURCES_HEADING.match(lines[-1])
                     or _is_footnote(lines[-1], titles) and _ends_body(lines)):
        line = lines.pop()
        numbers = markers(line)
        if numbers:
            styles["footnote list"] += 1
        floating[:0] = numbers
    text = "\n".join(lines)
    claims: list[Claim] = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        numbers = markers(sentence)
        words = _words(MARKER.sub(" ", sentence))
        gap = "\n" if "\n" in text[max(0, s - 2):s] else " "
        if numbers and all(w in _META_WORDS for w in words):
            floating.extend(numbers)
            styles["citation line"] += 1
            continue
        if not words:
            continue
        plain = _tidy(MARKER.sub("", sentence))
        claims.append(Claim(plain, tuple(dict.fromkeys(numbers)), bool(REFUSAL.search(plain)), gap))
    return ReadReply(claims, list(dict.fromkeys(floating)), styles)


def _is_footnote(line: str, titles: Sequence[str]) -> bool:
    """'[1] Lei Jun's midnight message (SCMP)': the line names passage 1 rather than saying something of its own."""
    m = _FOOTNOTE_LINE.match(line)
    if not m:
        return False
    n = int(m.group(1))
    words = set(_words(MARKER.sub(" ", line))) - _META_WORDS
    described = set(_words(titles[n - 1])) if 1 <= n <= len(titles) else set()
    return not words or len(words & described) >= 0.5 * len(words) or not re.search(r"[.!?][\"'”’)]*\s*$", line)


def _ends_body(lines: list[str]) -> bool:
    """A footnote line only when there is body text above the footnote block."""
    return any(line.strip() and not _FOOTNOTE_LINE.match(line) and not _SOURCES_HEADING.match(line)
               for line in lines[:-1])


def markers(text: str) -> list[int]:
    return [n for m in MARKER.finditer(text) for n in _numbers(m.group(1))]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _tidy(text: str) -> str:
    """A claim's text once its markers are gone: no stray spaces or commas, a capital first letter."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[,;:]+(?=[.!?]|$)", "", text.strip())
    text = re.sub(r"^(?:[-*•]\s+)?[,;:]\s*", "", text).strip()
    text = _SAYS.sub("", text)  # "The article says that X" claims X
    if len(text) > 1 and text[0].islower() and not text[1].isupper():
        text = text[0].upper() + text[1:]
    return text
