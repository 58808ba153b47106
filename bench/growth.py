"""Benchmark of the pages that grow with a clinic's data (issue 14): python bench/growth.py

On a fresh PostgreSQL database (made and dropped with scripts/pg_database.py), the app under
its production configuration in one process (each request with its own database session, as
under a WSGI server), signed in through real sign-in records:

1. 200 referrals of one referring provider (bench/growth_seed.py: every state, timeline,
   courses, sessions, PHQ-9 scores, booked visits, letters, messages); the provider's
   dashboard (all, a group, a state, a name search, a later page); one referral in care, with
   a short history added (5 events, 3 messages, a file, a letter): its page as the provider
   and as the coordinator, its course page as the clinician.
2. 1,803 more (2,003), and that referral given 200 more events, 100 messages, 20 attachments
   and 10 letters; the same pages again.
3. With --audit-rows N (1,000,000 by default, 0 to skip): the audit log viewer and the
   streamed CSV export over N events, through bench/audit.py's own parts (on a database of
   their own).

Prints per page: SQL statements per request, p50/p99 wall time, mean CPU time per request,
HTML size, and each part's peak RSS (each part runs in a child process of its own), with the
machine's load average. Goal (issue 14): p99 < 100 ms at the large size, and statements that
do not grow with the data.

    .venv/bin/python bench/growth.py [--admin-url URL] [--requests 40] [--audit-rows 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The script's own folder holds queue.py, which would hide the standard library's queue.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

GOAL_P99_MS = 100
AUDIT_KEY = "bench:YmVuY2gtb25seS1hdWRpdC1rZXktbm90LXNlY3JldC0wMDAwMDA"
HTTPS = "https://localhost"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(url: str):
    from cryptography.fernet import Fernet

    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(16),
        PORTAL_ENV="production",
        PORTAL_DATA_KEYS=os.environ.get("PORTAL_DATA_KEYS") or Fernet.generate_key().decode(),
        AUDIT_KEYS=AUDIT_KEY,
        PORTAL_ONE_WORKER="1",
        AUDIT_CHECKPOINT_PATH=str(Path(tempfile.gettempdir()) / f"growth-ckpt-{os.getpid()}.json"),
    )
    from config import ProductionConfig
    from portal import create_app

    class BenchConfig(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = os.environ["SECRET_KEY"]
        PORTAL_DATA_KEYS = os.environ["PORTAL_DATA_KEYS"]
        AUDIT_KEYS = AUDIT_KEY
        AUDIT_CHECKPOINT_PATH = os.environ["AUDIT_CHECKPOINT_PATH"]
        WTF_CSRF_ENABLED = False  # the name search is a POST

    app = create_app(BenchConfig)
    from portal.warm import warm_up

    warm_up()  # as gunicorn.conf.py's when_ready does in production (preloaded master)
    return app


def signed_in(app, user_id: int):
    from portal.auth.models import User
    from portal.auth.sessions import SESSION_KEY, create_record
    from portal.extensions import db

    with app.app_context():
        _row, token = create_record(db.session.get(User, user_id), mfa=True)
        db.session.commit()
    client = app.test_client()
    with client.session_transaction(base_url=HTTPS) as session:
        session["_user_id"], session["_fresh"], session[SESSION_KEY] = str(user_id), True, token
    return client


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(p) * len(ordered) // 100) - 1)]


# --- child parts --------------------------------------------------------------------------


def part_seed(url: str, first: int, count: int, history: int) -> dict:
    """Seed `count` referrals from `first`; with `history`, the long history of the referral
    the pages show. The first call also seeds the people."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from bench.growth_seed import seed_history, seed_people, seed_referrals
    from portal.extensions import db
    from portal.referrals.models import Referral
    from portal.referrals.states import State

    app = make_app(url)
    people_file = Path(tempfile.gettempdir()) / f"growth-people-{Path(url).name}.json"
    started = time.perf_counter()
    with app.app_context():
        if first == 1:
            people = seed_people()
            people_file.write_text(json.dumps(people))
        people = json.loads(people_file.read_text())
        today = datetime.now(ZoneInfo(app.config["CLINIC_TIMEZONE"])).date()
        written = seed_referrals(people, first, count, today)
        shown = db.session.scalar(
            select(Referral.id)
            .where(Referral.state == State.IN_TREATMENT)
            .order_by(Referral.id)
            .limit(1)
        )
        if history:  # the referral the pages show: a short history, then a long one
            seed_history(people, shown, events=200, messages=100, first_letter=2)
        else:
            seed_history(people, shown, events=5, messages=3)
    return {
        "seconds": time.perf_counter() - started,
        "rows": written,
        "people": people,
        "shown": shown,
    }


