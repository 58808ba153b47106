"""A request id for every request (a sane incoming X-Request-ID, else a new one), in the
response's X-Request-ID header and on error pages; one JSON log line per request and its
latency in the metrics. The line has the route template (/referrals/<int:referral_id>), never
the path or the query string, and the user's id, never a name: no PHI."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request

log = logging.getLogger("portal.requests")
# What a proxy or a load balancer may send: letters, digits, dashes, dots, underscores.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


def new_request_id(incoming: str | None) -> str:
    if incoming and REQUEST_ID_RE.match(incoming):
        return incoming
    return uuid.uuid4().hex


class CurrentStderr(logging.Handler):
    """Each line to the sys.stderr of the moment (gunicorn and the worker collect it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never fail a request
            self.handleError(record)


def json_logger(name: str, *, stderr: bool = True) -> logging.Logger:
    """A logger of bare JSON lines, to stderr unless told not to (the tests read it with a
    handler of their own); never through Flask's app logger, whose format would wrap them."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if stderr and not any(isinstance(h, CurrentStderr) for h in logger.handlers):
        logger.addHandler(CurrentStderr())
    return logger


def line(**fields) -> str:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({"time": now, **fields}, separators=(",", ":"))


def _user_id() -> int | None:
    # The user Flask-Login already loaded for this request, if any: no query of our own.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def init_app(app: Flask) -> None:
    json_logger(log.name, stderr=not app.testing)

    @app.before_request
    def start_request():
        g.request_started = time.perf_counter()
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))

    @app.after_request
    def log_request(response):
        started = g.get("request_started")
        request_id = g.get("request_id") or new_request_id(None)
        response.headers["X-Request-ID"] = request_id
        if started is None:  # refused before the first hook ran
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        # prometheus-client is imported by the first request, not when the app is built.
        from portal.observability.metrics import REQUEST_SECONDS

        REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(seconds)
        log.info(
            line(
                kind="request",
                request_id=request_id,
                method=request.method,
                route=route,
                status=response.status_code,
                duration_ms=round(seconds * 1000, 1),
                user_id=_user_id(),
            )
        )
        return response
