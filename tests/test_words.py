"""The one text toolkit: stop words, stemmer, sentence splitter."""
import pytest

from assistant.text.sentences import split_sentences
from assistant.text.words import content_stems, content_words, content_words_in_order, stem, without_possessive


def test_content_words_leave_out_stop_words_and_keep_order():
    assert content_words_in_order("The mayor said the fares would rise.") == ["mayor", "fares", "rise"]
    assert content_words("It is what it is.") == set()


def test_one_stemmer_for_every_form():
    assert stem("elections") == stem("election") == "elect"
    assert content_stems("Prices arrived") == {stem("price"), stem("arrive")}


def test_irregular_forms_meet_their_dictionary_form():
    # what a paraphrased question and its answer often differ by: "what did she write" / "she wrote"
    assert stem("wrote") == stem("written") == stem("writes") == stem("write")
    assert stem("paid") == stem("pay") and stem("children") == stem("child") and stem("sold") == stem("sell")
    assert stem("Spoke") == stem("speak") and stem("rose") == stem("rise")
    assert stem("news") != stem("new")  # only a word's own forms: no two words merged by their spelling


def test_sentences_end_at_stops_but_not_after_titles():
    text = "Dr. Smith arrived. She spoke first.\nA new line"
    assert [text[s:e] for s, e in split_sentences(text)] == ["Dr. Smith arrived.", "She spoke first.", "A new line"]


@pytest.mark.parametrize("doer, doing", [("founder", "founded"), ("co-founders", "co-founded"), ("manager", "managed"),
                                         ("investors", "invest"), ("rider", "rode"), ("user", "uses")])
def test_one_who_does_something_shares_the_stem_of_doing_it(doer, doing):
    assert [stem(w) for w in doer.split("-")] == [stem(w) for w in doing.split("-")]


@pytest.mark.parametrize("word, other", [("former", "formed"), ("number", "numb"), ("door", "do")])
def test_an_adjective_or_a_short_word_keeps_its_own_stem(word, other):
    assert stem(word) != stem(other)


@pytest.mark.parametrize("word, bare", [("Lei's", "Lei"), ("Rovers'", "Rovers"), ("Lei’s", "Lei"),
                                        ("O'Neill", "O'Neill"), ("O'Neill's", "O'Neill"), ("2,000", "2,000")])
def test_a_possessive_ending_comes_off_and_nothing_else(word, bare):
    assert without_possessive(word) == bare
