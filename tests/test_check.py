"""Checking a reply against the passages: keep what they support, match what was left uncited, never refuse for the
model."""
import pytest

from assistant.answering import check
from assistant.types import Passage

_grounding = []


@pytest.fixture(autouse=True)
def _with_grounding(grounding):
    _grounding[:] = [grounding]  # the fitted check, with the real embedding model


def check_reply(reply, passages, question=""):
    return check.check_reply(reply, passages, question, _grounding[0])


def P(n, text, title="", doc=None):
    return Passage(doc_id=doc or f"d{n}", title=title or f"Story {n}", source=f"/s{n}.txt", text=text, score=1.0)


PASSAGES = [
    P(1, "Wang Xingxing, the 35-year-old founder of Unitree Robotics, told Xi the firm was born in China.",
      "Xi meets private entrepreneurs"),
    P(2, "Lei Jun said persistence creates opportunities. Xiaomi unveiled the Surge C1 imaging chip on Tuesday.",
      "Lei Jun's midnight message"),
]


def test_a_correct_reply_keeps_its_citations():
    out = check_reply("Wang Xingxing is 35 and runs Unitree [1]. Lei said persistence creates opportunities [2].",
                      PASSAGES)
    assert out.text == "Wang Xingxing is 35 and runs Unitree [1]. Lei said persistence creates opportunities [2]."
    assert out.kept == 2 and not out.removed and not out.matched


def test_an_invented_fact_loses_its_citation_and_the_sentence_is_removed():
    out = check_reply("Wang Xingxing said Unitree will buy Boston Dynamics for $3 billion [1].", PASSAGES)
    assert out.kept == 0 and out.removed and not out.refused


def test_an_uncited_claim_gets_the_passage_that_supports_it():
    out = check_reply("Wang Xingxing runs Unitree [1]. Xiaomi unveiled the Surge C1 imaging chip on Tuesday.", PASSAGES)
    assert out.text == "Wang Xingxing runs Unitree [1]. Xiaomi unveiled the Surge C1 imaging chip on Tuesday [2]."
    assert out.matched == {2} and out.kept == 2


def test_a_reply_that_cites_nothing_keeps_nothing():
    out = check_reply("Xiaomi unveiled the Surge C1 imaging chip on Tuesday.", PASSAGES)
    assert out.kept == 0 and not out.matched and out.uncited == 1 and not out.refused
    assert out.note() == "The LLM's answer cites no passage, so its 1 sentence is not shown."


def test_a_claim_that_only_restates_the_question_is_no_claim():
    out = check_reply("Xiaomi unveiled the Surge C1 imaging chip [2].", PASSAGES,
                      "When did Xiaomi unveil the Surge C1 imaging chip?")
    assert out.kept == 0 and out.removed  # "unveiled" is the question's "unveil"
    assert check_reply("Xiaomi unveiled the Surge C1 imaging chip on Tuesday [2].", PASSAGES,
                       "When did Xiaomi unveil the Surge C1 imaging chip?").kept == 1


def test_a_trailing_source_line_goes_to_the_claims_it_supports():
    out = check_reply("Lei said persistence creates opportunities.\nCited from [2]", PASSAGES)
    assert out.text == "Lei said persistence creates opportunities [2]." and not out.matched


def test_a_wrong_number_is_replaced_by_the_supporting_passage():
    out = check_reply("Lei said persistence creates opportunities [1].", PASSAGES)
    assert out.text.endswith("[2].") and out.dropped == [(1, "Lei said persistence creates opportunities.")]


def test_refusal_then_an_invented_fact_is_a_refusal():
    out = check_reply("The articles don't say. The phones cost $599 [2].", PASSAGES,
                      "What launch price did Xiaomi set for the Surge C1 phones?")
    assert out.refused and out.kept == 0 and out.removed == ["The phones cost $599."]


def test_a_refusal_that_invents_a_number_is_removed_too():
    out = check_reply("The articles don't say, but it was probably $599.", PASSAGES, "What did the phones cost?")
    assert out.refused and out.removed and out.kept == 0


def test_a_reply_with_nothing_supported_and_no_refusal_is_not_a_refusal():
    out = check_reply("Lizzy is a professional writer.", PASSAGES, "What did Lei Jun say about chips?")
    assert out.kept == 0 and not out.refused and out.removed


def test_talk_about_the_passages_is_not_a_claim():
    out = check_reply("The passage asks about the Surge C1 imaging chip [2]. So the answer would be:\n"
                      "The article says that Xiaomi unveiled the Surge C1 imaging chip on Tuesday [2].", PASSAGES)
    assert out.text == "Xiaomi unveiled the Surge C1 imaging chip on Tuesday [2]."
    assert out.removed == ["The passage asks about the Surge C1 imaging chip.", "So the answer would be"]


def test_a_she_said_claim_is_checked_against_the_person_named_before():
    passages = [P(1, 'Ann Lee won the seat. "The town is tired of being taken for granted," she said. Tom Reyes, '
                     'the party leader, said the result was historic.')]
    out = check_reply("Tom Reyes said he was the party leader [1]. He said the result was historic [1].", passages)
    assert "historic" in out.text
    out = check_reply("Ann Lee said the town was tired of being taken for granted [1]. She said the result was "
                      "historic [1].", passages)
    assert "tired" in out.text and "historic" not in out.text and any("historic" in c for c in out.removed)


def test_the_answer_to_a_yes_or_no_question_must_be_the_passage_s():
    passages = [P(1, "Burglars took jewellery from the Osbournes' home in Chalfont St Peter. Police are still "
                     "looking for them. The council approved the new stadium on Monday.")]
    invented = check_reply("The Osbournes' burglars have been convicted [1].", passages,
                           "Has anyone been convicted over the burglary at the Osbournes' home?")
    assert invented.kept == 0 and invented.removed
    said = check_reply("Yes, the council approved the new stadium on Monday [1].", passages,
                       "Did the council approve the new stadium?")
    assert said.kept == 1
    # asked any other way, a claim may repeat the question's words that the passage does not use
    assert check_reply("The Osbournes' burglars took jewellery [1].", passages,
                       "What did the burglars steal from the Osbournes' home?").kept == 1


def test_a_question_is_not_a_claim():
    out = check_reply("Question: What did Xiaomi unveil [2]? Xiaomi unveiled the Surge C1 imaging chip [2].", PASSAGES)
    assert out.text == "Xiaomi unveiled the Surge C1 imaging chip [2]." and out.removed == ["Question: What did Xiaomi unveil?"]
    asked = check_reply('Lei Jun asked: "Why does persistence create opportunities?" [2]', PASSAGES)
    assert asked.kept == 1  # a question reported is a claim


def test_talk_about_the_relevant_passage_is_not_a_claim_either():
    out = check_reply('A: The relevant passage is "Lei Jun\'s midnight message" [2]. Lei said persistence creates '
                      'opportunities [2].', PASSAGES)
    assert out.text == "Lei said persistence creates opportunities [2]." and out.kept == 1
    assert check_reply("The leaked documents show Xiaomi unveiled the Surge C1 imaging chip [2].", PASSAGES).kept == 1
