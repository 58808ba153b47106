"""Where the clinic measures page spends its time in PostgreSQL: each statement of the page
(the sections of portal/measures/page.py, in one transaction as a request runs them) timed
over several runs, the least time of each printed; with --explain, EXPLAIN (ANALYZE, BUFFERS)
of the slow SELECTs in the same transaction (the temporary milestones table exists there).

    .venv/bin/python bench/measures_statements.py --database bench_measfast2 [--days 365]
        [--practice 7] [--runs 5] [--explain]

Reads a database bench/measures.py seeded and kept (--keep); changes nothing in it (each run
is rolled back). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the script's folder holds queue.py, which would hide the stdlib's


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default="bench_measures")
    parser.add_argument("--days", type=int, default=90, help="the range: the last N days")
    parser.add_argument("--practice", type=int, help="one referring practice's page")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slow SELECTs")
    parser.add_argument("--slow-ms", type=float, default=10.0)
    args = parser.parse_args()
    from cryptography.fernet import Fernet

    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{args.database}"
    os.environ.setdefault("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    os.environ.update(DATABASE_URL=url, SECRET_KEY=secrets.token_hex(16), PORTAL_ENV="development")
    from sqlalchemy import event, text

    from config import Config, DevelopmentConfig
    from portal import create_app
    from portal.extensions import db

    class BenchConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        from portal.measures.page import clinic_sections, referring_practices, referring_providers
        from portal.measures.scope import Scope
        from portal.measures.sql import plan_for_measures

        zone = ZoneInfo(Config.CLINIC_TIMEZONE)
        newest = db.session.execute(text("SELECT max(submitted_at) FROM referral")).scalar_one()
        today = newest.astimezone(zone).date()
        log: list[tuple[float, str, object]] = []

        def before(conn, cursor, statement, parameters, context, many):
            conn.info["bench_t"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, many):
            spent = (time.perf_counter() - conn.info["bench_t"]) * 1000
            log.append((spent, statement, parameters))

        least: dict[int, float] = {}
        for run in range(args.runs):
            log.clear()
            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
            plan_for_measures(db.session)
            referring_practices(1)
            referring_providers(1)
            start = today - timedelta(days=args.days - 1)
            scope = Scope(
                clinic_id=1, start=start, end=today, today=today, zone=zone,
                practice_id=args.practice,
            )  # fmt: skip
            clinic_sections(scope)
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
            if args.explain and run == args.runs - 1:
                for spent, statement, parameters in log:
                    if spent < args.slow_ms or "INSERT" in statement:
                        continue
                    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                        continue
                    print(f"===== {spent:.1f} ms\n{statement}")
                    plan = db.session.connection().exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    )
                    print("\n".join(row[0] for row in plan))
            db.session.rollback()
            for i, (spent, _, _) in enumerate(log):
                least[i] = min(least.get(i, spent), spent)
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"\nleast of {args.runs} runs, ms (load average {load}; {os.cpu_count()} cores)")
        for i, (_, statement, _) in enumerate(log):
            print(f"{least[i]:8.1f}  {' '.join(statement.split())[:110]}")
        print(f"{sum(least.values()):8.1f}  in all, {len(log)} statements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
