"""Benchmark of the audit trail: python bench/audit.py [--rows 1000000] [--admin-url URL]

On a fresh PostgreSQL database (made and dropped with scripts/pg_database.py), prints:

1. Audit writes and the chain's lock (issue 14 item 3). Four "slow" writers each hold their
   transaction open 200 ms after writing an audit row (standing for the acknowledgement PDF a
   referral submit renders), while four "fast" writers write an audit row and commit (an
   audited page view). Run twice: "before" takes the chain head's row lock at the first audit
   write and holds it to the commit, as the previous chain did; "after" is the portal's code
   (insert only; the sequencer links the rows after the commit). Prints fast writes' p50/p99,
   throughput, and whether the chain verifies.
2. `audit verify` on a trail of --rows events (seeded with COPY, linked with the real key):
   10,000 new events since the checkpoint verified incrementally, then the whole trail
   (--all), each with its time and the process's peak RSS over its baseline.
3. The CSV export of the whole trail through the admin's route, streamed: time, rows, bytes
   and peak RSS over the baseline; and "before", the previous export (rows built in memory,
   capped at 100,000), for comparison.
4. The audit log page (50 events, keyset): p50/p99 and SQL statements, first page, a page deep
   in the trail, and filtered by a referral number.

Each measured part runs in a child process of its own, so that peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

KEY = "bench:YmVuY2gtb25seS1hdWRpdC1rZXktbm90LXNlY3JldC0wMDAwMDA"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(url: str, checkpoint: str):
    os.environ["PORTAL_ENV"] = "testing"
    from config import TestingConfig

    class Config(TestingConfig):
        TESTING = False  # production behaviour: no test-only checks
        SQLALCHEMY_DATABASE_URI = url
        AUDIT_KEYS = KEY
        AUDIT_CHECKPOINT_PATH = checkpoint
        WTF_CSRF_ENABLED = False

    from portal import create_app

    return create_app(Config)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- part 1: the lock ---------------------------------------------------------------------


def part_lock(url: str, checkpoint: str, mode: str, seconds: float) -> dict:
    from sqlalchemy import text

    from portal.audit.chain import chain_pending
    from portal.audit.service import record
    from portal.audit.verification import verify
    from portal.extensions import db

    app = make_app(url, checkpoint)
    stop = time.monotonic() + seconds
    fast_ms: list[float] = []
    slow_done = [0]
    errors: list[BaseException] = []

    def write(hold: float) -> float:
        started = time.perf_counter()
        if mode == "before":  # the previous chain: every writer serialises on the head row
            db.session.execute(text("UPDATE audit_chain_head SET appended = appended WHERE id = 1"))
        record("bench.write", "referral", 1)
        db.session.flush()
        if hold:
            time.sleep(hold)
        db.session.commit()
        return (time.perf_counter() - started) * 1000

    def worker(hold: float) -> None:
        try:
            with app.app_context():
                while time.monotonic() < stop:
                    ms = write(hold)
                    if hold:
                        slow_done[0] += 1
                    else:
                        fast_ms.append(ms)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with app.app_context():
        if mode == "before":
            app.config["AUDIT_CHAIN_INLINE"] = False  # the old chain linked in the request
        record("bench.start")
        db.session.commit()
    threads = [threading.Thread(target=worker, args=(0.2,)) for _ in range(4)]
    threads += [threading.Thread(target=worker, args=(0.0,)) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    with app.app_context():
        chain_pending()
        report = verify(db.session)
        db.session.remove()
    if errors:
        raise errors[0]
    return {
        "fast_p50_ms": percentile(fast_ms, 50),
        "fast_p99_ms": percentile(fast_ms, 99),
        "fast_per_s": len(fast_ms) / elapsed,
        "slow_per_s": slow_done[0] / elapsed,
        "chain_ok": report.ok,
    }


# --- part 2: seeding and verify -----------------------------------------------------------


def seed(url: str, checkpoint: str, rows: int) -> dict:
    """`rows` events, linked with the real canonical form and key, written with COPY."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from portal.audit import chain
    from portal.audit import checkpoint as checkpoints
    from portal.audit.keys import parse
    from portal.extensions import db

    app = make_app(url, checkpoint)
    started = time.monotonic()
    keys = parse(KEY)
    secret = keys.secret("bench")
    base = datetime(2025, 1, 1, tzinfo=UTC)

    class Row:
        __slots__ = (
            "id",
            "at",
            "actor_id",
            "actor_role",
            "action",
            "object_type",
            "object_id",
            "ip",
            "outcome",
            "detail",
        )

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            mac = ""
            with cur.copy(
                "COPY audit_event (id, at, actor_id, actor_role, action, object_type, "
                "object_id, ip, outcome, detail, seq, key_id, prev_hash, row_hash) FROM STDIN"
            ) as copy:
                row = Row()
                for i in range(1, rows + 1):
                    row.id, row.at = i, base + timedelta(seconds=i * 30)
                    row.actor_id, row.actor_role = None, "coordinator"
                    row.action = ("referral.view", "letter.view", "referral.list")[i % 3]
                    row.object_type = "referral" if i % 3 != 1 else "letter"
                    row.object_id, row.ip, row.outcome, row.detail = (
                        i % 5000 + 1,
                        "10.0.0.1",
                        "ok",
                        "",
                    )
                    prev = mac
                    mac = chain._mac(secret, chain.canonical(row, i, prev, "bench"))
                    copy.write_row(
                        (
                            i,
                            row.at,
                            None,
                            row.actor_role,
                            row.action,
                            row.object_type,
                            row.object_id,
                            row.ip,
                            "ok",
                            "",
                            i,
                            "bench",
                            prev,
                            mac,
                        )
                    )
            cur.execute(
                "UPDATE audit_chain_head SET appended = %s, head_mac = %s WHERE id = 1",
                (rows, mac),
            )
            cur.execute("SELECT setval('audit_event_id_seq', %s)", (rows,))
            raw.commit()
        finally:
            raw.close()
        db.session.execute(text("ANALYZE audit_event"))
        db.session.commit()
        checkpoints.write(rows, mac, rows, reset=True)
    return {"seconds": time.monotonic() - started}


