"""`newsdesk` command line. Heavy modules are imported inside the commands so `--help` starts fast."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .types import Passage

# Control characters (escape sequences, newlines, carriage returns, C1 codes) and the bidirectional overrides that
# can make text display as something else: article headlines, file names and feed titles are not trusted.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    from .errors import NewsdeskError

    try:
        code = args.run(args) or 0
        sys.stdout.flush()  # a reader that has gone away shows up here, not as a complaint at exit
        return code
    except BrokenPipeError:
        # `newsdesk list | head`: the reader has what it wanted. Stop quietly, as a tool killed by SIGPIPE does (its
        # exit status is 128 + 13), and point stdout at /dev/null so Python's final flush has nothing to complain of.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except NewsdeskError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newsdesk: interrupted; the index keeps what was committed (run the command again to finish).",
              file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description="Ask questions of news articles; every claim cited.")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: $NEWSDESK_HOME or ./index)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="add or update articles from files, folders or URLs (removes deleted files)")
    p.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .json .jsonl), or http(s) article URLs")
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question", nargs="+")
    p.add_argument("--top-k", type=_top_k, default=None, help="passages given to the answerer (1-50)")
    p.add_argument("--backend", choices=["extractive", "openai", "llama-index"], help="override NEWSDESK_BACKEND")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("retrieve", help="show the passages retrieved for a question")
    p.add_argument("question", nargs="+")
    p.add_argument("--top-k", type=_top_k, default=10, help="passages shown (1-50)")
    p.set_defaults(run=cmd_retrieve)

    p = sub.add_parser("status", help="articles, chunks, index location and backends")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser("list", help="list the indexed articles")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("remove", help="remove articles by id (see `newsdesk list`)")
    p.add_argument("doc_ids", nargs="+")
    p.set_defaults(run=cmd_remove)

    p = sub.add_parser("serve", help="start the web page")
    p.add_argument("--host", help="interface to listen on (default: $NEWSDESK_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: $NEWSDESK_PORT or 7860)")
    p.add_argument("--watch", metavar="DIR", action="append", default=[], help="a folder 'Update index' re-ingests")
    p.add_argument("--insecure-public", action="store_true", help="listen beyond 127.0.0.1 without NEWSDESK_AUTH")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("watch", help="keep the index in step with folders (new, changed, deleted files) until Ctrl-C")
    p.add_argument("folders", nargs="+")
    p.add_argument("--debounce", type=float, metavar="SECONDS",
                   help="quiet time before changes are ingested (default: NEWSDESK_WATCH_DEBOUNCE or 1)")
    p.add_argument("--reconcile", type=float, metavar="SECONDS",
                   help="full re-scan interval, 0 = only at start (default: NEWSDESK_WATCH_RECONCILE or 300)")
    p.set_defaults(run=cmd_watch)

    p = sub.add_parser("add-feed", help="remember RSS or Atom feeds (fetched by `newsdesk refresh`)")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.set_defaults(run=cmd_add_feed)

    p = sub.add_parser("remove-feed", help="forget feeds (their articles stay indexed)")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.set_defaults(run=cmd_remove_feed)

    p = sub.add_parser("feeds", help="list the remembered feeds and how their last refresh went")
    p.set_defaults(run=cmd_feeds)

    p = sub.add_parser("refresh", help="fetch every remembered feed once and index what is new")
    p.set_defaults(run=cmd_refresh)

    p = sub.add_parser("eval", help="measure retrieval and answer quality on a question file")
    p.add_argument("questions", help="JSONL: id, question, type, gold_docs, answer_keywords")
    p.add_argument("--corpus", nargs="+", required=True, help="folders to index (into a temporary index)")
    p.add_argument("--no-baseline", action="store_true", help="skip the plain llama-index pipeline")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--keep-index", metavar="DIR", help="reuse or keep the evaluation index in DIR")
    p.add_argument("--backend", choices=["extractive", "openai", "llama-index"], default="extractive",
                   help="answer with the extractive answerer (default) or the configured LLM (openai: "
                        "OPENAI_BASE_URL, NEWSDESK_MODEL, ...; llama-index: NEWSDESK_LLAMA_INDEX_LLM and _ARGS)")
    p.add_argument("--answers", metavar="FILE", help="write every answer as JSON lines: the LLM's raw reply beside "
                                                     "the checked answer, its note and the cited articles")
    p.set_defaults(run=cmd_eval)
    return parser


def quiet_libraries() -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("httpx", "chromadb", "openai", "urllib3", "bm25s", "transformers", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _top_k(text: str) -> int:
    from .errors import QuestionError
    from .settings import passage_count

    try:
        return passage_count(int(text))
    except (ValueError, QuestionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a passage count: give a whole number from 1 to 50") from None


def _assistant(args, **kw):
    from .assistant import Assistant

    return Assistant(index_dir=args.index, **kw)


class ProgressBar:
    """A one-line progress bar on stderr (only when it is a terminal, or every 10% otherwise)."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int, message: str) -> None:
        pct = int(100 * done / total) if total else 100
        if self.tty:
            filled = pct * 30 // 100
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {message[:40]:<40}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif pct // 10 != self.last // 10 or done >= total:
            print(f"{self.label}: {done}/{total} files", file=sys.stderr)
        self.last = pct


