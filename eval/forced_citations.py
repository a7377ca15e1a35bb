"""A model that always cites, made from one that never does: a proxy in front of llama.cpp's OpenAI-compatible server
that adds a GBNF grammar to every chat completion, so the reply is either Newsdesk's refusal or one to three
sentences, each ending with a passage number. SmolLM2 cites nothing on its own (196 of 200 replies), so the check's
handling of cited claims, where an invented fact can pass on a passage's words, goes unmeasured without it.

    python /tmp/smol_server.py 8765 4096                # llama.cpp serving the model (see docs/quality.md)
    python eval/forced_citations.py 8766 8765           # this proxy
    OPENAI_BASE_URL=http://127.0.0.1:8766/v1 ... newsdesk eval QUESTIONS --backend openai --answers FILE

llama.cpp reads `grammar` as an extra field of the request; other servers ignore it or refuse it. An evaluation
tool, not part of Newsdesk.
"""
from __future__ import annotations

import http.client
import http.server
import json
import sys

from assistant.answering.citations import NOT_FOUND

GRAMMAR = rf'''
root ::= refusal | sentence (" " sentence)? (" " sentence)?
refusal ::= "{NOT_FOUND}"
sentence ::= [A-Z"] [^\[\]\n.?!]{{8,160}} " [" [1-9] "]."
'''


def handler(upstream: tuple[str, int]) -> type[http.server.BaseHTTPRequestHandler]:
    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.endswith("/chat/completions"):
                body["grammar"] = GRAMMAR
            conn = http.client.HTTPConnection(*upstream, timeout=600)
            conn.request("POST", self.path, json.dumps(body).encode(), {"Content-Type": "application/json"})
            self._relay(conn.getresponse())
            conn.close()

        def do_GET(self):
            conn = http.client.HTTPConnection(*upstream, timeout=60)
            conn.request("GET", self.path)
            self._relay(conn.getresponse())
            conn.close()

        def _relay(self, resp: http.client.HTTPResponse) -> None:
            """The upstream's reply as it comes (a stream of events too), re-chunked."""
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while chunk := resp.read1(65536):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its time limit): nothing to do
                pass

        def log_message(self, *args):
            pass

    return Forward


def server(port: int, upstream_port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    return http.server.ThreadingHTTPServer((host, port), handler((host, upstream_port)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python eval/forced_citations.py PORT UPSTREAM_PORT")
    server(int(sys.argv[1]), int(sys.argv[2])).serve_forever()
