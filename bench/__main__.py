"""`python -m bench` (this project vs plain llama-index), `python -m bench scale`, `python -m bench --smoke`.

    python -m bench                      # ../shared's BBC corpus, 200 questions; table + bench/results/latest.json
    python -m bench --corpus DIR         # your own articles (.txt .md .html .json .jsonl, nested folders)
    python -m bench --corpus DIR --questions-file q.txt   # your questions: one a line, or .jsonl as eval/dev.jsonl
    python -m bench scale                # synthetic 10k / 100k / 1M chunks; bench/results/scale.json, bench/scale.png
    python -m bench scale --sizes 10000,100000
    python -m bench --no-amx             # as on a CPU without AMX, on one with it (see bench/noamx.py)
    python -m bench --smoke              # ~30 articles, 10 questions, scale at 2,000 chunks (CI, < 60 s)

A wrong input (no corpus, an empty folder, a question file that does not parse, an output that cannot be written)
stops the bench before anything is timed, with one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from . import BENCH_DIR, DEFAULT_SHARED, OFFLINE_ENV, RESULTS_DIR, ROOT
from .inputs import InputError
from .measure import cpu_info, describe_cpu, run_timed

for _key, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _add_input_options(parser: argparse.ArgumentParser, default=None) -> None:
    """The corpus and questions, on the main command and on `scale` (there without defaults, so that
    `python -m bench --corpus DIR scale` and `python -m bench scale --corpus DIR` mean the same)."""
    parser.add_argument("--corpus", type=Path, default=default, metavar="DIR",
                        help="benchmark the articles in DIR (any format Newsdesk ingests, nested folders included); "
                             "default: the BBC corpus in --shared")
    parser.add_argument("--shared", type=Path, default=default, metavar="DIR",
                        help="folder holding corpora/bbc and seeds (default: ../shared beside this checkout)")
    parser.add_argument("--questions-file", type=Path, default=default, metavar="FILE",
                        help="time these questions instead of ones made from the corpus: a .jsonl file in the "
                             "eval's format (eval/dev.jsonl: id, question, optional gold_docs), else one per line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: ~30 articles, 10 questions, scale 2,000")
    parser.add_argument("--limit", type=_positive, help="article files to use, spread evenly (default: all; smoke: 30)")
    parser.add_argument("--questions", type=_positive,
                        help="questions to time (default 200, or all of --questions-file; smoke 10)")
    parser.add_argument("--dev-share", type=float, default=0.25, help="share of questions taken from eval/dev.jsonl")
    parser.add_argument("--skip-plain", action="store_true", help="do not run the plain llama-index pipeline")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/latest.json; smoke: smoke.json)")
    parser.add_argument("--png", type=Path, help="scale plot (smoke only; default bench/results/scale-smoke.png)")
    parser.add_argument("--work", type=Path, help="working folder (default: a temp folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (indexes, corpus copies)")
    parser.add_argument("--no-amx", action="store_true",
                        help="run as on a CPU without AMX: the kernel refuses AMX to every worker (Linux x86-64)")
    _add_input_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="{scale}")

    s = sub.add_parser("scale", help="retrieval latency and memory on a synthetic index of up to 1M chunks")
    _add_input_options(s, default=argparse.SUPPRESS)
    s.add_argument("--sizes", default=None, help="comma-separated chunk counts (default 10000,100000,1000000)")
    s.add_argument("--smoke", action="store_true", help="sizes 2000, 10 questions")
    s.add_argument("--queries", type=_positive, default=None, help="questions timed at each size (default 100)")
    s.add_argument("--max-insert-minutes", type=float, default=None,
                   help="stop growing the index after this much insert time (default 30; smoke 2)")
    s.add_argument("--recall-queries", type=_positive, default=None,
                   help="questions whose dense top 10 is checked against exact search at each size (default 200)")
    s.add_argument("--chroma-documents", action="store_true",
                   help="also store the chunk texts in Chroma, as NEWSDESK_CHROMA_DOCUMENTS=1 does (about a third of the "
                        "insert rate: embedded Chroma indexes every document for full-text search)")
    s.add_argument("--keyword-reference", type=Path, default=None,
                   help="an earlier scale JSON: report how many of its keyword top 10 this run's top 10 share, per size")
    s.add_argument("--batch", type=int, default=20_000, help="chunks per Store.commit")
    s.add_argument("--out", type=Path, help="JSON file (default bench/results/scale.json)")
    s.add_argument("--png", type=Path, help="plot (default bench/scale.png)")
    s.add_argument("--work", type=Path, help="working folder (default: a temp folder, removed afterwards)")
    s.add_argument("--keep", action="store_true")

    w = sub.add_parser("_worker", help=argparse.SUPPRESS)
    w.add_argument("which", choices=["ours", "plain", "scale", "serve", "news"])
    w.add_argument("spec", type=Path)
    w.add_argument("out", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "_worker":
        return worker(args)
    args.shared_given = args.shared is not None
    args.shared = args.shared if args.shared_given else DEFAULT_SHARED
    if getattr(args, "no_amx", False):
        from .noamx import refuse_amx

        refuse_amx()  # before anything asks for AMX; every worker inherits it
    try:
        return run_scale_command(args) if args.command == "scale" else run_main(args)
    except InputError as exc:  # the edge: a wrong input is one line that says what to pass, not a traceback
        print(f"bench: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


# -- workers ---------------------------------------------------------------------------------------------------------
def worker(args) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("chromadb", "httpx", "bm25s", "transformers", "sentence_transformers", "llama_index"):
        logging.getLogger(name).setLevel(logging.ERROR)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    if args.which == "ours":
        from .ours import run
    elif args.which == "plain":
        from .plain import run
    elif args.which == "serve":
        from .scale import serve as run
    elif args.which == "news":
        from .scale import news as run
    else:
        from .scale import run
    started = time.perf_counter()
    result = run(spec)
    result["worker_wall_s"] = time.perf_counter() - started
    args.out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


def _start_worker(which: str, spec: dict, work: Path, timeout: float, threads: int | None = None) -> dict:
    spec_path, out_path = work / f"{which}-spec.json", work / f"{which}-result.json"
    spec_path.write_text(json.dumps(spec, default=str), encoding="utf-8")
    env = {**os.environ, **OFFLINE_ENV}
    if threads:  # smoke: workers overlap, and two torch thread pools per core make every one of them crawl
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    print(f"== {which} ...", file=sys.stderr, flush=True)
    run = run_timed([sys.executable, "-m", "bench", "_worker", which, str(spec_path), str(out_path)],
                    env=env, cwd=ROOT, timeout=timeout, capture=False)
    if run["returncode"] != 0 or not out_path.exists():
        raise SystemExit(f"bench: the {which} worker failed (exit {run['returncode']}); see the messages above")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["process_wall_s"] = run["seconds"]
    result["process_peak_rss_mb"] = run["peak_rss_mb"]
    result["process_cpu_s"] = run["cpu_s"]
    print(f"== {which} done in {run['seconds']:.0f}s ({run['cpu_s']:.0f}s CPU)", file=sys.stderr, flush=True)
    return result


def _meta(args) -> dict:
    def version(dist: str) -> str | None:
        from importlib.metadata import PackageNotFoundError, version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return None

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True).stdout
        except FileNotFoundError:  # no git: a copy of the sources, not a checkout
            return ""

    commit = git("rev-parse", "--short", "HEAD").strip()
    dirty = git("status", "--porcelain", "--", "assistant").split("\n")
    return {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
            "bench_dir": str(BENCH_DIR), "cpus": os.cpu_count(), "cpu": cpu_info(), "load_avg_start": os.getloadavg(),
            "python": platform.python_version(),
            "commit": commit or None, "assistant_changes_not_committed": [l[3:] for l in dirty if l.strip()],
            "packages": {d: version(d) for d in ("chromadb", "llama-index-core", "llama-index-vector-stores-chroma",
                                                 "llama-index-embeddings-huggingface", "torch", "transformers",
                                                 "sentence-transformers", "bm25s")}}


def _work_dir(args) -> tuple[Path, bool]:
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        return args.work, False
    return Path(tempfile.mkdtemp(prefix="newsdesk-bench-")), not args.keep


def _outputs(args, out: Path, png: Path | None) -> list[tuple[Path, str]]:
    """The paths this run writes, with the option that moves each (checked before anything is timed)."""
    paths = [(out, "--out")] + ([(png, "--png")] if png else [])
    return paths + ([(args.work, "--work")] if args.work else [])


def _announce(inputs) -> None:
    files, articles = len(inputs.corpus.files), len(inputs.articles)
    print(f"bench: {inputs.corpus.name}: {articles:,} articles in {files:,} files, {len(inputs.questions)} questions",
          file=sys.stderr, flush=True)
    if inputs.failed:
        rel, why = inputs.failed[0]
        print(f"bench: left out {len(inputs.failed)} file(s) Newsdesk cannot read, e.g. {rel}: {why}",
              file=sys.stderr, flush=True)


def _spread(items: list, n: int) -> list:
    step = len(items) / max(1, min(n, len(items)))
    return [items[int(i * step)] for i in range(min(n, len(items)))]


def precision_line(result: dict) -> str:
    """The CPU's features and the embedding precision each pipeline ran at: the top line of the table."""
    text = f"CPU: {describe_cpu(result['meta']['cpu'])}"
    if result["meta"].get("no_amx"):
        text += " (AMX refused to the bench by the kernel, --no-amx: run as without AMX)"
    used = result["meta"].get("embed_precision") or {}
    if used:
        text += "; embedding precision: " + ", ".join(f"{k} {v}" for k, v in used.items())
    return text


