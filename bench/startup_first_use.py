"""What the work deferred from start-up costs when it comes. Not part of `make test`.

    .venv/bin/python bench/startup_first_use.py [--runs 5] [--before DIR]

bench/startup.py measures `import portal; create_app()`; work taken out of it (the mapper
configuration, the job queue, prometheus-client, ...) is paid later, by the first request or
job that needs it. Each run is a fresh interpreter on a migrated SQLite file (the testing
config, the queue in an SQLite file as in development) that times, one after another:
1. `import portal; create_app()`;
2. the first request: GET /login (a page, its template, the CSRF token, the request metrics);
3. the first ORM query: the newest referral (mapper configuration, the database's first
   connection);
4. the first job queued: the acknowledgement job, as a submission queues it;
5. the same three again (the steady state, for comparison).
Medians of wall and CPU time; with --before DIR, another checkout (`git archive main | tar -x
-C DIR`) the same way, the two taking turns. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
from flask_migrate import upgrade
from portal import create_app
with create_app("testing").app_context():
    upgrade()
"""

PROBE = """
import json, time
steps = {}
def timed(name, work):
    w, c = time.perf_counter(), time.process_time()
    work()
    steps[name] = (time.perf_counter() - w, time.process_time() - c)

holder = {}
def build():
    import portal
    holder["app"] = portal.create_app("testing")
timed("create_app()", build)
app = holder["app"]
client = app.test_client()

def page():
    assert client.get("/login").status_code == 200

def query():
    from sqlalchemy import select
    from portal.extensions import db
    from portal.referrals.models import Referral
    with app.app_context():
        db.session.scalars(select(Referral).order_by(Referral.id.desc()).limit(1)).all()
        db.session.remove()

def enqueue():
    from portal.letters.tasks import acknowledge_task
    acknowledge_task(1)

for suffix in ("first", "again"):
    timed(f"{suffix}: GET /login", page)
    timed(f"{suffix}: ORM query", query)
    timed(f"{suffix}: job queued", enqueue)
print(json.dumps(steps))
"""


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    env["TEST_DATABASE_URL"] = f"sqlite:///{folder / 'portal.sqlite3'}"
    env["TEST_QUEUE_SQLITE_PATH"] = str(folder / "queue.sqlite3")
    for name in ("DATABASE_URL", "TEST_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    return env


def _run(code: str, root: Path, folder: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**_env(folder), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another checkout to measure beside this one")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, runs: {args.runs}")
    roots = {"this checkout": ROOT}
    if args.before:
        roots["before"] = args.before.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name, root in roots.items():
            folders[name] = Path(tmp) / name.replace(" ", "_")
            folders[name].mkdir()
            _run(SETUP, root, folders[name])
            _run(PROBE, root, folders[name])  # warms the caches (and compiles the bytecode)
        results: dict[str, list[dict]] = {name: [] for name in roots}
        for _ in range(args.runs):
            for name, root in roots.items():
                results[name].append(json.loads(_run(PROBE, root, folders[name])))
    for name, rows in results.items():
        print(f"{name} ({roots[name]}): median wall / CPU, ms")
        for step in rows[0]:
            wall = statistics.median(r[step][0] for r in rows) * 1000
            cpu = statistics.median(r[step][1] for r in rows) * 1000
            print(f"  {step:24} wall {wall:7.1f}  cpu {cpu:7.1f}")
        total = [sum(v[1] for k, v in r.items() if not k.startswith("again")) for r in rows]
        print(f"  {'create_app + firsts':24} cpu {statistics.median(total) * 1000:7.1f} (sum)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
