"""`python -m bench --smoke`, run as CI runs it: a subprocess that must print the tables and write the JSON."""
import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED

pytestmark = pytest.mark.skipif(not (SHARED / "corpora" / "bbc").is_dir(), reason="needs ../shared/corpora/bbc")


def test_smoke_benchmark_prints_the_tables_and_writes_json(tmp_path):
    out, png = tmp_path / "smoke.json", tmp_path / "scale.png"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--png", str(png), "--work", str(tmp_path / "w")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]

    table = proc.stdout
    for expected in ("newsdesk", "plain llama-index", "ours/plain", "first ingest wall, s", "word pieces embedded/s",
                     "re-ingest, 10 edited + 10 new, s", "retrieval p95, ms", "full answer (extractive) p95, ms",
                     "`newsdesk --help`", "first `newsdesk ask` from a new process", "hybrid retrieval p95 at 2,000",
                     "insert/s"):
        assert expected in table, f"{expected!r} missing from:\n{table}"

    result = json.loads(out.read_text())
    ours, plain, scale = result["ours"], result["plain"], result["scale"]
    assert ours["first_ingest"]["added"] == result["meta"]["articles"] == plain["ingest"]["articles"] >= 25
    assert ours["first_ingest"]["tokens"] > 0 and plain["ingest"]["tokens"] > 0
    assert ours["reingest_unchanged"]["added"] == ours["reingest_unchanged"]["updated"] == 0
    assert ours["reingest_changed"]["updated"] == 10 and ours["reingest_changed"]["added"] == 10
    assert ours["retrieve"]["n"] == ours["ask"]["n"] == plain["retrieve"]["n"] == result["meta"]["questions"] == 10
    assert ours["cold_help"]["ok"] and ours["cold_ask"]["ok"], ours["cold_ask"]["errors"]
    assert plain["llm"] == "MockLLM"  # nothing online: no OpenAI LLM, and the embedding model is the local one
    assert scale["sizes"][0]["size"] == 2000 and scale["sizes"][0]["retrieve"]["n"] == 10
    assert {t["target"] for t in result["targets"]} >= {"first ingest wall", "retrieval p95 (warm)"}
    assert all(r["ours"] is not None for r in result["rows"])
    assert png.stat().st_size > 0
