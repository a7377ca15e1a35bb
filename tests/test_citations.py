import pytest

from assistant.answering.citations import build_citations, defuse_markers, markers, renumber
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


@pytest.mark.parametrize("article, shown", [
    ("He was born in 1962 [2].", "He was born in 1962."),
    ("Footnotes [1, 3] and [12] go", "Footnotes and go"),
    ("A wide one【4】here", "A wide onehere"),
    ("No markers (2) here", "No markers (2) here"),
])
def test_an_articles_own_bracketed_numbers_are_not_citations(article, shown):
    assert defuse_markers(article) == shown
