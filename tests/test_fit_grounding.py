"""The grounding fit's pure parts: folds grouped by question, and what a threshold keeps."""
import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location("fit_grounding",
                                               Path(__file__).resolve().parent.parent / "eval" / "fit_grounding.py")
fit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit)


def test_a_questions_claims_are_scored_by_a_model_that_never_saw_them():
    # Each question's claims carry one feature value the others lack, labelled the opposite way to everything else:
    # a model that saw them in training would score them high; one that did not, low.
    groups = [f"q{i // 4}" for i in range(80)]
    X = np.array([[i // 4 == 3] for i in range(80)], dtype=float)
    y = np.array([i // 4 == 3 or i % 2 == 0 for i in range(80)])
    p = fit.out_of_fold(X, np.ones(80, bool), y, groups, seed=7)
    assert (p[12:16] < 0.9).all()  # never saw feature value 1 with label True


def test_what_a_threshold_keeps_counts_only_claims_the_rules_keep():
    p = np.array([0.9, 0.9, 0.2, 0.9])
    kept = np.array([True, True, True, False])
    y = np.array([True, False, True, True])
    assert fit.counts(p, kept, y, 0.5) == {"supported_kept": 1, "of_supported": 3, "unsupported_kept": 1,
                                           "of_unsupported": 1}
