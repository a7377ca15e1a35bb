"""The fitted grounding check: does a passage carry a claim an LLM cited it for? (real embedding model)"""
import json

import pytest

from assistant.answering.grounding import FEATURES, MODEL, Grounding

PASSAGE = ("Harwick Mills will cut 85 jobs at its Dunmore plant, the company said on Monday. The union said it would "
           "fight the cuts and called a meeting for Thursday. The plant opened in 1962 and makes paper for printers.")


@pytest.mark.parametrize("claim", [
    "Harwick Mills will cut 85 jobs at its Dunmore plant.",
    "The company said on Monday that 85 jobs will go at the Dunmore plant.",  # reworded
    "The union plans to fight the job cuts.",
    "The Dunmore plant, which opened in 1962, makes printer paper.",  # two facts of one sentence, reordered
])
def test_a_claim_the_passage_says_holds(grounding, claim):
    assert grounding.holds(claim, PASSAGE)


@pytest.mark.parametrize("claim", [
    "He said that the company is now.",  # a fragment, as a small model made to cite writes one
    "The plant makes paper for printers because the union called a meeting about wages and pensions in the town.",
    "Harwick Mills says the cuts follow a fall in orders from Asian customers and rising energy prices.",
])
def test_a_claim_that_adds_what_the_passage_does_not_say_fails(grounding, claim):
    assert not grounding.holds(claim, PASSAGE)


@pytest.mark.xfail(strict=True, reason="measured gap: a fluent claim made only of the passage's own words and facts, "
                                       "recombined into something it does not say, still holds (eval/claims/"
                                       "written.jsonl: 343 of its 450 unsupported claims pass)")
def test_a_recombination_of_the_passages_own_words_fails(grounding):
    assert not grounding.holds("The union said the plant would not be able to cut any jobs, as the union opened it "
                               "in 1962.", PASSAGE)


def test_passages_and_claims_are_embedded_once(embedder):
    calls = []
    grounding = Grounding(lambda texts: calls.append(list(texts)) or embedder.embed(texts))
    grounding.probability("Harwick Mills will cut 85 jobs.", PASSAGE)
    grounding.probability("The plant opened in 1962.", PASSAGE)
    assert [len(c) for c in calls] == [3, 1, 1]  # the passage's three sentences once, then each claim
    grounding.probability("Harwick Mills will cut 85 jobs.", "The union met. It voted to strike.")
    assert [len(c) for c in calls] == [3, 1, 1, 2]  # a claim checked against another passage is not embedded again


def test_a_model_fitted_on_other_features_says_how_to_refit(embedder, tmp_path):
    fitted = json.loads(MODEL.read_text(encoding="utf-8"))
    fitted["names"] = [*FEATURES[:-1], "something_else"]
    stale = tmp_path / "grounding.json"
    stale.write_text(json.dumps(fitted), encoding="utf-8")
    with pytest.raises(ValueError, match="eval/fit_grounding.py"):
        Grounding(embedder.embed, stale)
