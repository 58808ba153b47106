"""FHIR API speed, in one warm process (Flask's test client, no network). Not in `make test`.

    .venv/bin/python bench/fhir.py [--referrals 300] [--rounds 40] [--database-url URL]
                                   [--profile token|read|search|send] [--chain-later]

Seeds the demo on a fresh SQLite database (or the PostgreSQL one given, which must be empty),
adds `--referrals` submitted referrals to the demo practice through the real submission
service, registers an EHR, then times over `--rounds` calls each: a token (assertion checked,
jti stored), a Task search page of 50 (every referral on it audited), a ServiceRequest read
(with its supporting resources) and a transaction Bundle that sends a referral (the intake's
validation, screening, baseline PHQ-9, acknowledgement letter). Prints the median (p50) and
99th percentile in ms of wall time, the median CPU time of this process beside it (the machine
may be shared: CPU time is what the call itself cost), and the load average, against the
goals: token and reads under 50 ms, a page of 50 under 500 ms, a sent referral under 1,500 ms
(it renders the acknowledgement PDF). `--profile` prints where one action's time goes
(cProfile, cumulative). `--chain-later` sets AUDIT_CHAIN_INLINE off (the audit rows are
linked into the chain later, not in a second transaction after each call's commit), to show
what that second commit costs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/, whose queue.py would hide the standard library's

GOALS_MS = {"token": 50, "Task search (50)": 500, "ServiceRequest read": 50, "send Bundle": 1500}


def _app(url: str, chain_inline: bool = True):
    from config import TestingConfig
    from portal import create_app

    return create_app(
        type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                               "FHIR_RATE_LIMIT": "100000 per minute",
                                               "AUDIT_CHAIN_INLINE": chain_inline})
    )  # fmt: skip


def _timed(action, rounds: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call, after one warm-up call."""
    action()
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def _profile(action, rounds: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        action()
    profile.disable()
    pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", choices=["token", "read", "search", "send"])
    parser.add_argument("--chain-later", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fhir-bench-"))
    app = _app(args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}", not args.chain_later)

    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.demo import seed
    from portal.extensions import db
    from portal.pages.submission import submit_referral
    from portal.referrals.models import Referral
    from portal.referrals.service import NewReferral
    from tests.fhir.helpers import ALL_SCOPES, Ehr, bearer, referral_bundle

    with app.app_context():
        upgrade()
        seed()
        referrer = db.session.scalar(select(User).where(User.email == "referrer@demo.test"))
        for n in range(args.referrals):
            born = date(1980, 1, 1 + n % 28)
            data = NewReferral(f"Bench{n}", "Patient", born, "female", "F33.2", "spravato",
                               "Bench referral.", "routine", [2] * 9)  # fmt: skip
            submit_referral(data, actor=referrer)
        db.session.commit()
        ehr = Ehr()
        ehr.register(referrer.practice_id)
        npi = referrer.npi
        referral_id = db.session.scalar(
            select(Referral.id).where(Referral.referrer_id == referrer.id).limit(1)
        )
    client = app.test_client()

    def token() -> str:
        response = client.post("/fhir/r4/auth/token", data=ehr.token_form(ALL_SCOPES))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["access_token"]

    access = token()
    headers = {**bearer(access), "Content-Type": "application/fhir+json"}

    def search() -> None:
        response = client.get("/fhir/r4/Task?_count=50", headers=headers)
        assert response.status_code == 200
        assert len(response.get_json()["entry"]) == 50

    def read() -> None:
        assert (
            client.get(f"/fhir/r4/ServiceRequest/{referral_id}", headers=headers).status_code == 200
        )

    def send() -> None:
        response = client.post("/fhir/r4", json=referral_bundle(npi=npi), headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    if args.profile:
        actions = {"token": token, "read": read, "search": search, "send": send}
        _profile(actions[args.profile], args.rounds)
        return
    results = {
        "token": _timed(token, args.rounds),
        "Task search (50)": _timed(search, args.rounds),
        "ServiceRequest read": _timed(read, args.rounds),
        "send Bundle": _timed(send, max(5, args.rounds // 4)),
    }
    load = "/".join(f"{n:.1f}" for n in os.getloadavg())
    kind = ("PostgreSQL" if args.database_url else "SQLite") + (
        ", audit chain linked later" if args.chain_later else ""
    )
    print(f"FHIR API, {args.referrals} referrals in the practice, {args.rounds} rounds "
          f"({kind}), load average {load}:")  # fmt: skip
    for name, (wall, cpu) in results.items():
        p50 = statistics.median(wall)
        p99 = statistics.quantiles(wall, n=100, method="inclusive")[-1]
        verdict = "ok" if p50 <= GOALS_MS[name] else "SLOWER THAN GOAL"
        print(f"  {name:20} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  CPU p50 "
              f"{statistics.median(cpu):7.1f} ms  goal {GOALS_MS[name]} ms  {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
