"""Benchmark of the coordinators' queue: python bench/queue.py  (or `make bench`).

Seeds 100,000 referrals across 50 clinics and 1,000 referring providers into a fresh
PostgreSQL database (COPY, a few seconds), serves the portal with gunicorn (2 workers) on
127.0.0.1, signs a coordinator in and measures with wrk, each for --seconds: the queue's first
page, a filtered page, page 200, and a trivial route (a static file through the same app).
Prints p50/p99 latency, requests/s, the queue-to-trivial throughput ratio, and the SQL
statements one queue page costs. The benchmarked clinic holds 10,000 referrals (the other 49
share 90,000), so that page 200 of 25 exists.

Needs: PostgreSQL at --admin-url, gunicorn (pip install -e '.[bench]'), wrk (apt-get install
wrk; installed automatically when running as root).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's `queue` (which psycopg imports): drop it, put the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.queue_seed import (  # noqa: E402 - after the sys.path fix above
    CLINICS,
    PASSWORD,
    PROVIDERS,
    REFERRALS,
    TOTP_SECRET,
    seed,
)

COOKIE = "__Host-portal_session"  # the production cookie name
PAGES = {
    "queue, first page": "/triage/",
    "queue, filtered": "/triage/?" + urlencode({"urgency": "urgent", "modality": "spravato"}),
    "queue, page 200": "/triage/?page=200",
    "trivial route": "/static/css/portal.css",
}


def sh(*args: str, env: dict | None = None) -> None:
    subprocess.run(args, check=True, cwd=ROOT, env=env)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        sh("apt-get", "install", "-y", "-q", "wrk")
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("wrk is missing: sudo apt-get install wrk")


PHASES = {  # where a queue request's time goes: (file suffix, function) -> label
    ("portal/auth/sessions.py", "load"): "sign-in check (session, user, clinic)",
    ("portal/triage/queue.py", "queue_page"): "queue: SQL and rows",
    ("flask/templating.py", "render_template"): "template rendering",
    ("portal/audit/chain.py", "chain_pending"): "audit chain (the sequencer, after the commit)",
}


def phase_shares(request_once) -> dict[str, float]:
    """Each PHASES function's share of 20 requests' time, measured with cProfile."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        request_once()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (.., .., own, cumulative, ..)
    whole = sum(s[2] for s in stats.values())  # every function's own time, added up
    phases = {}
    for (file, _line, name), (_cc, _nc, _own, cumulative, _callers) in stats.items():
        for (suffix, function), label in PHASES.items():
            if name == function and file.endswith(suffix):
                phases[label] = phases.get(label, 0.0) + cumulative / whole
    return phases


