"""Settings from the environment: a wrong value is one line that names the variable and the fix, in the CLI and app.py
(run as a user runs them, in subprocesses with real environment variables)."""
import os
import subprocess
import sys

import pytest

from .conftest import ROOT

ENTRY_POINTS = {"newsdesk status": ["-m", "assistant.cli", "status"], "app.py": ["app.py", "--no-samples"]}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("variable, value, message", [
    ("NEWSDESK_TOP_K", "abc", "NEWSDESK_TOP_K=abc is not valid (passages handed to the answerer): input should be a "
     "valid integer, unable to parse string as an integer. Set it to a whole number from 1 to 50, or unset it for "
     "the default (6)."),
    ("NEWSDESK_TOP_K", "0", "NEWSDESK_TOP_K=0 is not valid (passages handed to the answerer): input should be "
     "greater than or equal to 1. Set it to a whole number from 1 to 50, or unset it for the default (6)."),
    ("NEWSDESK_BACKEND", "gpt", "NEWSDESK_BACKEND=gpt is not valid: input should be 'auto', 'extractive', 'openai' "
     "or 'llama-index'. Set it to one of auto, extractive, openai, llama-index, or unset it for the default (auto)."),
    ("NEWSDESK_MAX_FILE_MB", "-1", "NEWSDESK_MAX_FILE_MB=-1 is not valid (files larger than this are skipped with a "
     "reason): input should be greater than 0. Set it to a number above 0, or unset it for the default (20)."),
    ("NEWSDESK_INSECURE_PUBLIC", "maybe", "NEWSDESK_INSECURE_PUBLIC=maybe is not valid (allow listening beyond "
     "127.0.0.1 without a password): input should be a valid boolean, unable to interpret input. Set it to true or "
     "false (1 or 0), or unset it for the default (false)."),
])
def test_a_wrong_setting_is_one_line_naming_it_and_the_fix(tmp_path, entry, variable, value, message):
    home = tmp_path / "idx"
    out = subprocess.run([sys.executable, *ENTRY_POINTS[entry]], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "NEWSDESK_HOME": str(home), variable: value})
    assert (out.returncode, out.stderr) == (1, f"newsdesk: {message}\n")
    assert not home.exists()  # refused before anything was opened


def test_a_wrong_llm_args_setting_never_echoes_its_key(tmp_path):
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "status"], capture_output=True, text=True, cwd=ROOT,
                         timeout=120, env={**os.environ, "NEWSDESK_HOME": str(tmp_path / "idx"),
                                           "NEWSDESK_LLAMA_INDEX_LLM_ARGS": '{"api_key": "sk-very-secret", bad'})
    assert out.returncode == 1 and "NEWSDESK_LLAMA_INDEX_LLM_ARGS is not valid" in out.stderr
    assert "sk-very-secret" not in out.stderr and len(out.stderr.splitlines()) == 1


def test_redact_url_hides_credentials():
    from assistant.settings import redact_url

    assert redact_url("https://user:secret@llm.example:8443/v1?key=abc") == "https://llm.example:8443/v1"
    assert redact_url(None) == ""


def test_scrub_hides_the_key_and_the_credentials_of_the_base_url():
    from assistant.settings import Settings

    settings = Settings(openai_api_key="sk-very-secret", openai_base_url="https://me:pw@llm.example/v1")
    message = settings.scrub("Cannot reach https://me:pw@llm.example/v1 with key sk-very-secret.")
    assert message == "Cannot reach https://llm.example/v1 with key •••."
