"""Start-up cost of the web process. Not part of `make test`.

    .venv/bin/python bench/startup.py [--runs 7] [--top 12] [--before DIR]

Each run is a fresh interpreter. It prints, as the median of the runs, the wall and CPU time of
1. the bare Flask stack: `import flask, flask_sqlalchemy, flask_wtf, flask_login, sqlalchemy`;
2. the portal: `import portal; portal.create_app()` (development config, no request served);
and their ratio (goal: at most 2.5x); with --before DIR, the portal of another checkout too
(`git archive main | tar -x -C DIR`), the cases taking turns. Then which heavy modules each
portal run loaded, and the heaviest packages of one run under `python -X importtime` (self
time summed per package). The machine may be loaded by other work: the load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = "import flask, flask_sqlalchemy, flask_wtf, flask_login, sqlalchemy"
# The database and Redis clients production loads anyway, which huey's storage module imports
# whatever the configuration (it imports the client of every backend it finds installed).
DRIVERS = BARE + ", psycopg, redis"
PORTAL = "import portal; portal.create_app()"
HEAVY = ("weasyprint", "alembic", "flask_migrate", "fontTools", "pypdf", "PIL", "icalendar")

PROBE = """
import json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
exec({code!r})
w1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({{"wall": w1 - w0, "cpu": c1 - c0,
                  "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, PORTAL_ENV="development", PYTHONDONTWRITEBYTECODE="0")
    env.pop("DATABASE_URL", None)
    return env


def _one(code: str, root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _medians(cases: dict[str, tuple[str, Path]], runs: int) -> dict[str, tuple]:
    """Each case run `runs` times, the cases taking turns (so a change of the machine's load
    falls on all of them alike); a first run of each warms the caches."""
    results: dict[str, list[dict]] = {name: [] for name in cases}
    for code, root in cases.values():
        _one(code, root)
    for _ in range(runs):
        for name, (code, root) in cases.items():
            results[name].append(_one(code, root))
    return {
        name: (
            statistics.median(r["wall"] for r in rows),
            statistics.median(r["cpu"] for r in rows),
            rows[-1]["loaded"],
        )
        for name, rows in results.items()
    }


def _top(count: int, root: Path) -> list[tuple[int, str]]:
    """Self time of one portal run's imports, summed per top-level package."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PORTAL],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    totals: dict[str, int] = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_part, _, name = line.split("|")
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0) + int(self_part.split(":")[1])
    return sorted(((micros, name) for name, micros in totals.items()), reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout to measure beside this one (e.g. `git archive main` unpacked)",
    )
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, runs: {args.runs}")
    cases = {
        "bare Flask stack": (BARE, ROOT),
        "bare stack + psycopg, redis": (DRIVERS, ROOT),
        "portal + create_app()": (PORTAL, ROOT),
    }
    if args.before:
        cases["before: portal + create_app()"] = (PORTAL, args.before.resolve())
    figures = _medians(cases, args.runs)
    bare = figures["bare Flask stack"]
    for name, (wall, cpu, _loaded) in figures.items():
        ratio = (
            f"   ratio wall {wall / bare[0]:5.2f}x  cpu {cpu / bare[1]:5.2f}x"
            if wall != bare[0]
            else ""
        )
        print(f"{name:30} wall {wall * 1000:6.0f} ms  cpu {cpu * 1000:6.0f} ms{ratio}")
    for name, (_wall, _cpu, loaded) in figures.items():
        if name.startswith(("portal", "before")):
            print(f"{name}: heavy modules loaded: {', '.join(loaded) or 'none'}")
    drivers, portal = figures["bare stack + psycopg, redis"], figures["portal + create_app()"]
    print(
        f"portal against the bare stack with its drivers: wall {portal[0] / drivers[0]:.2f}x, "
        f"cpu {portal[1] / drivers[1]:.2f}x"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("heaviest packages of one portal run (-X importtime, self time summed):")
    for micros, name in _top(args.top, ROOT):
        print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
