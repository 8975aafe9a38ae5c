"""A recording reverse proxy for the interop suite: kern talks to it, it forwards to the server
under test (LiteLLM's proxy, llama-cpp-python's server) and keeps every request body kern sent.

Python standard library only. Each POST is appended to a JSON lines file as
`{"case": <the case>, "path": ..., "body": <the parsed JSON>, "status": ...}`, for
`validate.py` to check against the official SDKs' request types. Responses, streamed ones
included, are passed back as they arrive (the body ends when the connection closes). Bound to
127.0.0.1; stops on SIGTERM.

The case is named in the path, `/_case/<case>/v1/...` (the server gets `/v1/...`), or in an
`x-interop-case` header.

Usage: python recorder.py PORT TARGET_BASE_URL LOG_PATH   (TARGET like http://127.0.0.1:4000)
"""

import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "host",
}
TIMEOUT_S = 300


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0 answers: the body ends when the connection closes, so a stream passes unchanged.
    protocol_version = "HTTP/1.0"
    target = None
    log_path = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.forward(self.rfile.read(length))

    def forward(self, raw):
        # `/_case/<name>/rest`: the driver names its case in the path; the server sees `/rest`.
        self.case = self.headers.get("x-interop-case", "")
        if self.path.startswith("/_case/"):
            _, _, rest = self.path[len("/_case/"):].partition("/")
            self.case = self.path[len("/_case/"):].split("/", 1)[0]
            self.path = "/" + rest
        target = urllib.parse.urlsplit(self.target)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=TIMEOUT_S)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = target.netloc
        if raw is not None:
            headers["Content-Length"] = str(len(raw))
        try:
            conn.request(self.command, target.path.rstrip("/") + self.path, body=raw, headers=headers)
            response = conn.getresponse()
        except OSError as e:
            self.record(raw, 502, str(e))
            self.send_error(502, "upstream unreachable: %s" % e)
            return
        self.record(raw, response.status, None)
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while True:
                piece = response.read1(65536)
                if not piece:
                    break
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            conn.close()

    def record(self, raw, status, error):
        if raw is None:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"__not_json__": raw.decode("utf-8", "replace")}
        entry = {
            "case": self.case,
            "path": self.path.split("?")[0],
            "body": body,
            "status": status,
        }
        if error:
            entry["error"] = error
        with LOCK, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def main():
    port, target, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    Handler.target = target
    Handler.log_path = log_path
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("recorder on 127.0.0.1:%d -> %s" % (port, target), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
