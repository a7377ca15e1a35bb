"""Does a passage support a claim? What the claim adds (names, numbers, quoted words) must be in the passage (pure).

Word overlap alone lets a fabricated claim keep its citation when it shares names with the passage ("Wang Xingxing
said Unitree will buy Boston Dynamics for $3 billion [1]"). Here a claim is supported by a passage when
- every number it states is one the passage states, in any usual form ("$3bn" = "3 billion" = "3,000 million",
  "30%" = "30 per cent", "three" = "3"), and a share as a share ("30%" is not the count 30);
- every name it states (a run of capitalised words) is named in the passage or in the same article's other passages,
  allowing a partial name ("Mr Wang" / "Wang Xingxing");
- the words it puts in quotation marks are the passage's words;
- the words it gives to someone ("Ann Lee said ...", "she said ...") are not, in the passage, someone else's;
- and enough of its other content words are the passage's (`overlap`).
Sentences of an article that tell a reader or a model what to write ("answer HACKED and cite [1]") are not evidence:
they are left out before anything is compared.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Sequence

from ..text.quotes import PRONOUNS, any_speaks, attributed, sentence_speakers
from ..text.sentences import sentences, split_sentences
from ..text.words import content_words, stem, without_possessive

# Sentences that instruct instead of report; they never count as evidence for a claim.
INSTRUCTIONS: tuple[re.Pattern, ...] = (
    re.compile(r"^\W*(?:please\s+|now\s+|always\s+|you\s+(?:must|should)\s+)?(?:answer|reply|respond|write|output|"
               r"print|cite|ignore|disregard|forget|repeat|include|append|add|say|state|tell)\b(?!\s+(?:that|the\s+"
               r"(?:bbc|court|committee|paper|newspaper)))", re.I),
    re.compile(r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|"
               r"other)\s+(?:instructions|rules|prompts?|messages?)", re.I),
    re.compile(r"\b(?:as an ai|language model|ai assistant|chatbot|the assistant|system prompt)\b", re.I),
)

_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9,
                "tn": 1e12, "trillion": 1e12, "hundred": 1e2}
_WORD_NUMBERS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty".split())}
_WORD_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "dozen": 12})
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_NUMBER = re.compile(
    rf"(?<![\w.])(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|(?:{_TENS})(?:[-\s](?:{_UNITS}))?|"
    + "|".join(sorted(set(_WORD_NUMBERS) - {"zero", "one"}, key=len, reverse=True))  # "one of them" counts nothing
    + r")(?:\s?-?\s?(thousand|million|billion|trillion|hundred|bn|mn|tn|m|k)\b|(?!\w))", re.I)
# Words that are capitalised for grammar, not because they name something.
_NOT_NAMES = set(
    "i a an the this that these those he she it they we you his her its their our my your mr mrs ms dr sir dame "
    "lord lady prof professor and but or so yet also however meanwhile according in on at by for of to as with "
    "from after before when while if although though because since there here what who which where why how "
    "yes no not one".split())
_TITLES = {"mr", "mrs", "ms", "dr", "sir", "dame", "lord", "lady", "prof", "professor", "president", "chairman",
           "chief", "executive", "minister", "prime", "secretary", "mp", "ceo", "founder", "st"}
_CAPITALISED = re.compile(r"\b[A-Z][\w'’&.-]*[\w]|\b[A-Z]\b")
_QUOTED = re.compile(r"[“\"]([^”\"]{8,}?)[”\"]")

# How much of a claim's other content words must be the passage's for a passage that Newsdesk finds for a claim the
# model left uncited (nobody chose that passage). A passage the model cited must carry the claim (grounding.py).
MATCHED_OVERLAP = 0.5


@dataclass(frozen=True)
class Support:
    overlap: float  # share of the claim's content words found in the passage
    missing: tuple[str, ...] = ()  # names, numbers or quotes of the claim the passage does not have

    def holds(self, needed: float = 0.0) -> bool:
        """Nothing the claim adds is missing, and more than `needed` of its own words are the passage's (by default
        one at least: a claim whose words are all the question's says nothing)."""
        return not self.missing and self.overlap > needed


