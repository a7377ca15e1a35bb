#!/usr/bin/env bash
# Refit the offline answerer on dev, then measure the refit against the shipped fit by the shipping rule.
#
#   bash eval/refit.sh fit DIR       # about 3 hours on two cores for dev 6,635
#   bash eval/refit.sh measure DIR   # about 40 minutes: the rule's verdict (eval/compare_fits.py); exit status 0
#                                    # when the refit ships by it, 1 when it does not
#
# fit: a worktree of HEAD in DIR/refit (detached; the checkout is not touched), dev evaluated over an index built
#   anew in DIR/idx (which the fits read), then retrieval's fusion, the reader, and the scorer and gates refitted in
#   that worktree (eval/fit_fusion.py, fit_reader.py, fit_extractive.py; their logs in DIR).
# measure: a worktree of the same commit in DIR/shipped, then for each fit: every test (junit in DIR), eval/fresh's
#   questions over one index with every article (answers in DIR), and the stored LLM replies replayed through its
#   check (eval/llm_replay.py over DIR/idx); last, eval/compare_fits.py -> DIR/verdict.txt.
#
# DIR/shared links to the corpora (SHARED, by default ../shared beside the checkout), so the tests that need them run
# in the worktrees too. To ship a refit that the rule passes, copy its three fitted files into the checkout:
#   assistant/retrieve/fusion.json, assistant/answering/extractive/model.json and reader.safetensors
# and mark the sample tests it breaks as strict xfails (measured misses), as compare_fits says.
set -euo pipefail

usage() { echo "usage: bash eval/refit.sh fit|measure DIR (see the comment at the top of eval/refit.sh)" >&2; exit 2; }
[ $# -eq 2 ] && [[ $1 == fit || $1 == measure ]] || usage  # before anything is made
STEP=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
SHARED=$(cd "${SHARED:-$ROOT/../shared}" 2>/dev/null && pwd) ||
    { echo "no corpora at ${SHARED:-$ROOT/../shared}: set SHARED to the folder that holds corpora/bbc and seeds" >&2
      exit 1; }
ln -sfn "$SHARED" "$DIR/shared"

say() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$DIR/refit.log"; }

in_tree() {  # in_tree TREE COMMAND...: run with TREE's code
    (cd "$1" && shift && PYTHONPATH="$PWD" "$@")
}

case $STEP in
fit)
    [ -e "$DIR/refit" ] && { echo "$DIR/refit exists: measure it, or pick another DIR" >&2; exit 1; }
    git -C "$ROOT" worktree add --detach "$DIR/refit" HEAD
    T=$DIR/refit
    say "dev over a new index (the fits read it)"
    in_tree "$T" "$PY" -m assistant.cli eval eval/dev.jsonl --corpus "$SHARED/corpora/bbc" "$SHARED/seeds" \
        eval/fictional --keep-index "$DIR/idx" --no-baseline > "$DIR/dev-shipped.txt" 2>&1
    say "fusion"
    in_tree "$T" "$PY" eval/fit_fusion.py eval/dev.jsonl --index "$DIR/idx/newsdesk" > "$DIR/fusion.log" 2>&1
    say "reader"
    in_tree "$T" "$PY" eval/fit_reader.py eval/dev.jsonl --index "$DIR/idx/newsdesk" > "$DIR/reader.log" 2>&1
    say "scorer and gates"
    in_tree "$T" "$PY" eval/fit_extractive.py eval/dev.jsonl --index "$DIR/idx/newsdesk" > "$DIR/extractive.log" 2>&1
    say "fitted: $(git -C "$T" status --short | tr '\n' ' ')"
    ;;
measure)
    T=$DIR/refit
    [ -f "$DIR/extractive.log" ] && grep -q "^wrote" "$DIR/extractive.log" ||
        { echo "no finished refit in $DIR: run 'bash eval/refit.sh fit $DIR' first" >&2; exit 1; }
    [ -e "$DIR/shipped" ] || git -C "$ROOT" worktree add --detach "$DIR/shipped" "$(git -C "$T" rev-parse HEAD)"
    for fit in shipped refit; do
        W=$DIR/$fit
        say "$fit: the reader's ONNX copy, then every test"
        in_tree "$W" "$PY" -c "from assistant.answering.extractive.reader import Reader; Reader().prepare()"
        in_tree "$W" "$PY" -m pytest -q -p no:cacheprovider tests --junitxml "$DIR/tests-$fit.xml" \
            > "$DIR/tests-$fit.txt" 2>&1 || true  # failures are what compare_fits counts
        say "$fit: eval/fresh"
        in_tree "$W" "$PY" -m assistant.cli eval "$ROOT/eval/fresh/questions.jsonl" --corpus "$SHARED/corpora/bbc" \
            "$SHARED/seeds" eval/fictional "$ROOT/eval/fresh/fictional" --keep-index "$DIR/fresh-idx" \
            --no-baseline --answers "$DIR/fresh-$fit.jsonl" > "$DIR/fresh-$fit.txt" 2>&1
        say "$fit: the stored LLM replies"
        for replies in "$ROOT"/eval/claims/replies/*.jsonl; do
            echo "== $(basename "$replies" .jsonl)"
            in_tree "$W" "$PY" eval/llm_replay.py eval/dev.jsonl "$replies" --index "$DIR/idx/newsdesk" 2>&1 | tail -4
        done > "$DIR/replay-$fit.txt"
    done
    in_tree "$T" "$PY" eval/compare_fits.py "$DIR/fresh-shipped.jsonl" "$DIR/fresh-refit.jsonl" \
        --tests "$DIR/tests-shipped.xml" "$DIR/tests-refit.xml" | tee "$DIR/verdict.txt"
    ;;
esac
