"""Create the PostgreSQL database named in DATABASE_URL if it does not exist (scripts/serve
with SERVE_CREATE_DB=1): serve_db.py DATABASE_URL. Connects to the server's `postgres`
database as the same user to create it."""

from __future__ import annotations

import re
import sys

import psycopg
from sqlalchemy.engine import make_url


def main(url: str) -> int:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        print(f"serve_db: not a PostgreSQL URL ({parsed.drivername})", file=sys.stderr)
        return 2
    name = parsed.database or ""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        print(f"serve_db: refusing database name {name!r}", file=sys.stderr)
        return 2
    admin = parsed.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found:
            print(f"serve_db: database {name} exists")
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"serve_db: created database {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