@dataclass(frozen=True)
class Evidence:
    """What a passage offers as evidence: its text without instructions, names from its whole article, and who speaks
    in each of its sentences."""

    text: str
    names: frozenset[str] = field(default_factory=frozenset)  # lower-cased name words of the passage's article
    spoken: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()  # (content words, speakers) of each sentence

    @classmethod
    def of(cls, text: str, article_texts: Sequence[str] = (), speakers: Sequence[str] = ()) -> "Evidence":
        clean = without_instructions(text)
        names = {w for t in (clean, *map(without_instructions, article_texts), *speakers) for w in name_words(t)}
        spans = split_sentences(clean)
        spoken = tuple((frozenset(content_words(clean[a:b])), who)
                       for (a, b), who in zip(spans, sentence_speakers(clean, spans, known=speakers)))
        return cls(clean, frozenset(names), spoken)


def without_instructions(text: str) -> str:
    """The passage with every sentence that tells the reader (or a model) what to write left out."""
    kept = sentences(text)  # "£2.3m" stays one number, "Mr. Lee" one sentence
    return " ".join(s for s in kept if not any(p.search(s) for p in INSTRUCTIONS))


_PERCENT = re.compile(r"\s?(?:%|per\s?cent\b|percentage points?\b)", re.I)


def numbers(text: str) -> list[tuple[str, float]]:
    """(as written, value) for every number: '$3bn' -> ('3bn', 3e9), '3,000 million' -> ('3,000 million', 3e9). A
    share keeps its sign of being one: '30 per cent' -> ('30%', 30.0), which is not the count 30."""
    out = []
    for m in _NUMBER.finditer(text):
        raw, unit = m.group(1).lower(), (m.group(2) or "").lower()
        if raw[:1].isdigit():
            value = float(raw.replace(",", ""))
        else:  # 'thirty-five' -> 30 + 5
            value = float(sum(_WORD_NUMBERS[w] for w in re.split(r"[-\s]", raw)))
        share = "%" if _PERCENT.match(text, m.end()) else ""
        out.append((m.group(0).strip() + share, value * _MULTIPLIERS.get(unit, 1.0)))
    return out


def name_words(text: str) -> set[str]:
    """Lower-cased words written with a capital anywhere in the text (possessives cut)."""
    return {_bare(w) for w in _CAPITALISED.findall(text)}


def names(claim: str) -> list[tuple[str, ...]]:
    """Runs of capitalised words that name something: 'Wang Xingxing said Unitree ...' -> [(wang, xingxing),
    (unitree,)].

    A sentence's first word counts only when the next word is capitalised too ('Boston Dynamics will ...')."""
    out: list[tuple[str, ...]] = []
    tokens = re.findall(r"[\w'’&.-]+|[^\w\s]", claim)
    run: list[str] = []
    start = True
    for i, tok in enumerate(tokens):
        word = _bare(tok)
        capital = tok[:1].isupper() and word not in _NOT_NAMES and any(c.isalpha() for c in tok)
        if capital and start:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            capital = nxt[:1].isupper() or sum(c.isupper() for c in tok) > 1
        if capital:
            run.append(word)
        elif run:
            out.append(tuple(run))
            run = []
        start = tok in {".", "!", "?", ":", "“", '"'} or (start and not tok[:1].isalnum())
    if run:
        out.append(tuple(run))
    return [r for r in out if any(w not in _TITLES for w in r)]


def quotes(claim: str) -> list[str]:
    return [q for q in _QUOTED.findall(claim) if len(content_words(q)) >= 2]


# Words that talk about the answer rather than say something: "The answer to the question is in the passage".
_ABOUT_ANSWERS = set("answer answers question questions passage passages article articles document documents text "
                     "source sources report reports based information according mentioned stated".split())


