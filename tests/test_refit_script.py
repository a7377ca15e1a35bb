"""eval/refit.sh's guards: it says how to call it, and what to run first, before it touches anything (its fits and
measurements themselves take hours: docs/quality.md reports each run of them)."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "eval" / "refit.sh"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def test_it_says_how_to_call_it_and_makes_nothing(tmp_path):
    for args in ((), ("fit",), ("again", str(tmp_path / "work"))):
        done = run(*args)
        assert done.returncode == 2 and "usage: bash eval/refit.sh fit|measure DIR" in done.stderr
    assert not (tmp_path / "work").exists()


def test_measure_before_a_finished_fit_says_to_fit_first(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    done = run("measure", str(tmp_path / "work"), env={"PATH": "/usr/bin:/bin", "SHARED": str(shared)})
    assert done.returncode == 1 and "run 'bash eval/refit.sh fit" in done.stderr
    assert not (tmp_path / "work" / "shipped").exists()  # no worktree made


def test_a_missing_corpus_folder_is_named(tmp_path):
    done = run("fit", str(tmp_path / "work"), env={"PATH": "/usr/bin:/bin", "SHARED": str(tmp_path / "nowhere")})
    assert done.returncode == 1 and "set SHARED to the folder that holds corpora/bbc and seeds" in done.stderr
    assert not (tmp_path / "work" / "refit").exists()
