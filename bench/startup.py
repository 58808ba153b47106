"""Start-up cost of the web process. Not part of `make test`.

    .venv/bin/python bench/startup.py [--runs 7] [--top 12]

Each run is a fresh interpreter. It prints, as the median of the runs, the wall and CPU time of
1. the bare Flask stack: `import flask, flask_sqlalchemy, flask_wtf, flask_login, sqlalchemy`;
2. the portal: `import portal; portal.create_app()` (development config, no request served);
and their ratio (goal: at most 2.5x). Then the heaviest imports of one portal run under
`python -X importtime` (cumulative microseconds), and whether WeasyPrint, Alembic or argon2's
hash were loaded. The machine may be loaded by other work: CPU time is the steadier figure.
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


def _one(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(code: str, runs: int) -> tuple[float, float, list[str]]:
    _one(code)  # warm the byte-code cache and the file system cache
    results = [_one(code) for _ in range(runs)]
    wall = statistics.median(r["wall"] for r in results)
    cpu = statistics.median(r["cpu"] for r in results)
    return wall, cpu, results[-1]["loaded"]


def _top(count: int) -> list[tuple[int, str]]:
    """Self time of one portal run's imports, summed per top-level package."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PORTAL],
        cwd=ROOT,
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
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, runs: {args.runs}")
    bare = _median(BARE, args.runs)
    app = _median(PORTAL, args.runs)
    print(f"bare Flask stack      wall {bare[0] * 1000:7.0f} ms   cpu {bare[1] * 1000:7.0f} ms")
    print(f"portal + create_app() wall {app[0] * 1000:7.0f} ms   cpu {app[1] * 1000:7.0f} ms")
    print(f"ratio                 wall {app[0] / bare[0]:7.2f} x    cpu {app[1] / bare[1]:7.2f} x")
    print("heavy modules loaded by create_app():", ", ".join(app[2]) or "none")
    print("heaviest packages of one portal run (-X importtime, self time summed):")
    for micros, name in _top(args.top):
        print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
