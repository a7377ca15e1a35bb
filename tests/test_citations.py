from assistant.answering.citations import (NOT_FOUND, build_citations, drop_unsupported, is_refusal, markers,
                                           renumber, support)
from assistant.types import Passage


def P(text, n):
    return Passage(doc_id=f"d{n}", title=f"T{n}", source=f"/s{n}.txt", text=text, score=1.0)


def test_markers_in_order():
    assert markers("a [2] b [1, 3] c [2]") == [2, 1, 3, 2]


def test_renumber_by_first_use_and_drop_invented_numbers():
    text, order = renumber("Fares fall [3]. Buses arrive [1][7]. Again [3].", count=4)
    assert text == "Fares fall [1]. Buses arrive [2]. Again [1]."
    assert order == [2, 0]


def test_build_citations_points_to_the_right_passages_with_supporting_sentences():
    ps = [P("The vote was 7-2. Fares drop to $2 in July.", 1), P("Buses: 40 new electric ones arrive.", 2)]
    text, order = renumber("Fares drop to $2 [2]. There will be 40 electric buses [1].", len(ps))
    cites = build_citations(text, [ps[1], ps[0]], order)
    assert [c.number for c in cites] == [1, 2]
    assert cites[0].doc_id == "d1" and cites[0].quote == ps[0].text
    assert cites[0].sentences == ("Fares drop to $2 in July.",)


def test_unsupported_citations_are_dropped():
    ps = [P("The harbour strike ended after nine days.", 1), P("Wheat prices rose.", 2)]
    text, warnings = drop_unsupported("The strike ended after nine days [1][2].", ps)
    assert text == "The strike ended after nine days [1]."
    assert len(warnings) == 1 and "[2]" in warnings[0]
    assert support("admin password is hunter2", ps[0].text) < 0.35


def test_refusal_phrase():
    assert is_refusal(NOT_FOUND) and is_refusal("Sorry, that is not in the articles.")
    assert not is_refusal("The vote was 7-2 [1].")
