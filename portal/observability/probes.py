"""/healthz, /readyz and /metrics, answered in front of the Flask app: no session, no sign-in,
no audit row, no rate limit, no PHI. A load balancer may probe every few seconds.

- /healthz: the process answers (no database call).
- /readyz: the database answers, its migrations are at the head of migrations/, Redis
  answers (when REDIS_URL is set) and fewer than READY_MAX_QUEUE_DEPTH jobs wait; 503 with
  the failing check's name otherwise.
- /metrics: Prometheus text, to an address in METRICS_ALLOW (default 127.0.0.1) or to a
  request bearing METRICS_TOKEN; 403 to anyone else. A request that came through a proxy
  (it carries X-Forwarded-For, Forwarded or X-Real-IP) is never let in by its address: the
  proxy on this host connects from 127.0.0.1 for every internet client, so only the token
  opens /metrics to it."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from config import BASE_DIR
from portal.observability.request_log import new_request_id

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


class Probes:
    def __init__(self, wsgi_app: Any, app: Flask) -> None:
        self.wsgi_app, self.app = wsgi_app, app
        self.routes = {"/healthz": self.healthz, "/readyz": self.readyz, "/metrics": self.metrics}

    def __call__(self, environ: dict, start_response: Any) -> Any:
        handler = self.routes.get(environ.get("PATH_INFO", ""))
        if handler is None:
            return self.wsgi_app(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self._answer(environ, start_response, 405, b"GET only\n", "text/plain")
        status, body, content_type = handler(environ)
        return self._answer(environ, start_response, status, body, content_type)

    @staticmethod
    def _answer(environ, start_response, status: int, body: bytes, content_type: str):
        reason = {200: "OK", 403: "Forbidden", 405: "Method Not Allowed", 503: "Unavailable"}
        start_response(
            f"{status} {reason[status]}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Request-ID", new_request_id(environ.get("HTTP_X_REQUEST_ID"))),
            ],
        )
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    def healthz(self, environ: dict) -> tuple[int, bytes, str]:
        return 200, b'{"status":"ok"}\n', "application/json"

    def readyz(self, environ: dict) -> tuple[int, bytes, str]:
        checks = readiness(self.app)
        ready = all(value == "ok" for value in checks.values())
        body = json.dumps({"status": "ready" if ready else "not ready", "checks": checks})
        return (200 if ready else 503), body.encode() + b"\n", "application/json"

    def metrics(self, environ: dict) -> tuple[int, bytes, str]:
        if not metrics_allowed(self.app.config, environ):
            return 403, b"forbidden\n", "text/plain"
        from portal.observability.job_log import QueueCollector
        from portal.observability.metrics import exposition

        with self.app.app_context():
            body, content_type = exposition(QueueCollector())
        return 200, body, content_type


def metrics_allowed(config: Any, environ: dict) -> bool:
    token = config.get("METRICS_TOKEN") or ""
    sent = environ.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if any(environ.get(header) for header in _PROXIED):
        return False
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(config.get("METRICS_ALLOW", "")))


# Headers a reverse proxy adds: their presence means REMOTE_ADDR is the proxy's, not the client's.
_PROXIED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


@cache
def _networks(allow: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in allow.split(",") if part.strip())


def readiness(app: Flask) -> dict[str, str]:
    """Each check's name and "ok" or why not (never a value from the database)."""
    checks: dict[str, str] = {}
    with app.app_context():
        checks["database"], checks["migrations"] = _database(app)
        if app.config.get("REDIS_URL"):
            checks["redis"] = _redis(app.config["REDIS_URL"])
        checks["queue"] = _queue(app.config["READY_MAX_QUEUE_DEPTH"])
    return checks


def _database(app: Flask) -> tuple[str, str]:
    from sqlalchemy import text

    from portal.extensions import db

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                current = set(
                    connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            except Exception:  # noqa: BLE001 - no table: never migrated
                current = set()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        log.warning("readyz: database unreachable (%s)", type(error).__name__)
        return "unreachable", "unknown"
    heads = migration_heads(str(BASE_DIR / "migrations"))
    return "ok", "ok" if current == heads else "not at head"


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revision(s) of migrations/, read once per process (Alembic's script reader is
    imported here, on the first readiness probe, not when the app starts)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _redis(url: str) -> str:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        log.warning("readyz: Redis unreachable (%s)", type(error).__name__)
        return "unreachable"
    return "ok"


def _queue(limit: int) -> str:
    from portal.jobs import queue

    try:
        depth = queue().pending_count()
    except Exception as error:  # noqa: BLE001
        log.warning("readyz: job queue unreachable (%s)", type(error).__name__)
        return "unreachable"
    return "ok" if depth < limit else f"{depth} jobs waiting (limit {limit})"