# -- python -m bench -------------------------------------------------------------------------------------------------
def run_main(args) -> int:
    from .corpus import copy_corpus
    from .inputs import decide
    from .report import TARGETS, main_table, comparison_rows, scale_table, scale_targets, targets_table

    started = time.perf_counter()
    limit = args.limit or (30 if args.smoke else None)
    n_questions = args.questions or (10 if args.smoke else None)
    out = args.out or RESULTS_DIR / ("smoke.json" if args.smoke else "latest.json")
    png = (args.png or RESULTS_DIR / "scale-smoke.png") if args.smoke else None
    inputs = decide(args, limit, n_questions, _outputs(args, out, png))  # every check before any work
    _announce(inputs)
    work, cleanup = _work_dir(args)
    result: dict = {"meta": _meta(args)}
    result["meta"].update(inputs.describe())
    result["meta"]["no_amx"] = args.no_amx
    try:
        files = inputs.corpus.files
        copy_corpus(files, work / "corpus-ours")
        copy_corpus(files, work / "corpus-plain")
        questions = inputs.questions
        q_dicts = [q.__dict__ for q in questions]
        common = {"questions": q_dicts, "work_dir": str(work), "smoke": args.smoke,
                  "calibration_texts": inputs.calibration, "files": [f.rel for f in files],
                  "corpus_fingerprint": inputs.fingerprint}
        jobs = {"ours": ({**common, "corpus_dir": str(work / "corpus-ours"),
                          "cache_dir": None if args.smoke else str(RESULTS_DIR / "cache"),
                          "corpus_name": inputs.corpus.name,
                          "help_runs": 1 if args.smoke else 5, "breakdown_questions": 3 if args.smoke else 50,
                          "cold_questions": [q.text for q in questions[:1 if args.smoke else 3]]}, 1800)}
        if not args.skip_plain:
            jobs["plain"] = ({**common, "corpus_dir": str(work / "corpus-plain")}, 1800)
        if args.smoke:
            base = [(a.rel, a.index) for a in _spread(inputs.articles, 5)]
            jobs["scale"] = ({**common, "corpus_dir": str(work / "corpus-plain"), "base_articles": base,
                              "sizes": [2000], "queries": len(questions), "batch_chunks": 1000,
                              "max_insert_minutes": 2, "serve_check": False}, 600)
            # Smoke timings mean nothing (CI checks that every step runs and reports): overlap the workers.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(jobs)) as pool:
                futures = {k: pool.submit(_start_worker, k, spec, work, timeout, 1) for k, (spec, timeout) in jobs.items()}
                result.update({k: f.result() for k, f in futures.items()})
        else:
            for k, (spec, timeout) in jobs.items():  # one at a time: each has the machine to itself
                result[k] = _start_worker(k, spec, work, timeout)
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)
    result["meta"]["embed_precision"] = {"newsdesk": result["ours"]["embed_precision"]}
    if "plain" in result:
        result["meta"]["embed_precision"]["plain llama-index"] = result["plain"]["embed_precision"]
    checks = [t.check(result) for t in TARGETS] if "plain" in result else [
        t.check(result) for t in TARGETS if "plain" not in t.name]
    if "scale" in result:
        from .scale import plot

        checks += scale_targets(result["scale"])
        plot(result["scale"], png)
        result["scale"]["plot"] = str(png)
    result["rows"] = [{k: v for k, v in r.items() if k != "digits"} for r in comparison_rows(result)]
    result["targets"] = checks
    result["meta"]["wall_s"] = time.perf_counter() - started
    result["meta"]["load_avg_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")

    meta = result["meta"]
    print(f"Newsdesk benchmark: {meta['corpus']}: {meta['articles']:,} articles, {meta['questions']} questions "
          f"({', '.join(f'{k} {v}' for k, v in meta['question_kinds'].items() if v)}), load average "
          f"{meta['load_avg_start'][0]:.1f} -> {meta['load_avg_end'][0]:.1f}")
    print(precision_line(result))
    print()
    print(main_table(result))
    print()
    print(targets_table(checks))
    if "scale" in result:
        print()
        print(scale_table(result["scale"]))
    print(f"\nJSON: {out}  (total {meta['wall_s']:.0f}s)")
    return 0