def part_verify(url: str, checkpoint: str, new_rows: int, runs: int = 5) -> dict:
    """Incremental verify of `new_rows` events `runs` times (the checkpoint is not moved by
    `verify` itself: only the CLI writes one after success), then --all once."""
    from portal.audit.chain import chain_pending
    from portal.audit.service import record
    from portal.audit.verification import verify
    from portal.extensions import db

    app = make_app(url, checkpoint)
    with app.app_context():
        for n in range(new_rows // 100):  # 10,000 new events, committed 100 at a time
            for _ in range(100):
                record("bench.new", "referral", n)
            db.session.commit()
        chain_pending()
        db.session.remove()
        base = peak_mb()
        walls, cpus = [], []
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            incremental = verify(db.session)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            db.session.remove()
        started, cpu = time.perf_counter(), time.process_time()
        full = verify(db.session, all=True)
        full_s, full_cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
    return {
        "runs": runs,
        "incremental_p50_s": statistics.median(walls),
        "incremental_max_s": max(walls),
        "incremental_cpu_s": statistics.median(cpus),
        "incremental_checked": incremental.checked,
        "incremental_ok": incremental.ok,
        "full_s": full_s,
        "full_cpu_s": full_cpu,
        "full_checked": full.checked,
        "full_ok": full.ok,
        "rss_over_baseline_mb": peak_mb() - base,
    }


# --- part 3: the CSV export -----------------------------------------------------------------


def _admin(app):
    from portal.auth.models import User
    from portal.auth.sessions import SESSION_KEY, create_record
    from portal.extensions import db
    from portal.roles import Role

    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        if admin is None:
            admin = User(
                email="bench-admin@example.test",
                full_name="Bench",
                role=Role.ADMIN,
                password_hash="!",  # noqa: S106 - no password signs this account in
            )
            db.session.add(admin)
            db.session.commit()
        _row, token = create_record(admin, mfa=True)
        db.session.commit()
        uid = admin.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(uid)
        session["_fresh"] = True
        session[SESSION_KEY] = token
    return client


def part_csv(url: str, checkpoint: str, mode: str) -> dict:
    app = make_app(url, checkpoint)
    client = _admin(app)
    if mode == "before":
        return _old_csv(app)
    client.get(
        "/admin/audit.csv", query_string={"date_from": "2025-01-01", "date_to": "2025-01-01"}
    )
    base = peak_mb()
    started = time.perf_counter()
    response = client.get(
        "/admin/audit.csv",
        query_string={"date_from": "2020-01-01", "date_to": "2030-12-31"},
        buffered=False,
    )
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return {
        "status": response.status_code,
        "rows": lines - 1,
        "mb": size / 1e6,
        "seconds": time.perf_counter() - started,
        "rss_over_baseline_mb": peak_mb() - base,
    }


def _old_csv(app) -> dict:
    """The export before this change: ORM rows into a list, capped at 100,000."""
    import csv
    import io

    from sqlalchemy import select

    from portal.audit.models import AuditEvent
    from portal.extensions import db

    with app.app_context():
        base = peak_mb()
        started = time.perf_counter()
        events = list(
            db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(100_000))
        )
        out = io.StringIO()
        writer = csv.writer(out)
        for e in events:
            writer.writerow(
                (
                    e.id,
                    e.at.isoformat(),
                    e.actor_id,
                    "",
                    e.actor_role,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.outcome,
                    e.ip,
                    e.detail,
                    e.row_hash,
                )
            )
        body = "".join(out.getvalue())
        return {
            "rows": len(events),
            "mb": len(body) / 1e6,
            "seconds": time.perf_counter() - started,
            "rss_over_baseline_mb": peak_mb() - base,
        }


# --- part 4: the audit log page ---------------------------------------------------------


