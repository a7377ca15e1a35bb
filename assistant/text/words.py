"""Words: the one stop list and the one stemmer of the package, and the content words of a text (pure)."""
from __future__ import annotations

import re
from functools import lru_cache

STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being it its this that these those "
    "he she they his her their them him we you i as not no do does did has have had will would can could should may "
    "might must about into over after before than then also said says say what who which when where why how there "
    "here more most some any all one two per".split()
)
_WORD = re.compile(r"[\w'’]+")
POSSESSIVE = re.compile(r"(?<=\w)['’]s?(?=\W|$)")  # "Lei's", "Rovers'", not "O'Neill"


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer (Snowball English), also the keyword index's stemmer

    return Stemmer.Stemmer("english")


_PARTS_OF_SPEECH = ("VERB", "NOUN", "ADJ")  # whose dictionary form a word takes, when it can be several


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """'elections' -> 'elect', 'wrote' -> 'write', 'paid' -> 'pay', 'children' -> 'child', 'founders' -> 'found':
    the word's dictionary form (lemminflect's tables, which know irregular forms that a stemmer cannot), or the verb
    of one who does it, stemmed (Snowball English)."""
    import lemminflect

    word = word.lower()
    forms = lemminflect.getAllLemmas(word)
    lemma = next((forms[pos][0] for pos in _PARTS_OF_SPEECH if pos in forms), word)
    if "ADJ" not in forms:
        lemma = _doing(lemma)
    return _stemmer().stemWord(lemma)


def _doing(noun: str) -> str:
    """The verb of one who does it: 'founder' -> 'found', 'manager' -> 'manage', 'investor' -> 'invest' (when the
    rest is a verb of three letters or more); else the word."""
    import lemminflect

    if noun.endswith(("er", "or")):
        for verb in (noun[:-2] + "e", noun[:-2]):
            if len(verb) >= 3 and verb in lemminflect.getAllLemmas(verb).get("VERB", ()):
                return verb
    return noun


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, apostrophes kept inside ("o'neill"), in order."""
    return [w.lower().strip("'’") for w in _WORD.findall(text)]


def without_possessive(word: str) -> str:
    """"Lei's" -> "Lei", "Rovers'" -> "Rovers": a word or name without a possessive ending."""
    return POSSESSIVE.sub("", word)


def content_words_in_order(text: str) -> list[str]:
    """The words that carry meaning (no stop words, no single letters), in order."""
    return [w for w in words(text) if w not in STOP and len(w) > 1]


def content_words(text: str) -> set[str]:
    return set(content_words_in_order(text))


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in content_words_in_order(text)}
