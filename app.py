"""`python app.py`: the Newsdesk web page on http://127.0.0.1:7860 (NEWSDESK_HOST / NEWSDESK_PORT, --host / --port).

On first start (an empty index) it indexes the sample articles, so the page answers questions right away;
`--no-samples` skips that. Thin on purpose: the page lives in assistant/web/ and calls the `Assistant` API.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Newsdesk web page: ask questions of news articles, every claim cited.")
    parser.add_argument("--host", help="interface to listen on (default: $NEWSDESK_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: $NEWSDESK_PORT or 7860)")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: $NEWSDESK_HOME or ./index)")
    parser.add_argument("--watch", metavar="DIR", action="append", default=[],
                        help="a folder that 'Update index' re-ingests (repeatable); "
                             "the samples and the uploads folder are watched too")
    parser.add_argument("--no-samples", action="store_true",
                        help="do not index the sample articles into an empty index, and do not watch them")
    parser.add_argument("--insecure-public", action="store_true",
                        help="allow listening beyond 127.0.0.1 without NEWSDESK_AUTH (anyone on the network can use it)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from assistant.cli import ProgressBar, quiet_libraries

    quiet_libraries()
    from assistant import Assistant, NewsdeskError
    from assistant.web.serve import serve

    try:
        qa = Assistant(index_dir=args.index)
        args.host, args.port = args.host or qa.settings.host, args.port or qa.settings.port
        serve(qa, host=args.host, port=args.port, watch=args.watch,
              watch_samples=not args.no_samples, index_samples=not args.no_samples,
              progress=ProgressBar("indexing samples"), insecure_public=args.insecure_public)
    except NewsdeskError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # most often: the port is taken
        detail = str(exc).split(". ")[0].rstrip(".")  # Gradio adds advice about its own settings
        print(f"newsdesk: cannot start the web page on {args.host}:{args.port}: {detail}. "
              "Choose another port with --port or NEWSDESK_PORT.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
