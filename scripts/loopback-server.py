#!/usr/bin/env python3
"""A loopback Healthchecks stand-in for the scripts' checks of real installs.

    python3 scripts/loopback-server.py REQUESTS.LOG > PORT_FILE &

Prints the port it listens on (127.0.0.1, chosen by the system), then answers every POST
`OK` with `Ping-Body-Limit: 100000`, as the hosted service does, and every GET `OK`;
appends one line per request to REQUESTS.LOG: `POST <path> <body as a Python bytes
literal>` or `GET <path> host=<Host header>`. Under /api/v3/checks/ it is the management
API as far as `hcwrap sync` uses it (../shared/healthchecks-management-api.md): GET lists
the checks, POST with `"unique": ["slug"]` creates (201) or updates (200) one by slug.
"""

import http.server
import json
import socket
import sys
import uuid

CHECKS = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, text, headers=()):
        body = text.encode()
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def json_answer(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "a") as log:
            log.write(f"POST {self.path} {body!r}\n")
        if self.path == "/api/v3/checks/":
            fields = json.loads(body)
            slug = fields.pop("slug")
            fields.pop("unique", None)
            status = 200 if slug in CHECKS else 201
            check = CHECKS.setdefault(slug, {"slug": slug, "uuid": str(uuid.uuid4())})
            check.update(fields)
            self.json_answer(status, check)
            return
        self.answer("OK", [("Ping-Body-Limit", "100000")])

    def do_GET(self):
        with open(sys.argv[1], "a") as log:
            log.write(f"GET {self.path} host={self.headers.get('Host')}\n")
        if self.path.startswith("/api/v3/checks/"):
            self.json_answer(200, {"checks": list(CHECKS.values())})
            return
        self.answer("OK")

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