def part_pages(url: str, people_json: str, shown: int, requests: int) -> dict:
    from sqlalchemy import event

    from portal.extensions import db

    people = json.loads(people_json)
    app = make_app(url)
    with app.app_context():
        engine = db.engine
    referrer = signed_in(app, people["referrer"])
    coordinator = signed_in(app, people["coordinator"])
    clinician = signed_in(app, people["clinician"])
    pages = {
        "dashboard, all": (referrer, "/referrals/", None),
        "dashboard, in progress": (referrer, "/referrals/?show=active", None),
        "dashboard, one state": (referrer, "/referrals/?state=in_treatment", None),
        "dashboard, name search": (referrer, "/referrals/", {"q": "patient1"}),
        "dashboard, page 3": (referrer, "/referrals/?page=3", None),
        "referral page, provider": (referrer, f"/referrals/{shown}", None),
        "referral page, coordinator": (coordinator, f"/referrals/{shown}", None),
        "course page, clinician": (clinician, f"/treatment/referrals/{shown}/course", None),
    }
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):
        statements.append(statement)

    def get(client, path, data) -> tuple[float, float, int]:
        wall, cpu = time.perf_counter(), time.process_time()
        if data is None:
            response = client.get(path, base_url=HTTPS)
        else:
            response = client.post(path, data=data, base_url=HTTPS)
        body = response.get_data()
        assert response.status_code == 200, (path, response.status_code)
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, len(body)

    base = peak_mb()
    out = {}
    for label, (client, path, data) in pages.items():
        get(client, path, data)  # warm: templates, first-use loads
        event.listen(engine, "before_cursor_execute", seen)
        counts, least = [], []
        for _ in range(3):  # the least of three: the sign-in record is touched every 10 s
            statements.clear()
            get(client, path, data)
            counts.append(len(statements))
            if len(statements) == min(counts):
                least = [" ".join(s.split())[:110] for s in statements]
        event.remove(engine, "before_cursor_execute", seen)
        walls, cpus, size = [], [], 0
        for _ in range(requests):
            wall, cpu, size = get(client, path, data)
            walls.append(wall)
            cpus.append(cpu)
        out[label] = {
            "statements": min(counts),
            "p50_ms": statistics.median(walls),
            "p99_ms": percentile(walls, 99),
            "cpu_ms": statistics.mean(cpus),
            "html_kb": size / 1024,
            "sql": least,
        }
    return {"pages": out, "peak_rss_mb": peak_mb(), "rss_over_baseline_mb": peak_mb() - base}


PARTS = {"seed": part_seed, "pages": part_pages}


def child(script: Path, part: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(script), "--child", part, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    if result.returncode:
        sys.exit(f"part {part} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- orchestration ------------------------------------------------------------------------


def database(admin: str, name: str, action: str) -> None:
    subprocess.run(
        [sys.executable, "scripts/pg_database.py", action, admin, name],
        check=action == "create",
        cwd=ROOT,
        capture_output=True,
    )


def upgrade(url: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "portal", "db", "upgrade"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"},
    )


def report(title: str, result: dict, show_sql: bool) -> None:
    print(f"\n{title}   (part's peak RSS {result['peak_rss_mb']:.0f} MB)")
    print(f"  {'page':<28} {'SQL':>4} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'HTML KB':>8}")
    for label, f in result["pages"].items():
        print(
            f"  {label:<28} {f['statements']:>4} {f['p50_ms']:>8.1f} {f['p99_ms']:>8.1f} "
            f"{f['cpu_ms']:>8.1f} {f['html_kb']:>8.0f}"
        )
        if show_sql:
            print(*(f"      {s}" for s in f["sql"]), sep="\n")


def audit_parts(admin: str, rows: int) -> None:
    """The audit viewer and the CSV export over `rows` events, by bench/audit.py's parts."""
    script = ROOT / "bench" / "audit.py"
    name = f"portal_bench_growth_audit_{os.getpid()}"
    database(admin, name, "drop")
    database(admin, name, "create")
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    checkpoint = str(Path(tempfile.mkdtemp()) / "audit-checkpoint.json")
    try:
        child(script, "upgrade", url, checkpoint)
        r = child(script, "seed", url, checkpoint, str(rows))
        print(f"\n3. Audit trail of {rows:,} events (seeded in {r['seconds']:.0f} s)")
        r = child(script, "viewer", url, checkpoint, str(rows))
        for page, f in r.items():
            print(
                f"  audit viewer, {page:22} p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms"
                f"  {f['statements']} SQL statements"
            )
        r = child(script, "csv", url, checkpoint, "after")
        print(
            f"  CSV export (streamed): {r['rows']:,} rows, {r['mb']:.0f} MB in "
            f"{r['seconds']:.1f} s, peak RSS over baseline {r['rss_over_baseline_mb']:.1f} MB"
            " (goal < 50 MB)"
        )
    finally:
        database(admin, name, "drop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        part, *rest = args.child
        values = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(PARTS[part](*values)))
        return 0
    admin = args.admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"portal_bench_growth_{os.getpid()}"
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    script = Path(__file__).resolve()
    started, cpu = time.monotonic(), os.times()
    database(admin, name, "create")
    try:
        upgrade(url)
        results = {}
        for first, count, history in ((1, 200, 0), (201, 1803, 1)):
            seeded = child(script, "seed", url, str(first), str(count), str(history))
            people, shown = json.dumps(seeded["people"]), str(seeded["shown"])
            total = first + count - 1
            print(
                f"\nseeded referrals {first:,}-{total:,} in {seeded['seconds']:.1f} s: "
                + ", ".join(f"{n:,} {t}" for t, n in seeded["rows"].items())
            )
            results[total] = child(script, "pages", url, people, shown, str(args.requests))
            extra = (
                "; the referral shown: 200 more events, 100 messages, 20 files, 10 letters"
                if history
                else "; the referral shown: 5 events, 3 messages, a file, a letter"
            )
            report(f"{total:,} referrals of one provider{extra}", results[total], args.show_sql)
        small, big = results[200]["pages"], results[2003]["pages"]
        grew = [k for k in big if big[k]["statements"] > small[k]["statements"]]
        slow = [k for k in big if big[k]["p99_ms"] >= GOAL_P99_MS]
        print(
            f"\nstatements that grew from 200 to 2,003: {', '.join(grew) or 'none'}; "
            f"pages at or over p99 {GOAL_P99_MS} ms at 2,003: {', '.join(slow) or 'none'}"
        )
    finally:
        database(admin, name, "drop")
    if args.audit_rows:
        audit_parts(admin, args.audit_rows)
    used = os.times()
    print(
        f"\nwall {time.monotonic() - started:.0f} s; CPU of this process and its parts "
        f"{used.user + used.system + used.children_user + used.children_system - sum(cpu[:4]):.0f}"
        f" s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
