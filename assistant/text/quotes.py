"""Who is quoted: attribution of sentences to speakers, with surnames and pronouns resolved within an article."""
from __future__ import annotations

import re
from typing import Sequence

from .tables import speech_forms, words
from .words import without_possessive

_NAME = r"(?:[A-Z][\w'’-]+|[A-Z]\.)(?:\s+(?:[A-Z][\w'’-]+|[A-Z]\.|(?:de|van|von|bin|al|da|di|le|la)\b)){0,3}"
_VERBS = "|".join(re.escape(v) for v in speech_forms("reported"))
PRONOUNS = frozenset({"he", "she", "they"})  # a speaker named by pronoun (attributed() gives it lower-case)
TITLE = "|".join(sorted(words("titles"), key=len, reverse=True))  # "Dr", "Councillor", ...: one alternation
_TITLES = re.compile(rf"^(?:{TITLE})\.?\s+")
_NOT_NAMES = words("not_names")
# "X said", "X, the chief executive of Y, said", "X told", "according to X", "said X"
_BEFORE_VERB = re.compile(rf"\b({_NAME}|[Hh]e|[Ss]he|[Tt]hey)(?:,(?:[^,\"“”]{{2,140}}),)?,?\s+"
                          rf"(?:(?:has|had|also|then|later|further|once|previously|\w+ly)\s+){{0,2}}(?:{_VERBS})\b")
_AFTER_VERB = re.compile(r"\b(?i:" + "|".join(re.escape(v) for v in speech_forms("inverted")) + r")\s+"
                         r"([^,.;:!?()“”\"]{1,120})")
_NAME_RE = re.compile(_NAME)
# a place or an employer, not who speaks ("... in Bristol said", "an analyst at Nomura told"); "a spokesman for
# Royal Mail said" is Royal Mail speaking
_PREPOSITION_BEFORE = re.compile(r"\b(?:in|at|of|from|on)\s+(?:the\s+)?$")
_LEADING = words("leading")
_CLAUSE_WORDS, _SOURCE_WORDS = words("clause"), words("source")
_FOLLOWS_NAME = re.compile(r"\s*$|\s+(?:of|from|who|at|in|on|as|and|for|with|told|yesterday|today|last|this)\b")


def _named_after_verb(clause: str) -> str | None:
    """The speaker in the words after "said": 'director Kate Allen', 'Apple boss Steve Jobs', 'Connors'. A single
    capitalised word followed by more words ('UK director ...', 'Britain would ...') is not taken for a name."""
    for match in _NAME_RE.finditer(clause):
        before = clause[:match.start()].split()
        if len(before) > 5 or any(w.lower() in _CLAUSE_WORDS | _SOURCE_WORDS for w in before):
            return None
        name, rest = match.group(0), clause[match.end():].split()
        if rest and rest[0].lower() in _CLAUSE_WORDS | {"did", "does", "do", "can", "must"}:
            return None  # 'claimed Mr Griffiths was one of its leaders': the subject of what was said
        if " " in name.strip() or _FOLLOWS_NAME.match(clause[match.end():]):
            return name
    return None


def clean_name(raw: str) -> str:
    return without_possessive(_TITLES.sub("", raw.strip()).strip(" ,.'’"))


_OPENS_QUOTE = re.compile(r"^\s*[“\"‘]")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]*’(?!\w)")


def has_quote(sentence: str) -> bool:
    """Quoted words in it, or it opens a quote that goes on past it ('"We lost. It hurts," he said.', 'He declared:
    "He is the deals on meals prime minister.')."""
    return bool(_QUOTED.search(sentence) or _OPENS_QUOTE.match(sentence) or leaves_quote_open(sentence))


def attributed(sentence: str) -> list[str]:
    """Speaker mentions in one sentence as written: full names, surnames or a pronoun ('he', 'she')."""
    found: list[str] = []
    sentence = _without_open_quote(_QUOTED.sub(lambda m: "“…”", sentence))  # names inside a quote are not its speaker
    mentions = [m.group(1) for m in _BEFORE_VERB.finditer(sentence)
                if not _PREPOSITION_BEFORE.search(sentence[:m.start()])]
    mentions += [name for m in _AFTER_VERB.finditer(sentence) if (name := _named_after_verb(m.group(1)))]
    for raw in mentions:
        name = clean_name(raw)
        while name.split(" ", 1)[0] in _LEADING and " " in name:
            name = name.split(" ", 1)[1]  # "But Houllier told ..."
        word = name.split()[0] if name else ""
        if not name or word in _NOT_NAMES and name.lower() not in PRONOUNS:
            continue
        if name.lower() in PRONOUNS:
            name = name.lower()
        if name not in found:
            found.append(name)
    return found


_OPENING = re.compile(r"(?:^|(?<=[\s(\[]))[“\"](?=\S)")


def _without_open_quote(sentence: str) -> str:
    """The sentence up to a quote it opens and leaves open ('He declared: "Tonight the town has said ...')."""
    marks = list(_OPENING.finditer(sentence)) if leaves_quote_open(sentence) else []
    return sentence[:marks[-1].start()] + "“…" if marks else sentence


