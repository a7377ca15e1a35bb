"""Question analysis (assistant/retrieve/query.py) on questions written for these tests."""
import pytest

from assistant.retrieve.query import analyse, asked_speakers, split


@pytest.mark.parametrize("question, speakers", [
    ("What did Lei Jun say about chips?", ["Lei Jun"]),
    ("What did Okafor say about fares?", ["Okafor"]),
    ("How did Priya Nair react to the ruling?", ["Priya Nair"]),
    ("How many turbines will the farm have?", []),
    ("What did the report say about Japan's debt?", []),
    ("What did Dr Marlow say about the trial?", ["Marlow"]),  # a title is not a name
    ("What did Councillor Ann Ruddock say about parking?", ["Ann Ruddock"]),
    ("How did Ines Varela characterise the merger?", ["Ines Varela"]),  # verbs that judge, not only say
    ("What reservations did Dr Tom Hale express about the scheme?", ["Tom Hale"]),
    ("How did coach Ana Brook sum up the defeat?", ["Ana Brook"]),
    ("What verdict did critic Sam Ould give on the play?", ["Sam Ould"]),
    ("How did the mayor justify the cuts?", []),
])
def test_whose_words_are_asked(question, speakers):
    assert asked_speakers(question) == speakers


def test_a_title_is_neither_a_name_nor_a_topic_word():
    query = analyse("What did Dr Ana Marlow tell Councillor Reyes about the budget?")
    assert query.names == ("Ana Marlow", "Reyes") and query.terms == ("ana", "marlow", "reyes", "budget")
    assert analyse("Who is the chief executive of Quillon?").terms == ("chief", "executive", "quillon")


def test_two_questions_in_one_are_split_and_a_pronoun_keeps_its_person():
    parts = split("What did Tom Reyes say about the strike, and how did he vote?")
    assert parts == ["What did Tom Reyes say about the strike?", "How did he vote (Tom Reyes)?"]
    assert split("How many buses will Halbrook buy and when will they arrive?")[1].startswith("When will they")


def test_a_part_that_names_someone_before_its_pronoun_keeps_its_own_subject():
    parts = split("How much did the Tarrow council borrow, and what did Norvale Water put its own loss at?")
    assert parts[1] == "What did Norvale Water put its own loss at?"
    assert split("What did Ines Caro say about the plant, and what did she say Verrow owed the town?")[1] == \
        "What did she say Verrow owed the town (Ines Caro)?"


def test_a_part_that_names_nothing_is_about_what_the_first_part_names():
    parts = split("How many customers did Lumora Pay lose in the breach, and how much was the firm fined?")
    assert parts[1] == "How much was the firm fined (Lumora Pay)?"
    assert split("How much did Lumora Pay lose, and how much did Tarrow Bank make?")[1] == \
        "How much did Tarrow Bank make?"


@pytest.mark.parametrize("question", ["Who won the cup and the league?", "What did bread and milk cost?"])
def test_one_question_with_and_is_not_split(question):
    assert split(question) == [question]


def test_analyse_gathers_kind_names_years_and_topic_words():
    q = analyse("How much did Norvale Water pay for the Tessfield plant in 2004?")
    assert q.kind_name == "money"
    assert q.years == ("2004",)
    assert q.names == ("Norvale Water", "Tessfield")  # a name as written, not its words
    assert analyse("What did the Bank of England's governor say?").names == ("Bank of England",)
    assert analyse("How big is Kelby Rovers' Mill Lane ground?").names == ("Kelby Rovers", "Mill Lane")  # two names
    assert "plant" in q.terms and "how" not in q.terms and "much" not in q.terms
    assert analyse("How many buses will Halbrook buy, and who will build them?").kind is None  # each part has its own


def test_a_second_question_may_open_with_a_preposition():
    assert split("Since when has Halbrook run buses, and by how much did fares rise?") == \
        ["Since when has Halbrook run buses?", "By how much did fares rise (Halbrook)?"]


def test_a_pronoun_carries_every_person_the_first_part_names():
    parts = split("How often had Ines Caro beaten Tom Reyes before the final, and who beat her in the semi-final?")
    assert parts[1] == "Who beat her in the semi-final (Ines Caro, Tom Reyes)?"


@pytest.mark.parametrize("question, focus", [
    ("What was the attendance at the Halbrook derby?", ("attendance",)),
    ("In which hospital was the driver treated?", ("hospital",)),
    ("How many new buses will Halbrook buy?", ("new", "buses")),
    ("Which Norvale Water manager was sacked?", ("manager",)),  # names are left out
    ("What did Lei Jun say about chips?", ()),  # no thing asked of: someone's words
    ("How much did Norvale Water pay?", ()),
    ("Who founded Quillon?", ()),
])
def test_the_thing_a_question_asks_of(question, focus):
    assert analyse(question).focus == focus
