"""Create or drop a PostgreSQL database for a CI run: pg_database.py create|drop ADMIN_URL NAME."""

from __future__ import annotations

import re
import sys

import psycopg


def main(action: str, admin_url: str, name: str) -> int:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        print(f"refusing database name {name!r}", file=sys.stderr)
        return 2
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL is unreachable at {admin_url}: {error}", file=sys.stderr)
        return 1
    with conn:
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(("created" if action == "create" else "dropped") + f" database {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