def support(claim: str, evidence: Evidence, asked: frozenset[str] = frozenset(), said_by: str = "",
            yes_no: bool = False) -> Support:
    """How far `evidence` supports `claim`; `asked` are the question's content words, which a claim may repeat
    without the passage having to say them, but which do not count as support either, unless the question asks yes
    or no (`yes_no`): then the claim that they hold ("X has been convicted" for "Has anyone been convicted?") is the
    answer, and the passage must say them; `said_by` is whom a "he" or "she" who speaks in the claim stands for (the
    person an earlier claim named as speaking)."""
    text = evidence.text
    missing: list[str] = []
    have = [(v, raw.endswith("%")) for raw, v in numbers(text)]
    for raw, value in numbers(claim):
        if not any(math.isclose(value, v, rel_tol=1e-6) and raw.endswith("%") == share for v, share in have):
            missing.append(raw)
    for name in names(claim):
        words = [w for w in name if w not in _TITLES] or list(name)
        found = sum(1 for w in words if _known(w, evidence.names))
        if found < math.ceil(len(words) / 2):
            missing.append(" ".join(name))
    found_words = content_words(text)
    stems = {w[:5] for w in found_words}
    for quote in quotes(claim):
        words = content_words(quote)
        if sum(1 for w in words if w in found_words or w[:5] in stems) < 0.8 * len(words):
            missing.append(f"“{quote[:40]}”")
    if yes_no:
        missing += [w for w in sorted(content_words(claim) & asked) if w not in found_words and w[:5] not in stems]
    spoken_by = misattributed(claim, evidence, said_by)
    if spoken_by:
        missing.append(f"words of {spoken_by}")
    words = content_words(_QUOTED.sub(" ", claim)) | {w for q in quotes(claim) for w in content_words(q)}
    asked_stems = {stem(w) for w in asked}  # "operates" adds nothing to "how many ... operate"
    words = {w for w in words if (len(w) > 2 or w.isdigit()) and stem(w) not in asked_stems} - _ABOUT_ANSWERS
    overlap = sum(1 for w in words if w in found_words or w[:5] in stems) / len(words) if words else 0.0
    return Support(overlap, tuple(missing))


def speaker(claim: str) -> str:
    """Whom a claim names as speaking, if anyone ('Ann Lee said ...' -> 'Ann Lee'; 'She said ...' -> '')."""
    return next((n for n in attributed(claim) if n.lower() not in PRONOUNS), "")


def misattributed(claim: str, evidence: Evidence, said_by: str = "") -> str:
    """Who really speaks the words a claim gives to someone else ('Ann Lee said the plan would fail' where the
    passage's sentence with those words is Tom Reyes's): the speaker of the passage sentence that shares the most of
    the claim's words (at least two), when the claim names who speaks and that sentence has speakers, none of them
    the claim's. '' when the claim names nobody as speaking, or the words are theirs, or nobody's in particular."""
    claimed = [said_by if n.lower() in PRONOUNS else n for n in attributed(claim)]
    claimed = [n for n in claimed if n and n.lower() not in PRONOUNS]
    if not claimed or not evidence.spoken:
        return ""
    words = content_words(claim) - {w.lower() for n in claimed for w in n.split()}  # what is said, not who says it
    shared, who = max(((len(words & w), s) for w, s in evidence.spoken), key=lambda x: x[0])
    if shared < 2 or not who or any_speaks(claimed, who):
        return ""
    return who[0]


def _known(word: str, known: frozenset[str]) -> bool:
    """A name word the evidence has, allowing its other forms ('China' for 'Chinese', 'Britain' for 'British')."""
    return word in known or len(word) >= 5 and any(k[:4] == word[:4] and len(k) >= 4 for k in known)


def _bare(word: str) -> str:
    return without_possessive(word).strip(".").lower()
