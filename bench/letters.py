"""Letter rendering speed. Not part of `make test`.

    .venv/bin/python bench/letters.py [--letters 200] [--renders 20] [--long-only]

0. A treatment summary of a 60-session course (the demo's completed course, its sessions
   repeated to 60): `--renders` warm renders summarised (grouped rows) and with every session
   in the appendix, p50/p99 wall and CPU ms (goal: summarised p50 under 500 ms); then the web
   process's RSS before and after signing 10 such letters, once rendering in the web process
   (before: every session listed, as the letter did) and once leaving it to the job workers
   (after), each in a fresh child process.

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
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/queue.py would hide the standard library's queue module (psycopg imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
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


LONG = 60


def _long_course(path: Path) -> tuple[int, int]:
    """The demo's final summary's course, its sessions repeated up to LONG; returns a draft
    summary letter of it and its signer's id."""
    from sqlalchemy import inspect, select

    from portal.extensions import db
    from portal.letters.models import DRAFT, FINAL, SUMMARY, Letter
    from portal.treatment.models import TreatmentSession

    app = _app(f"sqlite:///{path}")
    with app.app_context():
        final = db.session.scalar(
            select(Letter).where(Letter.kind == SUMMARY, Letter.status == FINAL)
        )
        course = final.referral.course
        sessions = list(course.sessions)
        columns = [c.key for c in inspect(TreatmentSession).column_attrs if c.key != "id"]
        last = sessions[-1].session_date
        for n in range(LONG - len(sessions)):
            model = sessions[n % len(sessions)]
            copy = TreatmentSession(**{key: getattr(model, key) for key in columns})
            copy.session_date = last + timedelta(days=7 * (n + 1))
            db.session.add(copy)
        draft = Letter(
            referral_id=final.referral_id,
            kind=SUMMARY,
            sequence=1,
            version=final.version + 1,
            status=DRAFT,
            narrative="A long course, summarised.\n\nNo new concerns.",
            recommendations="Maintenance every two weeks.",
        )
        db.session.add(draft)
        db.session.commit()
        return draft.id, final.signed_by_id


def _timed(render) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    render()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def _long_renders(path: Path, letter_id: int, renders: int) -> dict:
    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.letters.service import render_letter

    app = _app(f"sqlite:///{path}")
    figures = {}
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        for appendix in (False, True):
            letter.include_all_sessions = appendix
            render_letter(letter)  # warm-up
            runs = [_timed(lambda: render_letter(letter)) for _ in range(renders)]
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            figures["appendix" if appendix else "summarised"] = {
                "p50": statistics.median(walls),
                "p99": _p99(walls),
                "cpu_p50": statistics.median(cpus),
                "pages": render_letter(letter).pages,
            }
    return figures


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _web_rss(path: str, letter_id: str, signer_id: str, in_worker: str) -> None:
    """Child: sign 10 copies of the long draft as the web process would; print RSS."""
    from portal.auth.models import User
    from portal.demo.seed import DEMO_PASSWORD
    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.letters.service import sign_letter

    app = _app(f"sqlite:///{path}")
    app.config["LETTERS_RENDER_IN_WORKER"] = in_worker == "1"
    app.config["QUEUE_SQLITE_PATH"] = str(Path(path).with_suffix(".queue"))
    with (
        app.app_context(),
        app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}),
    ):
        from portal import jobs

        jobs.init_app(app)
        model = db.session.get(Letter, int(letter_id))
        signer = db.session.get(User, int(signer_id))
        before = _rss_mb()
        started = time.perf_counter()
        for n in range(10):
            letter = Letter(
                referral_id=model.referral_id,
                kind=model.kind,
                sequence=model.sequence,
                version=model.version + 100 + n,
                status="draft",
                narrative=model.narrative,
                recommendations=model.recommendations,
                include_all_sessions=in_worker != "1",  # before: every session, as it was
            )
            db.session.add(letter)
            db.session.flush()
            sign_letter(letter, actor=signer, password=DEMO_PASSWORD)
            db.session.commit()
        print(
            json.dumps(
                {
                    "before": before,
                    "after": _rss_mb(),
                    "ms_per_signature": (time.perf_counter() - started) * 100,
                }
            )
        )


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


def _print_long(path: Path, renders: int) -> None:
    long_path = path.with_name("long.sqlite3")
    shutil.copy(path, long_path)
    letter_id, signer_id = _long_course(long_path)
    figures = _long_renders(long_path, letter_id, renders)
    print(f"{LONG}-session treatment summary, {renders} warm renders each:")
    for name, f in figures.items():
        print(
            f"  {name:10}  p50 {f['p50']:5.0f} ms  p99 {f['p99']:5.0f} ms  (CPU p50 "
            f"{f['cpu_p50']:4.0f} ms)  {f['pages']} pages"
        )
    print("  goal: summarised p50 < 500 ms")
    for label, in_worker in (
        ("before: rendered in the web process", "0"),
        ("after: job workers", "1"),
    ):
        copy = long_path.with_name(f"rss-{in_worker}.sqlite3")
        shutil.copy(long_path, copy)
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(copy),
                str(letter_id),
                str(signer_id),
                in_worker,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"  web process RSS, 10 signatures, {label}: {r['before']:.0f} -> {r['after']:.0f} MB "
            f"({r['ms_per_signature']:.0f} ms per signature)"
        )
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--long-only", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _web_rss(*args.child)
        return
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="letters-bench-") as tmp:
        folder = Path(tmp)
        path, summary_id = _prepare(folder, args.letters)
        _print_long(path, args.renders)
        if args.long_only:
            return
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
