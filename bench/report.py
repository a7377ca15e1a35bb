"""Targets, the comparison table and the scale table (plain text, so a CI log shows them as they are)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Target:
    name: str
    limit: float
    kind: str  # "max" (measured must be <= limit) or "min" (>= limit)
    unit: str
    get: Callable[[dict], float | None]

    def check(self, result: dict) -> dict:
        try:
            value = self.get(result)
        except (KeyError, TypeError, ZeroDivisionError):
            value = None
        met = None if value is None else (value <= self.limit if self.kind == "max" else value >= self.limit)
        sign = "<=" if self.kind == "max" else ">="
        margin = None
        if value is not None and not met:
            margin = value / self.limit if self.kind == "max" else self.limit / value if value else None
        return {"target": self.name, "limit": f"{sign} {self.limit:g} {self.unit}", "measured": value, "met": met,
                "off_by_factor": margin}


def _ratio(a, b):
    return a / b if a is not None and b else None


def _changed(r: dict) -> float | None:
    """The re-ingest after the change, when the change was the one the target is set for (10 edits, 10 new):
    a corpus with fewer plain-text or Markdown files to edit gets fewer edits, and no verdict."""
    change = r["ours"]["change"]
    return r["ours"]["reingest_changed"]["wall_s"] if (len(change["edited"]), change["added"]) == (10, 10) else None


TARGETS = [
    Target("first ingest wall", 90, "max", "s", lambda r: r["ours"]["first_ingest"]["wall_s"]),
    Target("word pieces embedded/s vs plain", 1.8, "min", "x",
           lambda r: _ratio(r["ours"]["first_ingest"]["tokens_per_s"], r["plain"]["ingest"]["tokens_per_s"])),
    Target("re-ingest, nothing changed", 3, "max", "s", lambda r: r["ours"]["reingest_unchanged"]["wall_s"]),
    Target("re-ingest, 10 edited + 10 new", 5, "max", "s", _changed),
    Target("retrieval p95 (warm)", 30, "max", "ms", lambda r: r["ours"]["retrieve"]["p95_ms"]),
    Target("full answer p95 (extractive, warm)", 100, "max", "ms", lambda r: r["ours"]["ask"]["p95_ms"]),
    Target("newsdesk --help", 0.5, "max", "s", lambda r: r["ours"]["cold_help"]["median_s"]),
    Target("first answer from a new process", 6, "max", "s", lambda r: r["ours"]["cold_ask"]["median_s"]),
]


def scale_targets(scale: dict) -> list[dict]:
    points = scale.get("sizes") or []
    if not points:
        return []
    top = max(points, key=lambda p: p["size"])
    at = f" at {top['size']:,} chunks"
    out = [
        Target("hybrid retrieval p95" + at, 100, "max", "ms", lambda s: top["retrieve"]["p95_ms"]).check(scale),
        Target("resident memory (peak), building process" + at, 4096, "max", "MB", lambda s: top["peak_rss_mb"]).check(scale),
    ]
    news = scale.get("news_end_to_end")
    if news and len(news.get("batches", [])) > 1:  # issue 21: a newsroom adding stories to a large archive
        warm = news["batches"][1:]
        out.append(Target(f"add {warm[0]['articles']} real articles" + at + ", end to end (running process)", 5, "max",
                          "s", lambda s: max(b["seconds"] for b in warm)).check(scale))
        out.append(Target("resident memory (peak), the process adding them", 4096, "max", "MB",
                          lambda s: news["peak_rss_mb"]).check(scale))
    if scale.get("serve"):
        out.append(Target("resident memory (peak), a new process serving it", 6144, "max", "MB",
                          lambda s: s["serve"]["peak_rss_mb"]).check(scale))
    if top["size"] < 1_000_000 <= max(p["target"] for p in points):
        for row in out:
            row["note"] = f"1M not reached: {scale.get('stopped', {}).get('reason', 'stopped early')}"
    return out


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def comparison_rows(result: dict) -> list[dict]:
    """Every row of the main table as data (also written to the JSON)."""
    o, p = result["ours"], result.get("plain") or {}
    oi, pi = o["first_ingest"], p.get("ingest", {})
    targets = {t.name: t.check(result) for t in TARGETS}

    def row(metric, ours, plain=None, target=None, digits=1):
        t = targets.get(target) if target else None
        return {"metric": metric, "ours": ours, "plain": plain, "ratio": _ratio(ours, plain),
                "target": t["limit"] if t else "", "met": t["met"] if t else None, "digits": digits}

    rows = [
        row("articles indexed", oi["added"], pi.get("articles")),
        row("chunks embedded", oi["chunks"], pi.get("chunks")),
        row("word pieces embedded (model input, truncated at 256)", oi["tokens"], pi.get("tokens")),
        row("model load + first batch, s (not in ingest time)", o["model_load_s"], p.get("model_load_s"), digits=2),
        row("first ingest wall, s", oi["wall_s"], pi.get("wall_s"), "first ingest wall"),
        row("  articles/s", oi["articles_per_s"], pi.get("articles_per_s")),
        row("  chunks/s", oi["chunks_per_s"], pi.get("chunks_per_s")),
        row("  word pieces embedded/s", oi["tokens_per_s"], pi.get("tokens_per_s"), "word pieces embedded/s vs plain", 0),
        row("  bare model word pieces/s at the time (same texts, same code)", o["model_word_pieces_per_s"]["mean"],
            p.get("model_word_pieces_per_s", {}).get("mean"), digits=0),
        row("  pipeline efficiency (embedded/s / bare model)", oi["efficiency"], pi.get("efficiency"), digits=2),
        row("  word pieces per CPU-second of the process", oi.get("tokens_per_cpu_s"), pi.get("tokens_per_cpu_s"), digits=0),
        row("  other processes' share of the CPUs meanwhile", oi.get("others_cpu_share"), pi.get("others_cpu_share"), digits=2),
        row("first query after ingest (BM25 rebuild), s", o["first_query_after_ingest_s"], None, digits=2),
        row("re-ingest, nothing changed, s", o["reingest_unchanged"]["wall_s"], None, "re-ingest, nothing changed", 2),
        row(f"re-ingest, {len(o['change']['edited'])} edited + {o['change']['added']} new, s", o["reingest_changed"]["wall_s"],
            None, "re-ingest, 10 edited + 10 new", 2),
        row("  first query after that (BM25 rebuild), s", o["first_query_after_change_s"], None, digits=2),
        row("retrieval p50, ms", o["retrieve"]["p50_ms"], p.get("retrieve", {}).get("p50_ms")),
        row("retrieval p95, ms", o["retrieve"]["p95_ms"], p.get("retrieve", {}).get("p95_ms"), "retrieval p95 (warm)"),
        row("retrieval hit@10 (question's article in top 10)", o["retrieve"]["hit_at_10"],
            p.get("retrieve", {}).get("hit_at_10"), digits=3),
        row("  other processes' share of the CPUs during the queries", o.get("queries_others_cpu_share"),
            p.get("queries_others_cpu_share"), digits=2),
        row("full answer (extractive) p50, ms", o["ask"]["p50_ms"], None),
        row("full answer (extractive) p95, ms", o["ask"]["p95_ms"], None, "full answer p95 (extractive, warm)"),
        row("peak RSS of the process, MB", o["peak_rss_mb"], p.get("peak_rss_mb"), digits=0),
        row("index size on disk, MB", o["index_mb"], p.get("index_mb")),
        row("`newsdesk --help`, s (median)", o["cold_help"]["median_s"], None, "newsdesk --help", 2),
        row("first `newsdesk ask` from a new process, s (median)", o["cold_ask"]["median_s"], None,
            "first answer from a new process", 2),
    ]
    return rows


def main_table(result: dict) -> str:
    rows = comparison_rows(result)
    body = [[r["metric"], _fmt(r["ours"], r["digits"]), _fmt(r["plain"], r["digits"]),
             "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["target"],
             {True: "MET", False: "MISSED", None: ""}[r["met"]]] for r in rows]
    return _table(["metric", "newsdesk", "plain llama-index", "ours/plain", "target", ""], body)


def targets_table(checks: list[dict]) -> str:
    body = [[c["target"], c["limit"], _fmt(c["measured"], 2), {True: "MET", False: "MISSED", None: "n/a"}[c["met"]],
             "" if not c.get("off_by_factor") else f"{c['off_by_factor']:.2f}x over"] for c in checks]
    return _table(["target", "limit", "measured", "", "miss"], body)


def scale_table(scale: dict) -> str:
    body = []
    for p in scale.get("sizes", []):
        recall = (p.get("dense_recall_at_10") or {}).get("recall")
        body.append([f"{p['size']:,}", _fmt(p["insert_chunks_per_s"], 0), _fmt(p.get("insert_cpu_ms_per_chunk"), 2),
                     _fmt(p["bm25_rebuild_s"], 1), _fmt(recall, 3),
                     _fmt(p["first_query_s"] * 1000, 0), _fmt(p["retrieve"]["p50_ms"]), _fmt(p["retrieve"]["p95_ms"]),
                     _fmt(p["retrieve_with_vector"]["p95_ms"]),
                     _fmt(p["parts"]["embed_query"]["p95_ms"]), _fmt(p["parts"]["dense_search"]["p95_ms"]),
                     _fmt(p["parts"]["keyword_search"]["p95_ms"]),
                     _fmt(p["parts"].get("store_counts (status line)", {}).get("p50_ms")),
                     _fmt(p.get("news", {}).get("add_s"), 2), _fmt(p.get("news", {}).get("remove_s"), 2),
                     _fmt((p.get("keyword_top10_overlap") or {}).get("mean"), 3),
                     _fmt(p["rss_mb"], 0), _fmt(p.get("peak_rss_mb"), 0), _fmt(p["index_mb"], 0),
                     _fmt(p.get("others_cpu_share_inserting"), 2), _fmt(p.get("others_cpu_share"), 2)])
    text = _table(["chunks", "insert/s", "insert CPU ms/chunk", "bm25 build s", "dense recall@10", "1st query ms",
                   "p50 ms", "p95 ms", "p95 vec given", "embed p95", "dense p95", "bm25 p95", "counts() ms", "add 20 s",
                   "remove 20 s", "kw top-10 overlap", "RSS MB",
                   "peak RSS MB", "index MB", "others' CPU inserting", "others' CPU querying"], body)
    text += ("\n(p95 vec given: Retriever.retrieve with the question's vector passed in; the parts of a two-part "
             "question are still embedded. dense recall@10: Store.dense_search's top 10 vs exact cosine over every "
             f"vector, {scale.get('recall_queries', '?')} questions. others' CPU: share of the 2 cores used by other "
             "processes meanwhile. add/remove 20: 20 articles of 4 chunks committed (vectors given) until the keyword side "
             "is ready; kw top-10 overlap: share of a reference run's (--keyword-reference) keyword top 10.)")
    if "chroma_documents" in scale:
        text += ("\nChunk texts stored in Chroma: " + ("yes (NEWSDESK_CHROMA_DOCUMENTS=1; about a third of the "
                 "insert rate)." if scale["chroma_documents"] else "no (the product's default)."))
    served = scale.get("serve")
    if served:
        text += (f"\nA new process serving the {served['chunks']:,}-chunk index: open {served['open_s']:.1f}s "
                 f"(+ model {served['model_load_s']:.1f}s), first query {served['first_query_s'] * 1000:.0f} ms, "
                 f"p50 {served['retrieve']['p50_ms']:.1f} ms / p95 {served['retrieve']['p95_ms']:.1f} ms"
                 + (f" (vector given: p95 {served['retrieve_with_vector']['p95_ms']:.1f} ms)"
                    if "retrieve_with_vector" in served else "")
                 + f", RSS {served['rss_mb']:,.0f} MB (peak {served['peak_rss_mb']:,.0f} MB)"
                 + (f", dense top 10 identical to the builder's for {served['dense_top10_same_as_builder']:.0%} of "
                    "the recall questions" if "dense_top10_same_as_builder" in served else ""))
    news = scale.get("news_end_to_end")
    if news and news.get("batches"):
        first, rest = news["batches"][0], news["batches"][1:]
        text += (f"\nReal articles added with Assistant.ingest (model included) in a new process: the first "
                 f"{first['articles']} in {first['seconds']:.1f}s ({first['since_start_s']:.1f}s from process start, "
                 "model and index loaded cold), then " + ", ".join(f"{b['articles']} in {b['seconds']:.1f}s ({b['chunks']} "
                 "chunks)" for b in rest) + f"; peak RSS {news['peak_rss_mb']:,.0f} MB.")
    extra = scale.get("keyword_only")
    if extra:
        text += (f"\nBM25 alone at {extra['size']:,} chunks: build {extra['bm25_build_s']:.1f}s, search p50 "
                 f"{extra['search']['p50_ms']:.1f} ms / p95 {extra['search']['p95_ms']:.1f} ms, "
                 f"RSS {extra['rss_mb']:,.0f} MB (peak {extra['peak_rss_mb']:,.0f} MB)")
    if scale.get("stopped"):
        s = scale["stopped"]
        text += f"\nStopped at {s['reached']:,} of {s['target']:,} chunks: {s['reason']}."
    return text
