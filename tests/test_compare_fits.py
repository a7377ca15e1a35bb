"""The rule a refit ships by: sample tests' flips counted both ways, and the fresh questions' criterion within one
standard error, on reports made by a real pytest run."""
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("compare_fits",
                                               Path(__file__).resolve().parent.parent / "eval" / "compare_fits.py")
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)


def row(qid, kind="factoid", right=True, refused=False):
    """A line as `newsdesk eval --answers` writes it: no keywords to find for a trap (null or off-topic)."""
    return {"id": qid, "type": kind, "keywords_found": None if kind in ("null", "offtopic") else right,
            "abstained": refused}


def test_a_question_scores_one_right_minus_one_wrong_or_trap_answered_and_nothing_refused():
    assert [compare.score(r) for r in (row("a"), row("b", right=False), row("c", refused=True),
                                       row("d", "null", right=False), row("e", "offtopic", refused=True))] == \
        [1, -1, 0, -1, 0]


def test_the_difference_is_paired_by_question_with_its_standard_error():
    shipped = [row("a"), row("b", refused=True), row("c", "null", right=False), row("d")]
    refit = [row("a"), row("b"), row("c", "null", refused=True), row("d", right=False)]
    difference, error = compare.paired(shipped, refit)
    diffs = [0, 1, 1, -2]  # per question: unchanged, refused -> right, trap answered -> refused, right -> wrong
    mean = sum(diffs) / 4
    assert difference == 0
    assert error == pytest.approx(math.sqrt(4 * sum((d - mean) ** 2 for d in diffs) / 3))
    with pytest.raises(ValueError, match="same question file"):
        compare.paired(shipped, refit[:3])


def junit(tmp_path, name, body):
    """A real pytest run of `body`, reported as junit XML."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "test_sample.py").write_text("import pytest\n" + body)
    report = folder / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    str(folder / "test_sample.py")], check=False, capture_output=True, cwd=folder)
    return report


STRICT = "@pytest.mark.xfail(strict=True, reason='a measured miss')\n"


def test_flips_are_counted_both_ways_from_pytest_reports(tmp_path):
    shipped = junit(tmp_path, "shipped", "def test_age(): pass\n" + STRICT + "def test_story(): assert False\n"
                    + "def test_broken(): assert False\n")
    refit = junit(tmp_path, "refit", "def test_age(): assert False\n" + STRICT + "def test_story(): pass\n"
                  + "def test_broken(): assert False\n")
    before, after = compare.outcomes(shipped), compare.outcomes(refit)
    assert before == {"test_sample::test_age": "passed", "test_sample::test_story": "xfailed",
                      "test_sample::test_broken": "failed"}
    assert after["test_sample::test_story"] == "xpassed-strict"
    assert compare.flips(before, after) == (["test_sample::test_age"], ["test_sample::test_story"])


def test_a_refit_ships_only_if_it_fixes_as_many_tests_as_it_breaks_and_holds_the_fresh_criterion():
    assert compare.verdict(["a"], ["b"], -3, 4.0) == (True, [])
    ships, reasons = compare.verdict(["a", "c"], ["b"], 5, 4.0)
    assert not ships and "2 sample tests regress against 1 fixed" in reasons[0]
    ships, reasons = compare.verdict([], [], -5, 4.0)
    assert not ships and "below minus one standard error" in reasons[0]


def test_the_command_prints_the_verdict_and_fails_when_the_refit_does_not_ship(tmp_path, capsys):
    same = junit(tmp_path, "same", "def test_age(): pass\n")
    shipped, refit = tmp_path / "shipped.jsonl", tmp_path / "refit.jsonl"
    shipped.write_text("\n".join(json.dumps(row(f"q{i}")) for i in range(20)))
    refit.write_text("\n".join(json.dumps(row(f"q{i}", right=i < 10)) for i in range(20)))
    assert compare.main([str(shipped), str(refit), "--tests", str(same), str(same)]) == 1
    out = capsys.readouterr().out
    assert "fresh criterion: 20 -> 0 (difference -20" in out and "DOES NOT SHIP" in out
    assert compare.main([str(shipped), str(shipped), "--tests", str(same), str(same)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("SHIPS")