def cmd_ingest(args) -> int:
    qa = _assistant(args)
    report = qa.ingest(args.paths, progress=ProgressBar("ingest"))
    print(report.summary())
    for path, reason in report.failed:
        print(f"  failed: {printable(path)}: {printable(reason)}")
    return 0


def cmd_ask(args) -> int:
    qa = _assistant(args, backend=args.backend)
    question = " ".join(args.question)
    if args.json:
        result = qa.ask(question, top_k=args.top_k)
        # JSON escapes \x00-\x1f itself; the C1 codes and direction overrides it leaves are escaped the same way
        # (\u202e), so an article's text cannot act on the terminal
        text = json.dumps(_answer_dict(result), indent=2, ensure_ascii=False)
        print(_UNPRINTABLE.sub(lambda m: m.group() if m.group() < " " else f"\\u{ord(m.group()):04x}", text))
        return 0
    from .types import Answer, Waiting

    result = None
    for item in qa.ask_stream(question, top_k=args.top_k):
        if isinstance(item, Waiting) and sys.stderr.isatty():
            print(f"\rWaiting for the LLM: {item.seconds:.0f} s (limit {item.limit:g} s, NEWSDESK_LLM_TIMEOUT)",
                  end="", file=sys.stderr, flush=True)
        elif isinstance(item, Answer):
            result = item
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    print(printable(result.text, keep="\n"))
    if result.note:
        print(f"\nNote: {printable(result.note)}")
    if result.citations:
        print()
        for c in result.citations:
            meta = ", ".join(x for x in (c.author, c.date) if x)
            print(printable(f"[{c.number}] {c.title}" + (f" ({meta})" if meta else "")))
            print(f"    {printable(c.source)}")
            quote = " ".join(c.sentences) if c.sentences else c.quote
            print(f"    “{printable(_shorten(quote, 300))}”")
    elif result.abstained and result.passages:
        print("\nRelated, but not an answer:")
        for p in related_articles(result.passages):
            print(printable(f"  - {p.title} ({p.source})"))
    return 0


def related_articles(passages: Sequence[Passage], n: int = 3) -> list[Passage]:
    """The first passage of each of the first `n` articles among `passages`: an article is listed once."""
    first: dict[str, Passage] = {}
    for p in passages:
        first.setdefault(p.doc_id, p)
    return list(first.values())[:n]


def cmd_retrieve(args) -> int:
    qa = _assistant(args)
    for n, p in enumerate(qa.retrieve(" ".join(args.question), top_k=args.top_k), 1):
        print(f"{n:2}. {p.score:.4f} dense={p.dense:.3f} bm25={p.keyword:.2f}  {printable(p.title)}  "
              f"({printable(p.source)})")
        print(f"    {printable(_shorten(p.text, 200))}")
    return 0


def cmd_status(args) -> int:
    st = _assistant(args).status()
    print(f"articles:  {st.articles}")
    print(f"chunks:    {st.chunks}")
    print(f"index:     {printable(st.index_dir)}")
    print(f"store:     {st.store}")
    print(f"embedder:  {st.embedder}")
    print(f"answers:   {st.backend}" + (f" ({st.model})" if st.model else ""))
    return 0