# -- python -m bench scale -------------------------------------------------------------------------------------------
def run_scale_command(args) -> int:
    from .corpus import copy_corpus
    from .inputs import decide
    from .report import scale_table, scale_targets, targets_table
    from .scale import plot

    started = time.perf_counter()
    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",")] if args.sizes else (
        [2000] if args.smoke else [10_000, 100_000, 1_000_000])
    n_questions = args.queries or (10 if args.smoke else 100)
    n_recall = args.recall_queries or (10 if args.smoke else 200)
    out = args.out or RESULTS_DIR / ("scale-smoke.json" if args.smoke else "scale.json")
    png = args.png or (RESULTS_DIR / "scale-smoke.png" if args.smoke else BENCH_DIR / "scale.png")
    # timed: the first n_questions; dense recall checked on the first n_recall
    inputs = decide(args, 30 if args.smoke else None, max(n_questions, n_recall), _outputs(args, out, png))
    _announce(inputs)
    work, cleanup = _work_dir(args)
    result: dict = {"meta": _meta(args)}
    result["meta"].update(inputs.describe())
    result["meta"]["no_amx"] = args.no_amx
    try:
        copy_corpus(inputs.corpus.files, work / "corpus")
        base = [(a.rel, a.index) for a in _spread(inputs.articles, 10 if args.smoke else 400)]
        spec = {"questions": [q.__dict__ for q in inputs.questions], "work_dir": str(work), "sizes": sizes,
                "queries": n_questions, "recall_queries": n_recall, "cache_dir": str(RESULTS_DIR / "cache"),
                "corpus_dir": str(work / "corpus"), "corpus_fingerprint": inputs.fingerprint, "base_articles": base,
                "batch_chunks": min(args.batch, max(sizes)),
                "max_insert_minutes": args.max_insert_minutes or (2 if args.smoke else 30),
                "chroma_documents": args.chroma_documents,
                "keyword_reference": str(args.keyword_reference) if args.keyword_reference else None}
        result["scale"] = _start_worker("scale", spec, work, timeout=7200)
        if result["scale"].get("sizes"):  # after the builder has exited: one writer at a time, as the product has it
            from .scale import news_folders

            taken = {rel for rel, _ in base}
            folders = news_folders(work / "corpus", taken, work)
            if folders:
                result["scale"]["news_end_to_end"] = _start_worker(
                    "news", {"index_dir": str(work / "scale-index"), "folders": folders}, work, timeout=1800)
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)
    result["meta"]["embed_precision"] = {"newsdesk": result["scale"]["embed_precision"]}
    plot(result["scale"], png)
    result["scale"]["plot"] = str(png)
    checks = scale_targets(result["scale"])
    result["targets"] = checks
    result["meta"]["wall_s"] = time.perf_counter() - started
    result["meta"]["load_avg_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    latest = RESULTS_DIR / "latest.json"
    if not args.smoke and latest.exists() and out == RESULTS_DIR / "scale.json":
        merged = json.loads(latest.read_text(encoding="utf-8"))
        merged["scale"] = result["scale"]
        merged["scale_targets"] = checks
        latest.write_text(json.dumps(merged, indent=2, default=str), encoding="utf-8")
    print(f"Newsdesk scale benchmark: {result['meta']['corpus']}, load average "
          f"{result['meta']['load_avg_start'][0]:.1f} at start -> {result['meta']['load_avg_end'][0]:.1f} at end")
    print(precision_line(result))
    print(scale_table(result["scale"]))
    print()
    print(targets_table(checks))
    print(f"\nJSON: {out}  plot: {png}  (total {result['meta']['wall_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
