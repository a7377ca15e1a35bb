"""The language tables (assistant/text/tables.toml): every kind's own examples hold."""
import pytest

from assistant.text.tables import kind_of, kinds, speech_verbs

KINDS = kinds()


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_kind_is_asked_by_its_example_and_given_by_its_answer(kind):
    assert kind_of(kind.example) == kind  # and by no kind tried before it
    assert kind.given.search(kind.answer)


def test_a_when_clause_before_the_question_is_not_what_is_asked():
    assert kind_of("When the river flooded, what share of the shops reopened within a month?").name == "share"
    assert kind_of("When the river flooded, which bridge closed first?") is None
    assert kind_of("When will the bridge, which closed in May, reopen?").name == "date"


@pytest.mark.parametrize("question", ["What did the mayor say about the budget?", "Tell me about the floods."])
def test_a_question_that_asks_no_kind_has_none(question):
    assert kind_of(question) is None


@pytest.mark.parametrize("kind", [k for k in KINDS if k.name in ("money", "age", "date", "share")],
                         ids=lambda k: k.name)
def test_a_sentence_about_the_topic_without_the_answer_does_not_give_it(kind):
    assert not kind.given.search("The council discussed the plans at length with residents.")


def test_who_is_someone_named_asks_what_they_are_not_for_a_person():
    assert kind_of("Who is Lei Jun?") is None
    assert kind_of("Who was Dr. Ann Lee?") is None
    assert kind_of("Who is the chief executive of Xiaomi?").name == "person"
    assert kind_of("Who is Lumetra's head of product?").name == "person"
    assert kind_of("Who is Ann Lee engaged to?").name == "person"


def test_speech_verbs_of_articles_and_of_questions():
    assert speech_verbs().search("The minister told reporters it would pass.")
    assert not speech_verbs().search("The minister walked out.")
    assert speech_verbs(asked=True).search("How did the unions react to the offer?")