def cmd_list(args) -> int:
    for a in _assistant(args).articles():
        print(f"{a.doc_id}  {a.chunks:3} chunks  {printable(a.title[:70])}  ({printable(a.source)})")
    return 0


def cmd_remove(args) -> int:
    print(_assistant(args).remove(args.doc_ids).summary())
    return 0


def cmd_serve(args) -> int:
    from .web.serve import serve

    qa = _assistant(args)
    serve(qa, host=args.host or qa.settings.host, port=args.port or qa.settings.port, watch=args.watch,
          insecure_public=args.insecure_public)
    return 0


def cmd_watch(args) -> int:
    import signal

    def show(report) -> None:
        print(f"{time.strftime('%H:%M:%S')} {report.summary()}", flush=True)
        for action, source in report.changes:
            print(f"  {action}: {printable(source)}", flush=True)
        for path, reason in report.failed:
            print(f"  failed: {printable(path)}: {printable(reason)}", flush=True)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    watcher = _assistant(args).watcher(args.folders, args.debounce, args.reconcile, on_report=show).start()
    signal.signal(signal.SIGTERM, interrupt)  # `kill` or a service manager stops it as cleanly as Ctrl-C
    print(f"watching {', '.join(watcher.status().folders)} (Ctrl-C to stop)", flush=True)
    try:
        while watcher.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    print("stopped watching; the index keeps everything ingested so far", flush=True)
    return 0


def cmd_add_feed(args) -> int:
    registry = _assistant(args).feed_registry()
    for url in args.urls:
        feed, created = registry.add(url)
        print(f"{'remembered' if created else 'already remembered'}: {feed.url}")
    print("Run `newsdesk refresh` to fetch the feeds and index their articles.")
    return 0


def cmd_remove_feed(args) -> int:
    qa = _assistant(args)
    missing = 0
    for url in args.urls:
        if qa.remove_feed(url):
            print(f"forgotten: {url} (its articles stay indexed; `newsdesk remove DOC_ID` removes one)")
        else:
            print(f"not a remembered feed: {url} (see `newsdesk feeds`)")
            missing += 1
    return 1 if missing else 0


def cmd_feeds(args) -> int:
    feeds = _assistant(args).feeds()
    if not feeds:
        print("No feeds remembered. Add one with `newsdesk add-feed URL`.")
    for f in feeds:
        print(printable(f"{f.url}" + (f"  {f.title}" if f.title else "")))
        checked = f"last refreshed {f.checked_at}" if f.checked_at else "not refreshed yet"
        changed = f", new articles {f.changed_at}" if f.changed_at else ""
        print(f"    {checked}{changed}; entries seen: {len(f.entries)}")
        if f.error:
            print(f"    last refresh failed: {printable(f.error)}")
    return 0


def cmd_refresh(args) -> int:
    qa = _assistant(args)
    if not qa.feeds():
        print("No feeds remembered. Add one with `newsdesk add-feed URL`.")
        return 0
    report = qa.refresh_feeds()
    for result in report.feeds:
        print(printable(result.summary()))
        for link, why in result.fallbacks:
            print(printable(f"  from the feed's own text: {link} ({why})"))
        for link, why in result.skipped:
            print(printable(f"  skipped: {link}: {why}"))
    print(report.summary())
    return 1 if report.errors else 0


def cmd_eval(args) -> int:
    from .evaluation import run_eval_cli

    return run_eval_cli(args)


def _answer_dict(result) -> dict:
    return {
        "question": result.question, "text": result.text, "backend": result.backend, "abstained": result.abstained,
        "note": result.note, "seconds": round(result.seconds, 3), "raw": result.raw,
        "citations": [c.__dict__ for c in result.citations],
    }


def printable(text: str, keep: str = "") -> str:
    """Text from articles, file names or feeds, safe to print to a terminal: control characters and direction
    overrides are shown escaped (\\x1b, \\n, \\u202e), so a headline cannot move the cursor, recolour or clear the
    screen, or start a line that looks like the program's own. `keep`: characters printed as they are (an
    answer's line breaks)."""
    return _UNPRINTABLE.sub(lambda m: m.group(0) if m.group(0) in keep
                            else m.group(0).encode("unicode_escape").decode("ascii"), str(text))


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


if __name__ == "__main__":
    raise SystemExit(main())
