"""The cited claims of an LLM's stored replies, each with the passage it cites, for labelling and for fitting the
grounding check: `python eval/reply_claims.py QUESTIONS ANSWERS --index DIR --model NAME > claims.jsonl`.

Every reply of the `newsdesk eval --answers` file is read the way the check reads it (reply.py), against the passages
the model read, retrieved anew as eval/llm_replay.py does. One line per claim and passage it cites:
{"qid", "model", "claim", "n", "passage", "article"}; `supported` is left for a labeller. Only passages of the invented
articles (eval/fictional) are written, so the file can be committed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answering.reply import META, read_reply  # noqa: E402
from assistant.evaluation import load_questions  # noqa: E402
from llm_replay import offline_assistant, passages_read  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("questions")
    parser.add_argument("answers")
    parser.add_argument("--index", required=True)
    parser.add_argument("--model", required=True, help="who wrote the replies, as the label file names them")
    args = parser.parse_args(argv)
    qa = offline_assistant(Path(args.index))
    paths = {a.doc_id: a.path or a.source for a in qa.articles()}
    questions = {q.id: q for q in load_questions(args.questions)}
    for line in Path(args.answers).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        q = questions[row["id"]]
        read = passages_read(qa, q.question)[2]
        for claim in read_reply(row.get("raw") or "", ["" for _ in read]).claims:
            if claim.refusal or META.search(claim.text):
                continue
            for n in claim.cited:
                if not 1 <= n <= len(read):
                    continue
                article = str(paths.get(read[n - 1].doc_id, ""))
                if "eval/fictional/" not in article:
                    continue
                print(json.dumps({"qid": q.id, "model": args.model, "claim": claim.text.strip(), "n": n,
                                  "passage": read[n - 1].title + "\n" + read[n - 1].text,
                                  "article": "eval/fictional/" + article.split("eval/fictional/")[1]},
                                 ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
