"""The fitting script's choices that are pure: the gates' operating point, the keep ratio, and the answer gate's
trees as stored."""
import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location("fit_extractive",
                                               Path(__file__).resolve().parent.parent / "eval" / "fit_extractive.py")
fit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit)


def test_the_gates_refuse_at_most_the_bound_of_answerable_questions():
    rng = np.random.default_rng(0)
    answerable = np.r_[np.ones(100, bool), np.zeros(40, bool)]
    offtopic = np.r_[np.zeros(120, bool), np.ones(20, bool)]
    topic, gate = rng.random(140), rng.random(140)
    nothing = np.zeros(140, bool)
    topic_at, answer_at = fit.thresholds(topic, gate, answerable, offtopic, nothing)
    refused = (topic < topic_at) | (gate < answer_at)
    assert refused[answerable].mean() <= fit.FALSE_REFUSALS
    empty = np.r_[np.ones(3, bool), np.zeros(137, bool)]  # three answerable ones refused before the gates ...
    topic_at, answer_at = fit.thresholds(topic, gate, answerable, offtopic, empty)
    refused_too = (topic < topic_at) | (gate < answer_at)
    assert (refused_too | empty)[answerable].mean() <= fit.FALSE_REFUSALS  # ... count within the bound
    assert refused_too[answerable].sum() < refused[answerable].sum()


def test_off_topic_and_near_topic_questions_count_by_their_rates_not_their_numbers():
    # 100 answerable, 10 off-topic, 40 near-topic questions. The bound (5 answerable questions) buys one of two things:
    # the topic gate refusing all 10 off-topic ones (5 answerable ones score as low), or the answer gate refusing 30
    # near-topic ones (5 other answerable ones score as low). Counted one by one, the 30 would win; by rate, all of
    # one kind (1.0) beats three quarters of the other (0.75), whatever the mix dev happens to hold.
    answerable = np.r_[np.ones(100, bool), np.zeros(50, bool)]
    offtopic = np.r_[np.zeros(140, bool), np.ones(10, bool)]
    topic = np.r_[np.full(5, 0.05), np.full(95, 0.8), np.full(40, 0.8), np.full(10, 0.1)]
    gate = np.r_[np.full(5, 0.8), np.full(5, 0.2), np.full(90, 0.8), np.full(30, 0.25), np.full(10, 0.8),
                 np.full(10, 0.8)]
    topic_at, answer_at = fit.thresholds(topic, gate, answerable, offtopic, np.zeros(150, bool))
    refused = (topic < topic_at) | (gate < answer_at)
    assert refused[offtopic].all() and not refused[100:140].any()
    assert refused[answerable].mean() <= fit.FALSE_REFUSALS


def test_the_operating_point_is_the_lowest_topic_line_within_one_standard_error_of_the_best():
    # 100 answerable, 20 off-topic and 40 near-topic questions; the bound (5 answerable ones) buys either the topic
    # gate refusing 19 off-topic ones (0.95, with 5 answerable ones that score as low) or the answer gate refusing 37
    # near-topic ones (0.925, with 5 others). Half of 0.95 is the best, half of 0.925 within its standard error
    # (about 0.024): the lower topic line is taken. With a hundred times the questions the error is a tenth, and the
    # best is taken.
    answerable = np.r_[np.ones(100, bool), np.zeros(60, bool)]
    offtopic = np.r_[np.zeros(100, bool), np.ones(20, bool), np.zeros(40, bool)]
    topic = np.r_[np.full(5, 0.05), np.full(95, 0.8), np.full(19, 0.1), 0.9, np.full(40, 0.8)]
    gate = np.r_[np.full(5, 0.8), np.full(5, 0.2), np.full(90, 0.8), np.full(20, 0.8), np.full(37, 0.25),
                 np.full(3, 0.8)]
    nothing = np.zeros(160, bool)
    topic_at, answer_at = fit.thresholds(topic, gate, answerable, offtopic, nothing)
    refused = (topic < topic_at) | (gate < answer_at)
    assert refused[120:].sum() == 37 and not refused[100:120].any()
    assert refused[answerable].mean() <= fit.FALSE_REFUSALS
    many = [np.tile(a, 100) for a in (topic, gate, answerable, offtopic, nothing)]
    topic_at, answer_at = fit.thresholds(*many)
    refused = (many[0] < topic_at) | (many[1] < answer_at)
    assert refused[many[3]].mean() == 0.95 and not refused[many[2]].mean() > fit.FALSE_REFUSALS
    # the same questions pooled from a hundred fold seeds are still 160 questions: the lower line again
    assert fit.thresholds(*many, copies=100) == fit.thresholds(topic, gate, answerable, offtopic, nothing)