def in_process_profile(url: str) -> tuple[dict[str, int], dict[str, tuple[float, float]], dict]:
    """In one process on the seeded database: the SQL statements one queue page costs, where
    a request's time goes (mean total ms and ms spent in SQL statements, 20 requests), and the
    queue's first page split into phases (share of the time under cProfile). Each request
    has its own app context and database session, as under gunicorn."""
    # PORTAL_ONE_WORKER: the benchmark measures the queue, not the rate limits (no Redis here).
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(16),
        PORTAL_ENV="production",
        PORTAL_ONE_WORKER="1",
    )
    from sqlalchemy import event

    from config import ProductionConfig
    from portal import create_app
    from portal.extensions import db

    class BenchConfig(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = os.environ["SECRET_KEY"]

    app = create_app(BenchConfig)
    counts, split = {}, {}
    client = app.test_client()
    with app.app_context():
        # A live server-side session for the coordinator, as after the password and the code
        # (the HTTP sign-in itself is exercised against gunicorn below).
        from portal.auth.models import User
        from portal.auth.sessions import SESSION_KEY, create_record

        _row, token = create_record(db.session.get(User, 1), mfa=True)
        db.session.commit()
        engine = db.engine
    with client.session_transaction(base_url="https://localhost") as session:
        session["_user_id"], session["_fresh"], session[SESSION_KEY] = "1", True, token

    def get(path: str) -> int:
        response = client.get(path, base_url="https://localhost")
        response.close()
        return response.status_code

    for label, path in (("25 a page", "/triage/"), ("100 a page", "/triage/?per_page=100")):
        statements: list[str] = []

        def listener(conn, cursor, statement, *rest, seen=statements):
            seen.append(statement)

        get(path)  # warm: first-use loads
        event.listen(engine, "before_cursor_execute", listener)
        assert get(path) == 200
        event.remove(engine, "before_cursor_execute", listener)
        counts[label] = len(statements)
        if os.environ.get("BENCH_SHOW_SQL"):
            print(f"-- {label}", *(" ".join(s.split())[:110] for s in statements), sep="\n")
    sql_time: list[float] = []

    def started(conn, *args):
        conn.info["started"] = time.perf_counter()

    def ended(conn, *args):
        sql_time.append(time.perf_counter() - conn.info["started"])

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    for label, path in PAGES.items():
        get(path)
        sql_time.clear()
        begin = time.perf_counter()
        for _ in range(20):
            get(path)
        total = (time.perf_counter() - begin) / 20 * 1000
        split[label] = (total, sum(sql_time) / 20 * 1000)
    event.remove(engine, "before_cursor_execute", started)
    event.remove(engine, "after_cursor_execute", ended)
    phases = phase_shares(lambda: get(PAGES["queue, first page"]))
    engine.dispose()
    return counts, split, phases


@contextmanager
def gunicorn(url: str, port: int):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(16),
        "PORTAL_ENV": "production",
        "PORTAL_ONE_WORKER": "1",  # the queue is measured, not the rate limits
    }
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "portal:create_app()"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                request(port, "GET", "/login")
                break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def request(port: int, method: str, path: str, body: str = "", cookie: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response, response.read().decode()


def _cookie(response, previous: str = "") -> str:
    match = re.search(rf"{COOKIE}=[^;]+", response.getheader("Set-Cookie") or "")
    return match.group(0) if match else previous


def sign_in(port: int) -> str:
    """The coordinator's session cookie after the password and the authenticator code (the
    Secure flag is for browsers; wrk sends the cookie over plain HTTP anyway)."""
    import pyotp

    response, page = request(port, "GET", "/login")
    cookie = _cookie(response)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urlencode({"email": "coordinator@bench.test", "password": PASSWORD, "csrf_token": token})
    response, _ = request(port, "POST", "/login", form, cookie)
    assert response.status == 302, "sign-in failed at the password step"
    cookie = _cookie(response, cookie)
    response, page = request(port, "GET", "/two-step/code", cookie=cookie)
    cookie = _cookie(response, cookie)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    code = pyotp.TOTP(TOTP_SECRET).now()
    form = urlencode({"code": code, "csrf_token": token})
    response, _ = request(port, "POST", "/two-step/code", form, cookie)
    assert response.status == 302, "sign-in failed at the code step"
    return _cookie(response, cookie)


def parse_wrk(output: str) -> tuple[float, float, float]:
    def ms(value: str) -> float:
        match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
        if match is None:
            sys.exit(f"cannot read wrk's latency {value!r} in:\n{output}")
        number, unit = match.groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]

    p50 = ms(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))
    p99 = ms(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    if "Non-2xx" in output:
        sys.exit("some responses were errors:\n" + output)
    return p50, p99, rps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default="bench_queue")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    from cryptography.fernet import Fernet

    # Production refuses to start without a data key; a throwaway one serves the benchmark.
    os.environ.setdefault("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    wrk = ensure_wrk()
    python = str(ROOT / ".venv/bin/python")
    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{args.database}"
    sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
    sh(python, "scripts/pg_database.py", "create", args.admin_url, args.database)
    try:
        started = time.perf_counter()
        sh(
            str(ROOT / ".venv/bin/flask"),
            "--app",
            "portal",
            "db",
            "upgrade",
            env={**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"},
        )
        seed(f"postgresql://{host}/{args.database}")
        print(
            f"seeded {REFERRALS:,} referrals, {CLINICS} clinics, {PROVIDERS:,} providers "
            f"in {time.perf_counter() - started:.1f} s"
        )
        per_page, split, phases = in_process_profile(url)
        print(
            "SQL statements per queue page: " + ", ".join(f"{n} ({k})" for k, n in per_page.items())
        )
        print("in one process, mean of 20 requests (where the time goes):")
        for label, (total, sql) in split.items():
            print(f"  {label:<20} {total:6.1f} ms: SQL {sql:5.1f} ms, Python {total - sql:5.1f} ms")
        print("the queue's first page in phases (share of its time, under cProfile):")
        for label, share in phases.items():
            print(f"  {label:<40} {share:6.1%}")
        results = {}
        with gunicorn(url, args.port):
            cookie = sign_in(args.port)
            for label, path in PAGES.items():
                response, page = request(args.port, "GET", path, cookie=cookie)
                assert response.status == 200, (label, response.status)
                assert label == "trivial route" or "KR-" in page, label
                # Warm up first (new workers compile templates and prepare statements).
                subprocess.run(
                    [wrk, "-t", "1", "-c", str(args.connections), "-d", "2s",
                     "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{args.port}{path}"],
                    check=True, capture_output=True,
                )  # fmt: skip
                out = subprocess.run(
                    [wrk, "-t", "1", "-c", str(args.connections), "-d", f"{args.seconds}s",
                     "--latency", "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{args.port}{path}"],
                    check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                results[label] = parse_wrk(out)
        print(
            f"\nwrk, {args.connections} connections, {args.seconds} s each, gunicorn 2 sync workers"
        )
        print(f"{'route':<20} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9}")
        for label, (p50, p99, rps) in results.items():
            print(f"{label:<20} {p50:>8.1f} {p99:>8.1f} {rps:>9.1f}")
        trivial = results["trivial route"][2]
        for label, (_, p99, rps) in results.items():
            if label != "trivial route":
                ratio = rps / trivial
                print(
                    f"{label}: p99 {p99:.1f} ms (goal < 50: {'met' if p99 < 50 else 'MISSED'}), "
                    f"throughput {ratio:.2f} of the trivial route "
                    f"(goal >= 0.20: {'met' if ratio >= 0.2 else 'MISSED'})"
                )
        most = max(per_page.values())
        print(f"SQL statements per page: {most} (goal <= 8: {'met' if most <= 8 else 'MISSED'})")
    finally:
        if not args.keep:
            sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
