"""Referral submit speed: the POST that sends a complete intake. Not part of `make test`.

    .venv/bin/python bench/submit.py [--submits 60] [--database-url URL]

On a throwaway SQLite database (or the PostgreSQL database given, which it empties) seeded
with the demo, the demo referrer signs in through the real sign-in page, then sends
`--submits` complete referrals through /referrals/new, each from a freshly opened form (the
GET is not timed). Prints the median and the 99th percentile of the submit POST in ms: wall
time, and the CPU time of this process (the app and, on SQLite, the database), which a busy
machine disturbs far less than the wall time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue: the project root replaces bench/.
sys.path[0] = str(ROOT)

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')


def _app(url: str, queue: Path):
    from config import DevelopmentConfig
    from portal import create_app

    # The job queue in the throwaway folder too (the submit enqueues its acknowledgement
    # letter there; a developer's own queue is never touched). Nothing runs the jobs.
    settings = {"SQLALCHEMY_DATABASE_URI": url, "QUEUE_SQLITE_PATH": str(queue)}
    return create_app(type("BenchConfig", (DevelopmentConfig,), settings))


def _prepare(app) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal.demo import seed
    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed()
        db.session.commit()


def _token(page: str) -> str:
    return CSRF_RE.search(page).group(1)


def _submits(app, count: int) -> list[tuple[float, float]]:
    from tests.factories.referrals import intake_form

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    signed = client.post(
        "/login",
        data={
            "email": "referrer@demo.test",
            "password": "ketamine-demo-2026",
            "csrf_token": _token(page),
        },
    )
    assert signed.status_code == 302, "the demo referrer could not sign in"
    times = []
    for n in range(count + 1):
        page = client.get("/referrals/new").get_data(as_text=True)
        data = intake_form(form_key=KEY_RE.search(page).group(1), csrf_token=_token(page))
        start, cpu = time.perf_counter(), time.process_time()
        response = client.post("/referrals/new", data=data)
        elapsed = (time.perf_counter() - start) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        assert response.status_code == 302, f"submit {n} answered {response.status_code}"
        if n:  # the first is the warm-up (templates, fonts, imports)
            times.append((elapsed, cpu_ms))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="submit-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = _app(url, Path(tmp) / "queue.sqlite3")
        app.config["RATELIMIT_ENABLED"] = False
        _prepare(app)
        times = _submits(app, args.submits)
    dialect = url.split(":", 1)[0]
    wall, cpu = [t[0] for t in times], [t[1] for t in times]
    print(
        f"referral submit POST, {args.submits} submits on {dialect}: "
        f"median {statistics.median(wall):.0f} ms, p99 {_p99(wall):.0f} ms wall; "
        f"CPU of this process median {statistics.median(cpu):.0f} ms, p99 {_p99(cpu):.0f} ms"
    )


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[-1]


if __name__ == "__main__":
    main()
