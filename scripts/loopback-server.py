#!/usr/bin/env python3
"""A loopback Healthchecks stand-in for the scripts' checks of real installs.

    python3 scripts/loopback-server.py REQUESTS.LOG > PORT_FILE &

Prints the port it listens on (127.0.0.1, chosen by the system), then answers every POST
`OK` with `Ping-Body-Limit: 100000`, as the hosted service does, and every GET `OK`;
appends one line per request to REQUESTS.LOG: `POST <path> <body as a Python bytes
literal>` or `GET <path> host=<Host header>`.
"""

import http.server
import socket
import sys


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

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "a") as log:
            log.write(f"POST {self.path} {body!r}\n")
        self.answer("OK", [("Ping-Body-Limit", "100000")])

    def do_GET(self):
        with open(sys.argv[1], "a") as log:
            log.write(f"GET {self.path} host={self.headers.get('Host')}\n")
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
