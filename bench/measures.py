"""Benchmark of the clinic's measures page on PostgreSQL (not part of `make test`).

Creates a fresh database, seeds one clinic's referrals over two years with their timeline
events, courses, sessions, scores, appointments and letters (bench/measures_seed.py), first
10,000 then 90,000 more, and after each batch requests the measures page in one process (the
Flask app under its production configuration, a signed-in coordinator, each request with its
own database session as under a WSGI server): the SQL statements a page costs, and p50/p99
latency of the default page (last 90 days) and of longer ranges.

    .venv/bin/python bench/measures.py [--admin-url URL] [--requests 60] [--keep]
    .venv/bin/python bench/measures.py --reuse --database NAME   # a database seeded before

With --keep the seeded database stays; --reuse then measures it again without seeding (at its
size only). Wall time, CPU time of this process (the app and the client; PostgreSQL's own
work is in "SQL ms") and the load average are printed beside each other: the machine may be
shared.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The script's own folder holds queue.py, which would hide the standard library's queue.
sys.path[0] = str(ROOT)

from bench.measures_seed import seed_people, seed_referrals  # noqa: E402

GOAL_P99_MS = 500
AUDIT_KEY = "bench:YmVuY2gtb25seS1hdWRpdC1rZXktbm90LXNlY3JldC0wMDAwMDA"  # not a secret


def sh(*args: str, env: dict | None = None) -> None:
    subprocess.run(args, check=True, cwd=ROOT, env=env, capture_output=True)


def pages(today: date) -> dict[str, str]:
    year = (today - timedelta(days=364)).isoformat()
    everything = (today - timedelta(days=729)).isoformat()
    return {
        "last 90 days (default)": "/measures/",
        "last 365 days": f"/measures/?start={year}",
        "two years (every referral)": f"/measures/?start={everything}",
        "90 days, one practice": "/measures/?practice=7",
    }


def make_client(url: str):
    os.environ.update(DATABASE_URL=url, SECRET_KEY=secrets.token_hex(16), PORTAL_ENV="production")
    # Production refuses to start without audit keys and a job queue (one worker here).
    os.environ.setdefault("AUDIT_KEYS", AUDIT_KEY)
    os.environ.setdefault("PORTAL_ONE_WORKER", "1")
    from config import ProductionConfig
    from portal import create_app
    from portal.extensions import db

    class BenchConfig(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = os.environ["SECRET_KEY"]
        AUDIT_KEYS = os.environ["AUDIT_KEYS"]  # the class read it when config was imported

    app = create_app(BenchConfig)
    client = app.test_client()
    with app.app_context():
        from portal.auth.models import User
        from portal.auth.sessions import SESSION_KEY, create_record

        _row, token = create_record(db.session.get(User, 1), mfa=True)
        db.session.commit()
        engine = db.engine
    with client.session_transaction(base_url="https://localhost") as session:
        session["_user_id"], session["_fresh"], session[SESSION_KEY] = "1", True, token
    return client, engine


def measure(client, engine, paths: dict[str, str], requests: int) -> dict[str, tuple]:
    """Per page: statements, p50 ms, p99 ms (nearest rank), mean ms spent in SQL, requests,
    mean CPU ms of this process per request."""
    from sqlalchemy import event

    cpu: list[float] = []

    def get(path: str) -> float:
        begin, begin_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, base_url="https://localhost")
        assert response.status_code == 200, (path, response.status_code)
        response.close()
        cpu.append(time.process_time() - begin_cpu)
        return (time.perf_counter() - begin) * 1000

    out = {}
    for label, path in paths.items():
        statements: list[str] = []
        sql: list[float] = []

        def counted(conn, cursor, statement, *rest, seen=statements):
            seen.append(statement)
            conn.info["t"] = time.perf_counter()

        def timed(conn, *rest, spent=sql):
            spent.append(time.perf_counter() - conn.info["t"])

        get(path)  # warm: first-use loads, template compilation
        event.listen(engine, "before_cursor_execute", counted)
        event.listen(engine, "after_cursor_execute", timed)
        counts = []
        for _ in range(3):  # the least of three: the sign-in record is touched every 10 s
            statements.clear()
            get(path)
            counts.append(len(statements))
        count = min(counts)
        sql.clear()
        cpu.clear()
        n = requests if "default" in label else max(10, requests // 3)
        times = sorted(get(path) for _ in range(n))
        event.remove(engine, "before_cursor_execute", counted)
        event.remove(engine, "after_cursor_execute", timed)
        p99 = times[max(0, -(-99 * len(times) // 100) - 1)]
        out[label] = (
            count,
            statistics.median(times),
            p99,
            sum(sql) * 1000 / n,
            n,
            sum(cpu) * 1000 / n,
        )
        if os.environ.get("BENCH_SHOW_SQL"):
            print(f"-- {label}", *(" ".join(s.split())[:120] for s in statements), sep="\n")
    return out


def report(title: str, results: dict[str, tuple]) -> None:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\n{title} (load average {load}; {os.cpu_count()} cores)")
    print(
        f"{'page':<28} {'SQL':>4} {'p50 ms':>8} {'p99 ms':>8} {'SQL ms':>8} {'CPU ms':>8} {'n':>4}"
    )
    for label, (count, p50, p99, sql, n, cpu) in results.items():
        print(f"{label:<28} {count:>4} {p50:>8.1f} {p99:>8.1f} {sql:>8.1f} {cpu:>8.1f} {n:>4}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default="bench_measures")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database seeded before (kept)"
    )
    parser.add_argument(
        "--default-only", action="store_true", help="only the default page (last 90 days)"
    )
    args = parser.parse_args()
    from cryptography.fernet import Fernet

    os.environ.setdefault("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    python = str(ROOT / ".venv/bin/python")
    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{args.database}"
    plain = f"postgresql://{host}/{args.database}"
    if args.reuse:
        return remeasure(url, plain, args.requests, args.default_only)
    sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
    sh(python, "scripts/pg_database.py", "create", args.admin_url, args.database)
    try:
        sh(
            str(ROOT / ".venv/bin/flask"), "--app", "portal", "db", "upgrade",
            env={**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"},
        )  # fmt: skip
        # The clinic's calendar day (CLINIC_TIMEZONE, New York by default).
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from config import Config

        today = datetime.now(ZoneInfo(Config.CLINIC_TIMEZONE)).date()
        seed_people(plain)
        client = engine = None
        results = {}
        for first, count in ((1, 10_000), (10_001, 90_000)):
            started = time.perf_counter()
            rows = seed_referrals(plain, first, count, today)
            total = first + count - 1
            print(
                f"seeded referrals {first:,}-{total:,} in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{n:,} {t}" for t, n in rows.items())
            )
            if client is None:
                client, engine = make_client(url)
            results[total] = measure(client, engine, pages(today), args.requests)
            report(f"{total:,} referrals with their events", results[total])
        small, big = results[10_000], results[100_000]
        same = all(small[k][0] == big[k][0] for k in small)
        p99 = big["last 90 days (default)"][2]
        print(
            f"\nmeasures page over 100,000 referrals: p99 {p99:.1f} ms "
            f"(goal < {GOAL_P99_MS}: {'met' if p99 < GOAL_P99_MS else 'MISSED'}); "
            f"statements per page {', '.join(str(v[0]) for v in big.values())} at 100,000 and "
            f"{', '.join(str(v[0]) for v in small.values())} at 10,000 "
            f"(constant as data grows: {'met' if same else 'MISSED'})"
        )
        engine.dispose()
    finally:
        if not args.keep:
            sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
    return 0


def remeasure(url: str, plain: str, requests: int, default_only: bool = False) -> int:
    """Measure a database seeded before, as it is (its migrations applied first)."""
    import psycopg

    from config import Config

    sh(
        str(ROOT / ".venv/bin/flask"), "--app", "portal", "db", "upgrade",
        env={**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"},
    )  # fmt: skip
    with psycopg.connect(plain) as conn:
        total = conn.execute("SELECT count(*) FROM referral").fetchone()[0]
        newest = conn.execute("SELECT max(submitted_at) FROM referral").fetchone()[0]
    from zoneinfo import ZoneInfo

    today = newest.astimezone(ZoneInfo(Config.CLINIC_TIMEZONE)).date()
    client, engine = make_client(url)
    paths = pages(today)
    if default_only:
        paths = {k: v for k, v in paths.items() if "default" in k}
    results = measure(client, engine, paths, requests)
    report(f"{total:,} referrals with their events", results)
    p99 = results["last 90 days (default)"][2]
    print(f"\np99 {p99:.1f} ms (goal < {GOAL_P99_MS}: {'met' if p99 < GOAL_P99_MS else 'MISSED'})")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
