"""What a question asks for: whose words, and whether it is two questions in one (pure functions)."""
from __future__ import annotations

import re

from ..text.quotes import person_names

_SAY_RE = re.compile(
    r"\b(?:say|said|says|saying|tell|told|think|thinks|thought|believe|view|views|react|reacted|claim|claimed|"
    r"argue|argued|warn|warned|comment|commented|quote|quoted|according to|stance|position|opinion|describe|"
    r"described|advice|advise|advised|explain|explained|reaction|react|respond|responded|slogan|call|called|"
    r"admit|admitted|insist|insisted|suggest|suggested|predict|predicted|promise|promised|urge|urged|criticise|"
    r"criticised|criticize|criticized|praise|praised|blame|blamed|accuse|accused|deny|denied|defend|defended|"
    r"exclaim|exclaimed|reveal|revealed|announce|announced|mean|meant|feel|felt|want|wanted|hope|hoped)\b",
    re.I,
)


def asked_speakers(question: str) -> list[str]:
    """People whose words the question asks about: 'What did Lei Jun say ...' -> ['Lei Jun']."""
    verb = _SAY_RE.search(question)
    if not verb:
        return []
    # 'What did Connors say about the pressure on Andrew Murray?': the speaker is named before the verb
    names = person_names(question[:verb.start()]) or person_names(question)
    if not names:  # a single capitalised surname beside the verb: "What did Okafor say about fares?"
        near = " ".join(question[:verb.start()].split()[-3:] + question[verb.end():].split()[:3])
        words = re.findall(r"\b[A-Z][a-z][\w'’-]+\b", near)
        names = [w for w in dict.fromkeys(words) if w.lower() not in _QUESTION_WORDS and not re.search(r"['’]s$", w)]
    return names  # a possessive ("Japan's debt") names what is spoken of, not who speaks


_QUESTION_WORDS = {"what", "who", "how", "why", "when", "where", "which", "did", "does", "said", "say", "the"}


_SPLIT_RE = re.compile(r",?\s+and\s+(?=(?:what|how|who|whom|whose|which|when|where|why|did|does|is|was|were|has|had)\b)", re.I)


_SUBJECT_RE = re.compile(r"\b(?:did|does|do|had|has|have|was|is|were|are|will|would|could|can)\s+((?:[A-Z][\w'’-]+\s+)*"
                         r"[A-Z][\w'’-]+)")
_PRONOUN_RE = re.compile(r"\b(he|she|him|her|his|they|them|their|it|its)\b", re.I)


def split_question(question: str) -> list[str]:
    """'What did X say about A, and how did he react to B?' -> two questions; the second keeps the people named."""
    parts = [p.strip(" ,;") for p in _SPLIT_RE.split(question) if p.strip(" ,;")]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return _split_people(question)
    # "what did X say about Y, and what did he say about Z": "he" is X, whoever else the first part names
    # "how many had Roger Federer won against Fabrice Santoro, and who beat him": the subject, after its auxiliary
    names = (asked_speakers(parts[0]) or person_names(" ".join(_SUBJECT_RE.findall(parts[0])))
             or person_names(parts[0]) or re.findall(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+", parts[0]))
    first = parts[0] if parts[0].endswith("?") else parts[0] + "?"
    rest = []
    for part in parts[1:]:
        part = part[0].upper() + part[1:]
        if names and _PRONOUN_RE.search(part):
            part = f"{part.rstrip('?')} ({', '.join(names)})?"  # "how did he react" -> who "he" is
        rest.append(part if part.endswith("?") else part + "?")
    return [first, *rest]


_ANAPHORA_RE = re.compile(r"\b(?:they|them|it|its|that|those|these|there|afterwards|then)\b", re.I)
_FILLER = {"what", "which", "who", "whom", "whose", "how", "when", "where", "why", "did", "does", "do", "was", "were",
           "is", "are", "has", "had", "have", "the", "a", "an", "of", "many", "much", "long", "to", "in", "on", "at",
           "by", "for", "as", "be", "been"}


def follows_on(part: str) -> bool:
    """Whether a later part of a two-part question is about the story of the first ("..., and what was the final
    score?", "... and how many cars did they build?"), not a story of its own: it names nobody and either points
    back ("they", "that", "afterwards") or says little else."""
    core = re.sub(r"\s*\([^)]*\)\s*(?=\?$)", "", part)  # without the names copied from the first part
    if person_names(core):
        return False
    words = [w for w in re.findall(r"[a-z']+", core.lower()) if w not in _FILLER]
    back = _ANAPHORA_RE.search(core)
    if back and re.search(r"\w\W+[A-Z]", core[:back.start()]):
        return False  # "how much does BP earn according to its results": "its" is BP, named in this part
    return bool(back) or len(words) <= 3


_GLUE = {"are", "is", "was", "were", "did", "do", "does", "has", "have", "had", "the", "a", "an", "of", "about", "for",
         "to", "by", "with", "what", "how", "old", "when", "where", "why", "which", "who", "and", "between", "on", "in"}


_AUXILIARY = {"are", "is", "was", "were", "did", "do", "does", "has", "have", "had", "will", "would", "can", "could"}
# two to four capitalised words, not starting with a question's own ("Did Roger Federer" is "Roger Federer")
_NAME_RUN = re.compile(r"\b(?!(?:Did|Do|Does|Is|Are|Was|Were|Has|Have|Had|What|How|Who|When|Where|Why|Which|The|A|An)"
                       r"\b)[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,3}")


def _split_people(question: str) -> list[str]:
    """'How old are Huawei founder Ren Zhengfei and Xiaomi founder Lei Jun?' -> one question for each of them."""
    runs = list(_NAME_RUN.finditer(question))
    for a, b in zip(runs, runs[1:]):
        joined = re.fullmatch(r"\s+and\s+((?:[\w'’-]+\s+){0,3})", question[a.end():b.start()])
        if not joined or any(w.lower() in _GLUE for w in joined.group(1).split()):
            continue
        words = question[:a.start()].split()
        keep = len(words)  # the first person's description ("Huawei founder") is theirs alone
        while keep > max(0, len(words) - 3) and words[keep - 1].lower() not in _GLUE:
            keep -= 1
        if not keep or words[keep - 1].lower() not in _AUXILIARY:
            continue  # the pair is not the subject ("the system X and Y are building" is one thing)
        rest = question[b.end():]
        first = question[:a.end()] + rest
        second = " ".join([*words[:keep], joined.group(1).strip(), b.group(0)]).replace("  ", " ") + rest
        if len(first.split()) >= 3 and len(second.split()) >= 3:
            return [first, second]
    return [question]


_TOPIC_RE = re.compile(
    r"\b(?:say|said|tell|told|think|describe|described|explain|call|called|react|respond|warn|admit|claim|suggest|"
    r"predict|urge|argue|insist|advise|advice|give)\b(.*)$", re.I)


def topic_of(question: str) -> str:
    """What a 'what did X say about Y' question is about: the words after the speech verb ('' if none)."""
    if not asked_speakers(question):
        return ""
    match = _TOPIC_RE.search(question)
    topic = match.group(1).strip(" ?") if match else ""
    return topic if len(topic.split()) >= 2 else ""
