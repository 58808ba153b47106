"""Benchmark of issue 17's queue tabs, in one process: python bench/daily_work.py

Seeds the queue benchmark's data (100,000 referrals, 50 clinics; bench/queue_seed.py) into a
fresh PostgreSQL database and, through the app in one process (no gunicorn or wrk needed),
prints the SQL statements one queue page costs and the mean time of 20 requests (SQL and
Python) of the "Needs action" tab (the default), the Open tab, page 200 of Open and the
Scheduled tab, against the queue's goals (p99 < 50 ms under wrk: here a mean well below;
at most 8 statements a page).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import bench.queue as queue_bench  # noqa: E402 - after the sys.path fix above
from bench.queue_seed import CLINICS, REFERRALS, seed  # noqa: E402

PAGES = {
    "queue, first page": "/triage/",  # the Needs action tab, the default
    "open": "/triage/?state=open",
    "open, page 200": "/triage/?state=open&page=200",
    "scheduled": "/triage/?state=scheduled",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database", default="bench_daily_work")
    args = parser.parse_args()
    from cryptography.fernet import Fernet

    os.environ.setdefault("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    python = str(ROOT / ".venv/bin/python")
    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{host}/{args.database}"
    queue_bench.sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)
    queue_bench.sh(python, "scripts/pg_database.py", "create", args.admin_url, args.database)
    try:
        started = time.perf_counter()
        queue_bench.sh(
            str(ROOT / ".venv/bin/flask"), "--app", "portal", "db", "upgrade",
            env={**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"},
        )  # fmt: skip
        seed(f"postgresql://{host}/{args.database}")
        print(f"seeded {REFERRALS:,} referrals in {CLINICS} clinics in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        queue_bench.PAGES = PAGES
        per_page, split, _phases = queue_bench.in_process_profile(url)
        print("SQL statements per queue page: "
              + ", ".join(f"{n} ({k})" for k, n in per_page.items()))  # fmt: skip
        print("in one process, mean of 20 requests:")
        for label, (total, sql) in split.items():
            print(f"  {label:<24} {total:6.1f} ms: SQL {sql:5.1f} ms, Python {total - sql:5.1f} ms")
        most = max(per_page.values())
        print(f"SQL statements per page: {most} (goal <= 8: {'met' if most <= 8 else 'MISSED'})")
    finally:
        queue_bench.sh(python, "scripts/pg_database.py", "drop", args.admin_url, args.database)


if __name__ == "__main__":
    main()
