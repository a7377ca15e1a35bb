"""Whether a refit ships: `python eval/compare_fits.py SHIPPED.jsonl REFIT.jsonl --tests SHIPPED.xml REFIT.xml`.

The rule was fixed before the refit on dev 6,235 was run (twenty-ninth session), after three refits in a row were
stopped by one sample question each. A refit ships when both hold, each measured against the shipped fit on the
same day:

1. **The sample tests.** Regressions (tests the shipped fit passes and the refit fails) are no more than fixes
   (strict xfails of the shipped fit that the refit passes). The regressions then become strict xfails, measured
   misses, and the fixes plain tests.
2. **The fresh questions.** Each question scores +1 answered right, -1 answered wrong or a trap answered, 0 refused
   (dev's criterion). The refit's total is not below the shipped fit's by more than one standard error of the
   paired difference.

The answers files are `newsdesk eval --answers` output over the same questions (the fresh sets, one index); the test
files are `pytest --junitxml` reports of the full tests. The frozen set decides nothing.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def score(row: dict) -> int:
    """+1 right, -1 wrong or a trap answered, 0 refused. A row of a question the articles do not answer (no gold
    article: `Question.answerable`) has no keywords to find, so `newsdesk eval` writes `keywords_found` null."""
    if row["abstained"]:
        return 0
    return 1 if row["keywords_found"] else -1


def paired(shipped: list[dict], refit: list[dict]) -> tuple[int, float]:
    """(the refit's total minus the shipped fit's, the standard error of that sum) over the same questions."""
    before = {r["id"]: score(r) for r in shipped}
    after = {r["id"]: score(r) for r in refit}
    if set(before) != set(after):
        raise ValueError(f"the two answer files hold different questions ({len(set(before) ^ set(after))} differ); "
                         "run both fits over the same question file")
    diffs = [after[q] - before[q] for q in before]
    n = len(diffs)
    mean = sum(diffs) / n
    variance = sum((d - mean) ** 2 for d in diffs) / max(n - 1, 1)
    return sum(diffs), math.sqrt(n * variance)


def outcomes(junit: str | Path) -> dict[str, str]:
    """Each test's outcome in a pytest junit report: passed, failed, xfailed, xpassed-strict or skipped."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            message = failure.get("message") or ""
            out[name] = "xpassed-strict" if "XPASS(strict)" in message else "failed"
        elif skipped is not None:
            out[name] = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        else:
            out[name] = "passed"
    return out


def flips(shipped: dict[str, str], refit: dict[str, str]) -> tuple[list[str], list[str]]:
    """(regressions: passed before, failed now; fixes: a strict xfail before, passing now)."""
    regressions = sorted(t for t, o in shipped.items() if o == "passed" and refit.get(t) == "failed")
    fixes = sorted(t for t, o in shipped.items() if o == "xfailed" and refit.get(t) == "xpassed-strict")
    return regressions, fixes


def verdict(regressions: list[str], fixes: list[str], difference: int, error: float) -> tuple[bool, list[str]]:
    """Whether the refit ships, and why."""
    reasons = []
    if len(regressions) > len(fixes):
        reasons.append(f"{len(regressions)} sample tests regress against {len(fixes)} fixed")
    if difference < -error:
        reasons.append(f"fresh criterion {difference:+d}, below minus one standard error ({error:.1f})")
    return not reasons, reasons


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("shipped", help="the shipped fit's answers on the fresh questions (newsdesk eval --answers)")
    p.add_argument("refit", help="the refit's answers on the same questions")
    p.add_argument("--tests", nargs=2, metavar=("SHIPPED_XML", "REFIT_XML"), required=True,
                   help="pytest --junitxml reports of the full tests under each fit")
    args = p.parse_args(argv)
    rows = [[json.loads(line) for line in Path(f).read_text().splitlines() if line.strip()]
            for f in (args.shipped, args.refit)]
    difference, error = paired(*rows)
    regressions, fixes = flips(outcomes(args.tests[0]), outcomes(args.tests[1]))
    ships, reasons = verdict(regressions, fixes, difference, error)
    print(f"fresh criterion: {sum(map(score, rows[0]))} -> {sum(map(score, rows[1]))} "
          f"(difference {difference:+d}, one standard error {error:.1f}, {len(rows[0])} questions)")
    for label, tests in (("regressions", regressions), ("fixes", fixes)):
        print(f"{label} ({len(tests)}):", *tests, sep="\n  ")
    print("SHIPS" if ships else "DOES NOT SHIP: " + "; ".join(reasons))
    return 0 if ships else 1


if __name__ == "__main__":
    sys.exit(main())