def part_viewer(url: str, checkpoint: str, rows: int) -> dict:
    from sqlalchemy import event

    from portal.extensions import db

    app = make_app(url, checkpoint)
    client = _admin(app)
    statements = [0]
    with app.app_context():
        engine = db.engine

    def count(*args, **kwargs):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    pages = {
        "first page": {},
        "deep page (keyset)": {"before": rows // 2},
        "by referral number": {"referral": "KR-000021"},
    }
    out = {}
    for name, args in pages.items():
        times = []
        for i in range(40):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get("/admin/audit", query_string=args)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            if i == 0:
                per_request = statements[0]
        out[name] = {
            "p50_ms": statistics.median(times),
            "p99_ms": percentile(times, 99),
            "statements": per_request,
        }
    return out


# --- orchestration --------------------------------------------------------------------------


def child(part: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", part, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        sys.exit(f"part {part} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", nargs="+")
    parser.add_argument(
        "--only", choices=("lock", "verify", "csv", "viewer"), help="run one part only"
    )
    args = parser.parse_args()
    if args.child:
        part, *rest = args.child
        functions = {
            "lock": part_lock,
            "seed": seed,
            "verify": part_verify,
            "csv": part_csv,
            "viewer": part_viewer,
            "upgrade": upgrade,
        }
        converted = [
            int(x) if x.isdigit() else (float(x) if x.replace(".", "").isdigit() else x)
            for x in rest
        ]
        print(json.dumps(functions[part](*converted)))
        return
    name = f"portal_bench_audit_{os.getpid()}"
    admin = args.admin_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(
        [sys.executable, "scripts/pg_database.py", "create", admin, name],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    checkpoint = str(Path(tempfile.mkdtemp()) / "audit-checkpoint.json")
    try:
        child("upgrade", url, checkpoint)
        _parts(args, admin, name, url, checkpoint)
    finally:
        subprocess.run(
            [sys.executable, "scripts/pg_database.py", "drop", admin, name],
            check=False,
            cwd=ROOT,
            capture_output=True,
        )


def _wanted(args, part: str) -> bool:
    return args.only in (None, part)


def _parts(args, admin: str, name: str, url: str, checkpoint: str) -> None:
    if _wanted(args, "lock"):
        print("1. Audit writes while 4 writers hold their transaction 200 ms after an audit row")
        print(f"   (4 fast writers: audit row + commit; {args.seconds:g} s each)")
        for mode in ("before", "after"):
            r = child("lock", url, checkpoint, mode, str(args.seconds))
            print(
                f"   {mode:6}  fast writes p50 {r['fast_p50_ms']:7.1f} ms  p99 "
                f"{r['fast_p99_ms']:7.1f} ms  {r['fast_per_s']:7.1f}/s   slow writers "
                f"{r['slow_per_s']:5.1f}/s   chain verifies: {r['chain_ok']}"
            )
        if args.only:
            return
    for action in ("drop", "create"):
        subprocess.run(
            [sys.executable, "scripts/pg_database.py", action, admin, name],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    Path(checkpoint).unlink(missing_ok=True)
    child("upgrade", url, checkpoint)
    r = child("seed", url, checkpoint, str(args.rows))
    print(f"\n2. audit verify ({args.rows:,} events seeded and linked in {r['seconds']:.0f} s)")
    if _wanted(args, "verify"):
        r = child("verify", url, checkpoint, "10000")
        print(
            f"   10,000 new events since the checkpoint, {r['runs']} runs: p50 "
            f"{r['incremental_p50_s']:.2f} s wall, {r['incremental_cpu_s']:.2f} s CPU, max "
            f"{r['incremental_max_s']:.2f} s ({r['incremental_checked']:,} checked, intact: "
            f"{r['incremental_ok']}; goal < 1 s)"
        )
        print(
            f"   --all: {r['full_s']:.1f} s wall, {r['full_cpu_s']:.1f} s CPU "
            f"({r['full_checked']:,} checked, intact: {r['full_ok']}); peak RSS over "
            f"baseline {r['rss_over_baseline_mb']:.1f} MB"
        )
        print(f"   load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if _wanted(args, "csv"):
        print("\n3. CSV export")
        r = child("csv", url, checkpoint, "before")
        print(
            f"   before (in memory, capped): {r['rows']:,} rows, {r['mb']:.0f} MB in "
            f"{r['seconds']:.1f} s, peak RSS over baseline {r['rss_over_baseline_mb']:.0f} MB"
        )
        r = child("csv", url, checkpoint, "after")
        print(
            f"   after (streamed): {r['rows']:,} rows, {r['mb']:.0f} MB in {r['seconds']:.1f} s,"
            f" peak RSS over baseline {r['rss_over_baseline_mb']:.1f} MB (goal < 50 MB)"
        )
    if _wanted(args, "viewer"):
        r = child("viewer", url, checkpoint, str(args.rows))
        print(f"\n4. Audit log page at {args.rows + 10_000:,} events (40 requests each)")
        for page, f in r.items():
            print(
                f"   {page:22} p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms  "
                f"{f['statements']} SQL statements"
            )


def upgrade(url: str, checkpoint: str) -> dict:
    from flask_migrate import upgrade as run_upgrade

    app = make_app(url, checkpoint)
    with app.app_context():
        run_upgrade()
    return {}


if __name__ == "__main__":
    main()