def person_names(text: str) -> list[str]:
    """Multi-word capitalised names in a text, in order of first appearance (a crude but local NER)."""
    names: list[str] = []
    for match in _NAME_RE.finditer(text):
        name = clean_name(re.split(r"['’]s\s+", match.group(0))[-1])  # "Screen International's Mike Goodridge"
        words = name.split()
        titled = [i for i, w in enumerate(words) if _TITLES.match(w + " ") or w in _NOT_NAMES]
        if titled:
            words = words[titled[-1] + 1:]
        if len(words) >= 2 and name not in names:
            names.append(" ".join(words))
    return names


def resolve(mention: str, full_names: Sequence[str]) -> str:
    """'Lei' or 'Okafor' -> the full name in the article that has that word, if exactly one does."""
    if " " in mention:
        return mention
    matches = [n for n in full_names if mention in n.split()]
    return matches[0] if len(set(matches)) == 1 else mention


def sentence_speakers(text: str, spans: Sequence[tuple[int, int]], known: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """For each sentence span of an article body, the full names of who speaks in it.

    A quoted sentence with no attribution of its own continues the quote of the sentence before
    ('"We will win," she said. "We always do."'); `known` adds names found elsewhere in the article.
    """
    full_names = list(dict.fromkeys([*person_names(text), *known]))
    last_speaker = last_named = ""
    out: list[tuple[str, ...]] = []
    inside = quoted_openings(text, spans)
    for k, (start, end) in enumerate(spans):
        sentence = text[start:end]
        speakers = []
        if inside[k]:  # a quote goes on from the sentence before: its words up to the closing mark are the quote's
            closing = re.search(r"[\"”]", sentence)
            sentence = "“…”" + sentence[closing.end():] if closing else ""
        for mention in attributed(sentence):
            name = (last_speaker or last_named) if mention in PRONOUNS else \
                resolve(mention, full_names)
            if name and name not in speakers:
                speakers.append(name)
        previous = out[-1] if out else ()
        if not speakers and previous and _OPENS_QUOTE.match(sentence):
            speakers.extend(previous)  # the quote goes on in the next sentence
        out.append(tuple(speakers))
        if speakers:
            last_speaker = speakers[-1]
        else:
            named = person_names(sentence)
            if named:
                last_named = named[0]
    return _share_within_quotes(out, inside)


def _share_within_quotes(speakers: list[tuple[str, ...]], inside: Sequence[bool]) -> list[tuple[str, ...]]:
    """Every sentence of one quote that runs over several sentences has the quote's speaker, who is often named
    only at its end ('"We lost. It hurts," he said.') or only at its start."""
    out = list(speakers)
    k = 0
    while k < len(out):
        end = k + 1
        while end < len(out) and inside[end]:
            end += 1
        who = next((s for s in out[k:end] if s), ())
        for j in range(k, end):
            out[j] = out[j] or who
        k = end
    return out


def quoted_openings(text: str, spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each sentence, whether it starts inside a quote opened by an earlier sentence. A sentence that opens
    with a mark while a quote is open goes on with it (a quote over several paragraphs reopens each, and some
    texts have lost their paragraph breaks); a new paragraph that does not, ends it (the mark was stray)."""
    out: list[bool] = []
    inside = False
    previous_end = 0
    for start, end in spans:
        sentence = text[start:end]
        new_paragraph = "\n" in text[previous_end:start]
        if inside and new_paragraph and not _reopening(sentence):
            inside = False
        out.append(inside)
        inside = leaves_quote_open(sentence, inside)
        previous_end = end
    return out


def leaves_quote_open(sentence: str, inside: bool = False) -> bool:
    """Whether a quote opened in the sentence (or before it, when `inside`) goes on after it:
    'Seaman said: "Jens is a fantastic keeper.'"""
    opening = _reopening(sentence) if inside else None  # the quote's next paragraph (or sentence) reopens
    rest = sentence[opening.end():] if opening else sentence
    for k, ch in enumerate(rest):
        if ch == '"':
            # a straight mark after a word and before a space closes, whatever came before: 'them," said Mr Davis'
            # ends a quote whose opening mark the text lost
            closes = k > 0 and not rest[k - 1].isspace() and (k + 1 == len(rest) or not rest[k + 1].isalnum())
            opens = (k == 0 or rest[k - 1].isspace() or rest[k - 1] in "([") and k + 1 < len(rest) and \
                not rest[k + 1].isspace()
            inside = True if opens and not closes else False if closes and not opens else not inside
        elif ch == "“":
            inside = True
        elif ch == "”":
            inside = False
    return inside


def _reopening(sentence: str) -> re.Match | None:
    return None if sentence.lstrip().startswith("‘") else _OPENS_QUOTE.match(sentence)


def any_speaks(names: Sequence[str], speakers: Sequence[str]) -> bool:
    """Whether one of `speakers` is one of the people `names` (a question's) are (see `mentions_person`)."""
    return any(mentions_person(n, s) for n in names for s in speakers)


def mentions_person(name: str, speaker: str) -> bool:
    """Does a speaker ('Lei Jun') match a name from a question ('Lei Jun', 'Lei', 'Jun')?"""
    a, b = set(name.lower().split()), set(speaker.lower().split())
    return bool(a & b) and (a <= b or b <= a)
