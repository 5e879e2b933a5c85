"""Answers every GET with the pod's name (its hostname), so a test sees which replica
answered; logs each request to stdout (for `kubectl logs`); exits at once on SIGTERM."""

import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {socket.gethostname()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print("request", format % args, flush=True)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("smoke server listening on 8080", flush=True)
HTTPServer(("", 8080), Handler).serve_forever()
