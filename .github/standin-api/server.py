"""Answers GET /api/v1/health and /health with {"status": "ok"} on HIVE_API_PORT.

It also reports whether the stack's keys reached it (names only, never values),
so the CI job can check the container's environment without printing a secret.
"""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

EXPECTED = ("HIVE_DATABASE_URL", "HIVE_API_KEY", "OS_SECURITY_KEY", "POSTGRES_PASSWORD", "HIVE_API_PORT")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in ("/api/v1/health", "/health"):
            body = {"status": "ok", "keys_present": sorted(k for k in EXPECTED if os.environ.get(k))}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the job reads health, not access logs."""


HTTPServer(("0.0.0.0", int(os.environ.get("HIVE_API_PORT", "8886"))), Handler).serve_forever()
