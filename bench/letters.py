"""Letter rendering speed. Not part of `make test`.

    .venv/bin/python bench/letters.py [--letters 200] [--renders 20]

1. Renders the demo course's final treatment summary `--renders` times in one warm process
   and prints the median and the 90th percentile in ms (goal: median under 500 ms).
2. Adds `--letters` draft letters for the demo's completed courses (interim progress letters
   1..N, each the full clinical letter of 2-3 pages) and renders them all with
   `flask --app portal letters generate-due`, once with one process and once with every
   core, on two copies of the same database; prints letters per second and the speed-up
   (goal: at least 1.7 times the single-process rate on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _app(url: str):
    from config import DevelopmentConfig
    from portal import create_app

    # The URL is given to the class itself: config.py reads DATABASE_URL once, at import.
    return create_app(type("BenchConfig", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": url}))


def _prepare(folder: Path, letters: int) -> tuple[Path, int]:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal.demo import seed
    from portal.extensions import db
    from portal.letters.models import DRAFT, FINAL, INTERIM, SUMMARY, Letter
    from portal.referrals.models import Referral
    from portal.referrals.states import State

    path = folder / "bench.sqlite3"
    app = _app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        seed()
        db.session.commit()
        summary = db.session.scalar(
            select(Letter).where(Letter.kind == SUMMARY, Letter.status == FINAL)
        )
        completed = list(
            db.session.scalars(select(Referral).where(Referral.state == State.COMPLETED))
        )
        for n in range(letters):
            referral = completed[n % len(completed)]
            db.session.add(
                Letter(
                    referral_id=referral.id,
                    kind=INTERIM,
                    sequence=1000 + n,
                    version=1,
                    status=DRAFT,
                    narrative="Progress so far: better sleep and energy.\n\nNo new concerns.",
                    recommendations="Continue the series as planned.",
                )
            )
        db.session.commit()
        return path, summary.id


def _warm_renders(path: Path, letter_id: int, renders: int) -> list[float]:
    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.letters.service import render_letter

    app = _app(f"sqlite:///{path}")
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        render_letter(letter)  # warm-up: fonts, templates, imports
        times = []
        for _ in range(renders):
            start = time.perf_counter()
            render_letter(letter)
            times.append((time.perf_counter() - start) * 1000)
        return times


def _generate(path: Path, workers: int) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PORTAL_ENV": "development"}
    command = [
        str(ROOT / ".venv" / "bin" / "flask"),
        "--app",
        "portal",
        "letters",
        "generate-due",
        "--workers",
        str(workers),
    ]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    summary = result.stdout.strip().splitlines()[-1]
    return elapsed, int(re.search(r"(\d+) draft\(s\) rendered", summary).group(1)), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="letters-bench-") as tmp:
        folder = Path(tmp)
        path, summary_id = _prepare(folder, args.letters)
        times = _warm_renders(path, summary_id, args.renders)
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(
            f"final summary, {args.renders} warm renders: median {median:.0f} ms, "
            f"p90 {p90:.0f} ms (goal: median < 500 ms)"
        )
        single, parallel = folder / "single.sqlite3", folder / "parallel.sqlite3"
        shutil.copy(path, single)
        shutil.copy(path, parallel)
        one_s, one_n, one_out = _generate(single, 1)
        many_s, many_n, many_out = _generate(parallel, cores)
        one_rate, many_rate = one_n / one_s, many_n / many_s
        print(f"generate-due, 1 process:  {one_rate:.1f} letters/s ({one_s:.1f} s) [{one_out}]")
        print(
            f"generate-due, {cores} processes: {many_rate:.1f} letters/s ({many_s:.1f} s) "
            f"[{many_out}]"
        )
        print(f"speed-up: {many_rate / one_rate:.2f}x on {cores} cores (goal: >= 1.7x)")


if __name__ == "__main__":
    main()
