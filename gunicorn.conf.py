"""gunicorn's settings for `make serve` / scripts/serve (production): gunicorn -c gunicorn.conf.py.
Each value can be overridden from the environment (names below) or by gunicorn's own flags."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

wsgi_app = "portal:create_app()"
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")

# Sync workers, as gunicorn recommends for a CPU-light app behind a buffering proxy: each
# holds one database connection of its own. 2 x cores + 1 unless WEB_CONCURRENCY says. Measured
# with bench/load/run.py, issue 14's mix (250 users, ~31 req/s offered, 120 s, the job worker
# at niceness 10) on 2 cores with nothing else running: 5 workers served 36.6 req/s, p50 35 ms,
# p99 240 ms, acknowledgement letters 2.3 s after the submit; 3 workers 36.8 req/s, p50 42 ms,
# p99 340 ms, the letters falling behind (23 still waiting at the end).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request taking longer than this is killed (letters render in the job worker, not here);
# a worker finishing its requests on restart gets as long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (a slow leak never grows unbounded); jitter spreads restarts.
max_requests = 2000
max_requests_jitter = 200

# --preload: the app (and its imports) is built once in the master and shared by the
# forked workers (copy-on-write): less memory, and a broken configuration stops the master
# itself with its one line instead of each worker failing in a loop. Connections made by the
# master are dropped in each worker (post_fork).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"

# Access log on stdout with no path, query string or referrer: paths carry secrets
# (/password-reset/<token>, /invite/<token>, a calendar feed's /<token>.ics). Method, status,
# response size, duration and the request id; the portal's own JSON line per request (on
# stderr, portal/observability/request_log.py) has the route template under that request id.
# tests/test_gunicorn_conf.py keeps path atoms out of this format.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = "%(m)s %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The proxy in front that may set X-Forwarded-*; the portal's PROXY_HOPS decides what to trust.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "portal"
# gunicorn 24+ opens a control socket at ~/.gunicorn/gunicorn.ctl by default: one path for
# every gunicorn of the user, so two portals on one machine would fight over it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# Prometheus multiprocess mode: every worker (and the job worker) writes its samples under
# this folder, which must be emptied before the first process starts (scripts/serve does).
# Set before the app (and prometheus_client) is imported.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(__file__).resolve().parent / "instance" / "prometheus")
)
Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def when_ready(server):
    """The master is ready, before it forks the workers: preloaded, it does now what the app
    otherwise leaves to first use (portal/warm.py), once for all its workers."""
    if server.cfg.preload_app:
        from portal.warm import warm_up

        warm_up()


def post_fork(server, worker):
    """A worker starts: it must not share the master's pooled database connections."""
    from portal.extensions import db

    with server.app.wsgi().app_context():  # the Flask app (built in the master when preloaded)
        db.engine.dispose(close=False)


def post_worker_init(worker):
    """Compute the sign-in's stand-in password hash now, not on the first unknown email."""
    from portal.auth.passwords import prepare_dummy_hash

    prepare_dummy_hash()


def child_exit(server, worker):
    """A worker ended: its live gauges leave the sums (counters and histograms stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
