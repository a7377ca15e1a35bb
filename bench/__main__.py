"""`python -m bench` (this project vs plain llama-index), `python -m bench scale`, `python -m bench --smoke`.

    python -m bench                      # full corpus, 200 questions; table + bench/results/latest.json (< 15 min)
    python -m bench scale                # synthetic 10k / 100k / 1M chunks; bench/results/scale.json, bench/scale.png
    python -m bench scale --sizes 10000,100000
    python -m bench --smoke              # ~30 articles, 10 questions, scale at 2,000 chunks (CI, < 60 s)
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

from . import BENCH_DIR, OFFLINE_ENV, RESULTS_DIR, ROOT, SHARED
from .measure import run_timed

for _key, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: ~30 articles, 10 questions, scale 2,000")
    parser.add_argument("--limit", type=int, help="articles to use (default: all 2,225; smoke: 30)")
    parser.add_argument("--questions", type=int, help="questions to time (default 200; smoke 10)")
    parser.add_argument("--dev-share", type=float, default=0.25, help="share of questions taken from eval/dev.jsonl")
    parser.add_argument("--skip-plain", action="store_true", help="do not run the plain llama-index pipeline")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/latest.json; smoke: smoke.json)")
    parser.add_argument("--png", type=Path, help="scale plot (smoke only; default bench/results/scale-smoke.png)")
    parser.add_argument("--work", type=Path, help="working folder (default: a temp folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (indexes, corpus copies)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder with corpora/bbc and seeds")
    sub = parser.add_subparsers(dest="command", metavar="{scale}")

    s = sub.add_parser("scale", help="retrieval latency and memory on a synthetic index of up to 1M chunks")
    s.add_argument("--sizes", default=None, help="comma-separated chunk counts (default 10000,100000,1000000)")
    s.add_argument("--smoke", action="store_true", help="sizes 2000, 10 questions")
    s.add_argument("--queries", type=int, default=None, help="questions timed at each size (default 100)")
    s.add_argument("--max-insert-minutes", type=float, default=None,
                   help="stop growing the index after this much insert time (default 30; smoke 2)")
    s.add_argument("--recall-queries", type=int, default=None,
                   help="questions whose dense top 10 is checked against exact search at each size (default 200)")
    s.add_argument("--chroma-documents", action="store_true",
                   help="also store the chunk texts in Chroma, as NEWSDESK_CHROMA_DOCUMENTS=1 does (about a third of the "
                        "insert rate: embedded Chroma indexes every document for full-text search)")
    s.add_argument("--batch", type=int, default=20_000, help="chunks per Store.commit")
    s.add_argument("--out", type=Path, help="JSON file (default bench/results/scale.json)")
    s.add_argument("--png", type=Path, help="plot (default bench/scale.png)")
    s.add_argument("--work", type=Path, help="working folder (default: a temp folder, removed afterwards)")
    s.add_argument("--keep", action="store_true")

    w = sub.add_parser("_worker", help=argparse.SUPPRESS)
    w.add_argument("which", choices=["ours", "plain", "scale", "serve"])
    w.add_argument("spec", type=Path)
    w.add_argument("out", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "_worker":
        return worker(args)
    if args.command == "scale":
        return run_scale_command(args)
    return run_main(args)


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

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "assistant"], cwd=ROOT, capture_output=True,
                           text=True).stdout.split("\n")
    return {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
            "cpus": os.cpu_count(), "load_avg_start": os.getloadavg(), "python": platform.python_version(),
            "commit": commit or None, "assistant_changes_not_committed": [l[3:] for l in dirty if l.strip()],
            "packages": {d: version(d) for d in ("chromadb", "llama-index-core", "llama-index-vector-stores-chroma",
                                                 "llama-index-embeddings-huggingface", "torch", "transformers",
                                                 "sentence-transformers", "bm25s")}}


def _work_dir(args) -> tuple[Path, bool]:
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        return args.work, False
    return Path(tempfile.mkdtemp(prefix="newsdesk-bench-")), not args.keep


# -- python -m bench -------------------------------------------------------------------------------------------------
def run_main(args) -> int:
    from .corpus import copy_corpus, make_questions, pick_articles
    from .report import TARGETS, main_table, comparison_rows, scale_table, scale_targets, targets_table

    started = time.perf_counter()
    limit = args.limit or (30 if args.smoke else None)
    n_questions = args.questions or (10 if args.smoke else 200)
    out = args.out or RESULTS_DIR / ("smoke.json" if args.smoke else "latest.json")
    work, cleanup = _work_dir(args)
    result: dict = {"meta": _meta(args)}
    try:
        files = pick_articles(limit, args.shared)
        copy_corpus(files, work / "corpus-ours")
        copy_corpus(files, work / "corpus-plain")
        questions = make_questions(work / "corpus-plain", n_questions, args.dev_share)
        q_dicts = [q.__dict__ for q in questions]
        result["meta"].update(articles=len(files), questions=len(questions),
                              question_kinds={k: sum(q.kind == k for q in questions) for k in ("headline", "sentence", "dev")})
        common = {"questions": q_dicts, "work_dir": str(work), "smoke": args.smoke}
        jobs = {"ours": ({**common, "corpus_dir": str(work / "corpus-ours"),
                          "cache_dir": None if args.smoke else str(RESULTS_DIR / "cache"),
                          "help_runs": 1 if args.smoke else 5, "breakdown_questions": 3 if args.smoke else 50,
                          "cold_questions": [q.text for q in questions[:1 if args.smoke else 3]]}, 1800)}
        if not args.skip_plain:
            jobs["plain"] = ({**common, "corpus_dir": str(work / "corpus-plain")}, 1800)
        if args.smoke:
            jobs["scale"] = ({**common, "sizes": [2000], "queries": len(questions), "sample_articles": 5,
                              "batch_chunks": 1000, "max_insert_minutes": 2, "serve_check": False}, 600)
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
    checks = [t.check(result) for t in TARGETS] if "plain" in result else [
        t.check(result) for t in TARGETS if "plain" not in t.name]
    if "scale" in result:
        from .scale import plot

        checks += scale_targets(result["scale"])
        png = args.png or RESULTS_DIR / "scale-smoke.png"
        plot(result["scale"], png)
        result["scale"]["plot"] = str(png)
    result["rows"] = [{k: v for k, v in r.items() if k != "digits"} for r in comparison_rows(result)] if "plain" in result \
        else None
    result["targets"] = checks
    result["meta"]["wall_s"] = time.perf_counter() - started
    result["meta"]["load_avg_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")

    print(f"Newsdesk benchmark: {result['meta']['articles']:,} articles, {result['meta']['questions']} questions "
          f"({result['meta']['question_kinds']}), {os.cpu_count()} CPUs, load average "
          f"{result['meta']['load_avg_start'][0]:.1f} -> {result['meta']['load_avg_end'][0]:.1f}")
    if "plain" in result:
        print()
        print(main_table(result))
    print()
    print(targets_table(checks))
    if "scale" in result:
        print()
        print(scale_table(result["scale"]))
    print(f"\nJSON: {out}  (total {result['meta']['wall_s']:.0f}s)")
    return 0


# -- python -m bench scale -------------------------------------------------------------------------------------------
def run_scale_command(args) -> int:
    from .corpus import copy_corpus, make_questions, pick_articles
    from .report import scale_table, scale_targets, targets_table
    from .scale import plot

    started = time.perf_counter()
    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",")] if args.sizes else (
        [2000] if args.smoke else [10_000, 100_000, 1_000_000])
    n_questions = args.queries or (10 if args.smoke else 100)
    n_recall = args.recall_queries or (10 if args.smoke else 200)
    out = args.out or RESULTS_DIR / ("scale-smoke.json" if args.smoke else "scale.json")
    png = args.png or (RESULTS_DIR / "scale-smoke.png" if args.smoke else BENCH_DIR / "scale.png")
    work, cleanup = _work_dir(args)
    result: dict = {"meta": _meta(args)}
    try:
        files = pick_articles(30 if args.smoke else None)
        copy_corpus(files, work / "corpus")
        questions = make_questions(work / "corpus", max(n_questions, n_recall))  # timed: the first n_questions
        spec = {"questions": [q.__dict__ for q in questions], "work_dir": str(work), "sizes": sizes,
                "queries": n_questions, "recall_queries": n_recall, "cache_dir": str(RESULTS_DIR / "cache"),
                "sample_articles": 10 if args.smoke else 400, "batch_chunks": min(args.batch, max(sizes)),
                "max_insert_minutes": args.max_insert_minutes or (2 if args.smoke else 30),
                "chroma_documents": args.chroma_documents}
        result["scale"] = _start_worker("scale", spec, work, timeout=7200)
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)
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
    print(f"Newsdesk scale benchmark: {os.cpu_count()} CPUs, load average {result['meta']['load_avg_start'][0]:.1f} "
          f"at start -> {result['meta']['load_avg_end'][0]:.1f} at end")
    print(scale_table(result["scale"]))
    print()
    print(targets_table(checks))
    print(f"\nJSON: {out}  plot: {png}  (total {result['meta']['wall_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
