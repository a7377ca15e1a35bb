"""What a question asks: two questions in one, and whose words."""
import pytest

from assistant.retrieve.questions import asked_speakers, split_question


@pytest.mark.parametrize("question, parts", [
    ("What did Gordon Brown say about the G7, and whose record did he overtake?",
     ["What did Gordon Brown say about the G7?", "Whose record did he overtake (Gordon Brown)?"]),
    ("How many buses will Halbrook buy, and when will they arrive?",
     ["How many buses will Halbrook buy?", "When will they arrive?"]),
    ("Who won the match and the cup?", ["Who won the match and the cup?"]),  # one question with two objects
    # "he" is the person whose words were asked for, not everyone the first part names
    ("What did Sir Alex Ferguson say about his row with Arsene Wenger, and what did he say about technology?",
     ["What did Sir Alex Ferguson say about his row with Arsene Wenger?",
      "What did he say about technology (Alex Ferguson)?"]),
    # ... and otherwise the subject, named after its auxiliary, not the others named or an event's name
    ("How many matches against Fabrice Santoro had Roger Federer won at the Australian Open, and who beat him?",
     ["How many matches against Fabrice Santoro had Roger Federer won at the Australian Open?",
      "Who beat him (Roger Federer)?"]),
])
def test_two_questions_in_one_are_split(question, parts):
    assert split_question(question) == parts


def test_the_person_asked_about_is_found():
    assert asked_speakers("What did Lei Jun say about chips?") == ["Lei Jun"]
    assert asked_speakers("How many buses will Halbrook buy?") == []
    assert asked_speakers("What did Jimmy Connors say about the pressure on Andrew Murray?") == ["Jimmy Connors"]
    assert asked_speakers("What was said by Jimmy Connors?") == ["Jimmy Connors"]
    assert asked_speakers("According to the report, how large is Japan's debt?") == []
    assert asked_speakers("What did Okafor say about fares?") == ["Okafor"]
    # the speaker is a newspaper not named; the places further on are not speakers
    assert asked_speakers("According to a financial newspaper, whom would the Frankfurt exchange let run London?") == []


def test_a_later_part_that_points_back_belongs_to_the_first_parts_story():
    from assistant.retrieve.questions import follows_on

    assert follows_on("What was the final score?")
    assert follows_on("How many cars did they build?")
    assert follows_on("How many of them are run according to Islamic banking principles?")
    assert not follows_on("What recycling initiative did eBay announce?")
    assert not follows_on("How much does BP earn per hour according to its annual results?")  # "its" is BP
    assert not follows_on("How far out was Gavin Henson's match-winning penalty in that game?")  # names its own
    assert not follows_on("How did he react to the Carstairs escape (David McLetchie)?")


def test_two_people_asked_about_together_get_a_question_each():
    assert split_question("How old are Huawei founder Ren Zhengfei and Xiaomi founder Lei Jun?") == [
        "How old are Huawei founder Ren Zhengfei?", "How old are Xiaomi founder Lei Jun?"]
    assert split_question("What did Tony Blair and Gordon Brown say about the election?") == [
        "What did Tony Blair say about the election?", "What did Gordon Brown say about the election?"]
    for together in ("What is the name of the system Taran Rampersad and Dan Lane are building?",  # one thing
                     "How many people work at Marks and Spencer?", "What happened between Manchester United and Arsenal?"):
        assert split_question(together) == [together]
