"""A served portal and plain HTTP clients for tests that need real parallel requests: the app
on 127.0.0.1 in a threaded WSGI server (each request its own thread, app context and
database connection), clients with their own cookies that do not follow redirects."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import make_server

from tests.conftest import CSRF_RE


@contextmanager
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    location: str
    text: str


class LiveClient:
    """One browser: its own cookie jar."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=120) as response:  # noqa: S310
                return Answer(response.status, "", response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers.get("Location", ""), error.read().decode())

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - http://127.0.0.1

    def token(self, path: str) -> str:
        page = self.get(path)
        match = CSRF_RE.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status} {page.location})"
        return match.group(1)

    def post(self, path: str, data: dict, *, token: str | None = None) -> Answer:
        body = urllib.parse.urlencode({**data, "csrf_token": token or self.token(path)}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")  # noqa: S310
        return self._open(request)


def all_at_once(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Answer]) -> Answer:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
