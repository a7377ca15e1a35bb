"""eval/forced_citations.py: a real SmolLM2, which cites nothing on its own, cites every sentence through the proxy."""
from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

from openai import OpenAI

from assistant.answering.citations import NOT_FOUND
from assistant.answering.reply import read_reply
from .conftest import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))

import forced_citations  # noqa: E402

PASSAGES = ("<passage>[1] Halbrook council will buy 40 battery-electric buses, its leader said on Monday.</passage>\n"
            "<passage>[2] The buses will replace diesel ones on the town's eight routes from 2026.</passage>")


def test_every_sentence_of_the_reply_cites_a_passage(smol_url):
    upstream = int(re.search(r":(\d+)/", smol_url).group(1))
    proxy = forced_citations.server(free_port(), upstream)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{proxy.server_address[1]}/v1", api_key="none")
        for question in ("How many buses will Halbrook buy?", "Who is the mayor of Paris?"):
            stream = client.chat.completions.create(
                model="smol", max_tokens=160, stream=True, timeout=120,
                messages=[{"role": "user", "content": f"Passages:\n{PASSAGES}\nQuestion: {question}"}])
            reply = "".join(e.choices[0].delta.content or "" for e in stream if e.choices)
            if reply != NOT_FOUND:
                assert re.fullmatch(r'[A-Z"][^\[\]\n.?!]{8,160} \[[1-9]\]\.(?: [A-Z"][^\[\]\n.?!]{8,160} \[[1-9]\]\.)*',
                                    reply), reply
                assert all(claim.cited for claim in read_reply(reply, ["", ""]).claims), reply
    finally:
        proxy.shutdown()
