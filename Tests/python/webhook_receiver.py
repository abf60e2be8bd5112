#!/usr/bin/env python3
"""A webhook receiver for the tests: listens on 127.0.0.1:PORT and appends every POST,
its headers and its body, as one JSON line to FILE. With --fail-first N it answers the
first N requests 503 (and records nothing for them), so that a test sees the retries.

    webhook_receiver.py PORT FILE [--fail-first N]
"""
import http.server
import json
import sys

port = int(sys.argv[1])
path = sys.argv[2]
fail_first = int(sys.argv[sys.argv.index("--fail-first") + 1]) if "--fail-first" in sys.argv else 0
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen += 1
        if seen <= fail_first:
            self.send_response(503)
            self.end_headers()
            return
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode("utf-8")}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
