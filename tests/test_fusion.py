"""How retrieval fuses its two lists (retrieve/hybrid.fuse, with the fitted values of fusion.json) and the fitting
script's pure choices (eval/fit_fusion.py)."""
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.retrieve.hybrid import FUSION, RetrievalConfig, fuse, stories

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
import fit_fusion as fit  # noqa: E402


def test_the_retriever_fuses_with_the_fitted_values():
    fitted = json.loads(FUSION.read_text(encoding="utf-8"))
    cfg = RetrievalConfig()
    assert (cfg.rrf_k, cfg.dense_weight, cfg.speaker_boost) == \
        (fitted["rrf_k"], fitted["dense_weight"], fitted["speaker_boost"])
    assert fitted["out_of_fold"]["hit"] >= fitted["hand_set_before"]["hit"]  # the fit is measured, not assumed


def test_an_id_in_both_lists_beats_one_in_a_single_list_and_the_weights_tip_a_tie():
    cfg = replace(RetrievalConfig(), rrf_k=5, dense_weight=0.5, speaker_boost=0.0)
    scores = fuse(["a", "b"], ["c", "b"], set(), cfg)
    assert max(scores, key=scores.get) == "b"
    assert scores["c"] > scores["a"]  # both first in their list: the keyword list weighs more here
    heavier = fuse(["a", "b"], ["c", "b"], set(), replace(cfg, dense_weight=2.0))
    assert heavier["a"] > heavier["c"]


def test_the_speaker_bonus_lifts_only_the_boosted_ids_and_none_when_it_is_zero():
    cfg = replace(RetrievalConfig(), rrf_k=5, dense_weight=1.0, speaker_boost=0.5)
    plain = fuse(["a", "b", "c"], [], set(), cfg)
    lifted = fuse(["a", "b", "c"], [], {"c", "z"}, cfg)  # "z" was retrieved by neither list: it gains nothing
    assert lifted["c"] > plain["c"] and lifted["a"] == plain["a"] and "z" not in lifted
    assert fuse(["a", "b", "c"], [], {"c"}, replace(cfg, speaker_boost=0.0)) == plain


def test_a_gold_passage_is_placed_among_the_passages_as_the_retriever_gives_them():
    cfg = replace(RetrievalConfig(), rrf_k=5, dense_weight=1.0, speaker_boost=0.0)
    q = dict(dense=["a", "a2", "b", "g"], keyword=["a", "a2", "b", "g"], boosted=set(), gold={"g"},
             story={"a": ("d1", "s1"), "a2": ("d2", "s1"), "b": ("d3", "s3"), "g": ("d4", "s4")})
    assert fit.first_gold(q, cfg, top_k=6) == 2  # "a2" is another copy of "a"'s story: it takes no place
    assert fit.first_gold(q, cfg, top_k=2) is None
    assert fit.first_gold(q, replace(cfg, candidates=3), top_k=6) is None  # below the lists' depth


def test_each_chunk_has_its_article_and_story_and_a_chunk_without_an_article_falls_away():
    from types import SimpleNamespace as NS

    rows = {"a1": NS(doc_id="d1"), "a2": NS(doc_id="d2"), "x": NS(doc_id="gone")}
    articles = {"d1": NS(dup_key="s1"), "d2": NS(dup_key="s1")}  # d2 is d1's story published again
    assert stories(rows, articles) == {"a1": ("d1", "s1"), "a2": ("d2", "s1")}


def test_the_grid_point_with_the_most_hits_is_chosen_and_mrr_breaks_a_tie():
    table = {(60, 1.0, 0.5): np.array([[1, 1.0], [1, 0.5], [0, 0.0]]),
             (5, 0.6, 0.0): np.array([[1, 0.5], [1, 0.5], [1, 0.2]]),
             (5, 0.7, 0.0): np.array([[1, 1.0], [1, 0.5], [1, 0.2]])}
    assert fit.best(table, np.arange(3)) == (5, 0.7, 0.0)
    assert fit.best(table, np.array([0, 1])) == (60, 1.0, 0.5)  # on the first two, a tie in hits: MRR decides