def test_the_keep_ratio_is_the_strictest_within_one_standard_error_of_the_best():
    # 400 labelled questions: one standard error of 0.76 is about 0.021
    by_ratio = {(0.0, True): 0.76, (0.2, True): 0.75, (0.3, True): 0.74, (0.4, True): 0.70, (0.3, False): 0.6}
    assert fit.sparest(by_ratio, 400) == (0.3, True)
    assert fit.sparest(by_ratio, 100_000) == (0.0, True)  # with a tiny error, only the best


def test_the_answer_gates_trees_are_stored_as_the_answerer_reads_them():
    import json

    rng = np.random.default_rng(0)
    X = rng.random((400, 3))
    y = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(int)  # one feature's sign flips with another: no weighted sum fits
    trees = json.loads(json.dumps(fit.fit_trees(X, y, ("a", "b", "c"))))  # raises if scorer.Trees reads them wrong
    assert ((fit.probability(trees, X) > 0.5) == y).mean() > 0.95


def test_the_topic_gate_leaves_the_question_s_kind_out():
    rng = np.random.default_rng(0)
    X = rng.random((300, 3))
    y = (X[:, 0] + X[:, 2] > 1).astype(int)  # the kind's column would tell, but the topic gate may not read it
    topic = fit.fit_topic(X, y, ("meaning", "words", "is_amount"))
    assert topic["names"] == ["meaning", "words", "is_amount"] and topic["coef"][2] == 0.0 and topic["coef"][0] > 0
    assert fit.probability(topic, X).shape == (300,)  # the answerer reads it over every gate feature


def test_the_operating_point_is_chosen_over_several_fold_seeds_at_once():
    rng = np.random.default_rng(1)

    def seed_fit():
        return dict(topic_oof=rng.random(140), gate_oof=rng.random(140), target=np.r_[np.ones(100), np.zeros(40)],
                    offtopic=np.r_[np.zeros(120, bool), np.ones(20, bool)], empty=np.zeros(140, bool))

    one, two = seed_fit(), seed_fit()
    assert fit.pooled_thresholds([one, one]) == fit.thresholds(one["topic_oof"], one["gate_oof"], one["target"] == 1,
                                                               one["offtopic"], one["empty"], copies=2)
    topic_at, answer_at = fit.pooled_thresholds([one, two])
    for f in (one, two):  # the bound holds over both seeds' questions together
        f["refused"] = (f["topic_oof"] < topic_at) | (f["gate_oof"] < answer_at)
    assert np.r_[one["refused"][:100], two["refused"][:100]].mean() <= fit.FALSE_REFUSALS


def test_questions_over_invented_and_real_articles_weigh_the_same_in_the_gates():
    from types import SimpleNamespace

    ids = ["fict-1", "fict-2", "fict-3", "dev-1"]
    items = [dict(d=dict(q=SimpleNamespace(id=i))) for i in ids]
    w = fit.source_weights(items)
    assert np.isclose(w[:3].sum(), w[3:].sum()) and np.isclose(w.mean(), 1.0)
    assert fit.source_weights(items[:3]).tolist() == [1.0, 1.0, 1.0]  # one kind only: the weights change nothing
    # a weight is obeyed: trees that see only the weighty rows learn their labels
    X = np.r_[np.zeros((60, 1)), np.ones((60, 1))]
    y = np.r_[np.zeros(60), np.ones(60)]
    flipped = np.r_[y[:30], 1 - y[30:60], y[60:90], 1 - y[90:]]  # half the rows say the opposite ...
    weight = np.r_[np.ones(30), np.full(30, 1e-3), np.ones(30), np.full(30, 1e-3)]  # ... with almost no weight
    p = fit.probability(fit.fit_trees(X, flipped, ("a",), weight), np.array([[0.0], [1.0]]))
    assert p[0] < 0.2 and p[1] > 0.8
