"""A rest-hook receiver for the tests: a real threaded HTTP server on 127.0.0.1 that keeps what
it was posted (it can answer 500 or redirect), and a runner of the job queue as a worker runs it
(the retries once their time has come). tests/fhir/conftest.py has the `receiver` fixture."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portal.jobs import huey


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps what it was posted; it can answer 500."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.fail_next = 0
        self.redirect = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if receiver.redirect and self.path == "/hook":
                    self.send_response(307)
                    self.send_header("Location", "/elsewhere")
                    self.end_headers()
                    return
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.posts.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})  # fmt: skip
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_queue(jobs) -> None:
    """What a worker does: run the queue, and the retries once their time has come."""
    for _ in range(10):
        jobs.run()
        due = huey.read_schedule(datetime.now(UTC).replace(tzinfo=None))
        if not due:
            return
        for task in due:
            huey.enqueue(task)
