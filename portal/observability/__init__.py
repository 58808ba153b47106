"""Running the portal in production, observed: a request id on every request and error page,
one JSON log line per request and per job, Prometheus metrics, and the load balancer's probes
(/healthz, /readyz) and the scraper's /metrics answered in front of the app (probes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Before the other request hooks, so the request's clock and id start first."""
    from portal.observability import job_log, request_log

    request_log.init_app(app)
    job_log.connect()


def wrap(app: Flask) -> None:
    """After every other WSGI middleware (ProxyFix): the probes and /metrics see the address
    that connected, never one a client wrote into X-Forwarded-For."""
    from portal.observability.probes import Probes

    app.wsgi_app = Probes(app.wsgi_app, app)  # type: ignore[method-assign]
