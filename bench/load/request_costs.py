"""Where one request's time goes, on the load test's database: python bench/load/request_costs.py

In one process, with the production configuration and the database bench/load/run.py seeded
(run it first; --database as there), each page is requested --requests times as a signed-in
user (a live server-side session, as after the password and the code) or anonymously. Prints,
per page: mean wall and CPU ms, the CPU ms of this database's PostgreSQL backends (from /proc:
the server runs on this machine), SQL statements and SQL ms per request, and the share of the
time (cProfile, all pages together) spent in each phase every signed-in request pays: the
session check, the audit write and its chaining, template rendering, the view's own queries.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench" / "load"]
sys.path.insert(0, str(ROOT))

# (file suffix, function) -> phase; cumulative time, so a phase includes what it calls.
PHASES = {
    ("portal/auth/sessions.py", "load"): "session check (Flask-Login loader, session row, user)",
    ("portal/audit/service.py", "record"): "audit rows (record)",
    ("portal/audit/chain.py", "chain_pending"): "audit chain (sequencer after commit)",
    ("sqlalchemy/orm/session.py", "commit"): "commits (incl. the chain after them)",
    ("flask/templating.py", "render_template"): "template rendering",
    ("sqlalchemy/engine/base.py", "_execute_context"): "SQL statements (all)",
    ("flask_wtf/csrf.py", "protect"): "CSRF check",
}


def build_app(url: str, redis_db: int):
    keys = ROOT / "instance" / f"load-keys-{url.rsplit('/', 1)[1]}.env"
    if not keys.exists():
        sys.exit(f"run bench/load/run.py first: {keys} is missing")
    os.environ.update(line.split("=", 1) for line in keys.read_text().split())
    os.environ.update(
        PORTAL_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(32),
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        QUEUE_NAME="portal-load",
        AUDIT_CHECKPOINT_PATH=str(ROOT / "instance" / "load-profile-checkpoint.json"),
    )
    import bench.load.wsgi as wsgi

    return wsgi.app


def signed_in_client(app, user_id: int):
    from portal.auth.models import User
    from portal.auth.sessions import SESSION_KEY, create_record
    from portal.extensions import db

    with app.app_context():
        _row, token = create_record(db.session.get(User, user_id), mfa=True)
        db.session.commit()
    client = app.test_client()
    with client.session_transaction(base_url="https://localhost") as session:
        session["_user_id"], session["_fresh"], session[SESSION_KEY] = str(user_id), True, token
    return client


def print_phases(profiler: cProfile.Profile) -> None:
    stats = pstats.Stats(profiler).stats
    whole = sum(s[2] for s in stats.values())
    shares: dict[str, float] = {}
    for (file, _line, name), (_cc, _nc, _own, cumulative, _callers) in stats.items():
        for (suffix, function), label in PHASES.items():
            if name == function and file.endswith(suffix):
                shares[label] = shares.get(label, 0.0) + cumulative / whole
    print("\nshare of the signed-in and public pages' time (cProfile, 10 requests each):")
    for label, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<56} {share:6.1%}")
    print("\nfunctions with the most own time:")
    top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:12]
    for (file, line, name), (_cc, calls, own, _cum, _callers) in top:
        where = "/".join(Path(file).parts[-2:])
        print(f"  {own / whole:6.1%} {calls:>7} calls  {name} ({where}:{line})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/portal_load"
    )
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    app = build_app(args.database_url, args.redis_db)
    from sqlalchemy import event, text

    from bench.load.sampling import backends, process_cpu
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
        referrer = db.session.scalar(  # a provider with a typical number of referrals
            text(
                "SELECT referrer_id FROM referral GROUP BY referrer_id "
                "ORDER BY count(*) LIMIT 1 OFFSET 500"
            )
        )
        referral = db.session.scalar(
            text("SELECT id FROM referral WHERE referrer_id = :r ORDER BY id LIMIT 1"),
            {"r": referrer},
        )
        mine = db.session.scalar(
            text("SELECT count(*) FROM referral WHERE referrer_id = :r"), {"r": referrer}
        )
        code = db.session.scalar(
            text("SELECT verify_code FROM letter WHERE verify_code IS NOT NULL LIMIT 1")
        )
    anonymous = app.test_client()
    coordinator = signed_in_client(app, 1)
    provider = signed_in_client(app, referrer)
    pages = {
        "anonymous /bench/hello": (anonymous, "/bench/hello"),
        "public verify page": (anonymous, f"/verify/{code}"),
        "coordinator queue (clinic 1, 10k)": (coordinator, "/triage/"),
        f"referrer dashboard ({mine} referrals)": (provider, "/referrals/"),
        "referrer referral page": (provider, f"/referrals/{referral}"),
    }
    statements: list[float] = []

    def started(conn, *rest):
        conn.info["t"] = time.perf_counter()

    def ended(conn, *rest):
        statements.append(time.perf_counter() - conn.info["t"])

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    profiler = cProfile.Profile()
    addresses = itertools.count(1)

    def get(client, path: str):
        """Each request from its own address: the verification page's per-address limit
        is not what is measured."""
        n = next(addresses)
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        return client.get(path, base_url="https://localhost", environ_base={"REMOTE_ADDR": address})

    plain_url = args.database_url.replace("+psycopg", "")

    def database_cpu() -> dict[int, float]:
        return {pid: process_cpu(pid) for pid in backends(plain_url)}

    costs: dict[str, float] = {}  # page -> CPU ms per request, this process + PostgreSQL

    def measure(title: str, profile: bool) -> None:
        print(
            f"\n{title}\n{'page':<42} {'wall ms':>8} {'CPU ms':>7} {'PG CPU':>7} {'SQL n':>6} "
            f"{'SQL ms':>7}"
        )
        for label, (client, path) in pages.items():
            status = get(client, path).status_code  # warm
            assert status == 200, (label, status)
            statements.clear()
            before = database_cpu()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.requests):
                get(client, path).close()
            wall = (time.perf_counter() - wall) / args.requests * 1000
            cpu = (time.process_time() - cpu) / args.requests * 1000
            after = database_cpu()
            pg = sum(t - before.get(pid, 0.0) for pid, t in after.items()) / args.requests * 1000
            count, sql = len(statements) / args.requests, sum(statements) / args.requests * 1000
            print(f"{label:<42} {wall:>8.1f} {cpu:>7.1f} {pg:>7.1f} {count:>6.1f} {sql:>7.1f}")
            costs[label] = cpu + pg
            if profile and "hello" not in label:
                profiler.enable()
                for _ in range(10):
                    get(client, path).close()
                profiler.disable()

    measure(f"as production runs (mean of {args.requests} requests each):", profile=True)
    queue = next(v for k, v in costs.items() if k.startswith("coordinator queue"))
    hello = costs["anonymous /bench/hello"]
    print(
        f"hello / queue, CPU of this process + PostgreSQL per request: {hello / queue:.3f}x "
        "(a proxy for issue 14's throughput ratio, goal >= 0.10x)"
    )
    # The audit chain's sequencer runs after every commit that wrote audit rows: its cost.
    app.config["AUDIT_CHAIN_INLINE"] = False
    measure("the same without the inline audit chain (AUDIT_CHAIN_INLINE off):", profile=False)
    app.config["AUDIT_CHAIN_INLINE"] = True
    with app.app_context():
        from portal.audit.chain import chain_pending

        print(f"(then chained the {chain_pending(wait=True)} rows left)")
    print_phases(profiler)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
