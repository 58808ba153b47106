"""FHIR rest-hook Subscriptions: what they cost. Not in `make test`.

    .venv/bin/python bench/fhir_hooks.py [--subscriptions 20] [--changes 100]

Seeds the demo on a fresh SQLite database, submits `--changes` referrals of the demo practice,
then times a change of state (open for review, committed) without subscriptions and with
`--subscriptions` active ones (each change writes a delivery row per subscription in its own
transaction), then how fast the worker's code posts them all (`deliver_due`) to an HTTP
receiver on 127.0.0.1. Goals: a change costs under 20 ms more with the subscriptions; at least
50 notifications a second from one worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/, whose queue.py would hide the standard library's


class Handler(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Handler.received += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = Path(tempfile.mkdtemp(prefix="hooks-bench-"))

    from config import TestingConfig
    from portal import create_app

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal.auth.models import User
    from portal.demo import seed
    from portal.extensions import db
    from portal.fhir.hooks import deliver_due
    from portal.fhir.models import FhirClient, FhirHookDelivery, FhirSubscription
    from portal.pages.submission import submit_referral
    from portal.referrals.service import NewReferral, change_state
    from portal.referrals.states import State
    from tests.fhir.helpers import Ehr

    with app.app_context():
        upgrade()
        seed()
        referrer = db.session.scalar(select(User).where(User.email == "referrer@demo.test"))
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator").limit(1))
        referrals = []
        for n in range(args.changes * 2):
            born = date(1980, 1, 1 + n % 28)
            data = NewReferral(f"Bench{n}", "Patient", born, "female", "F33.2", "spravato",
                               "Bench referral.", "routine", [2] * 9)  # fmt: skip
            referrals.append(submit_referral(data, actor=referrer))
        db.session.commit()

        def changes(batch) -> list[float]:
            times = []
            for referral in batch:
                start = time.perf_counter()
                change_state(referral, State.IN_REVIEW, actor=coordinator,
                             expected_version=referral.version)  # fmt: skip
                db.session.commit()
                times.append((time.perf_counter() - start) * 1000)
            return times

        without = changes(referrals[: args.changes])
        Ehr().register(referrer.practice_id, scopes="system/Task.rs system/Subscription.crds")
        client = db.session.scalar(select(FhirClient).order_by(FhirClient.id.desc()).limit(1))
        endpoint = f"http://127.0.0.1:{server.server_port}/hook"
        for n in range(args.subscriptions):
            db.session.add(FhirSubscription(client_pk=client.id, criteria="Task", reason=f"b{n}",
                                            endpoint=endpoint))  # fmt: skip
        db.session.commit()
        with_subs = changes(referrals[args.changes :])
        rows = db.session.scalar(select(func.count(FhirHookDelivery.id)))
        start = time.perf_counter()
        counts = deliver_due(limit=rows)
        seconds = time.perf_counter() - start
    server.shutdown()
    extra = statistics.median(with_subs) - statistics.median(without)
    print(f"FHIR rest-hooks, {args.changes} changes, {args.subscriptions} subscriptions (SQLite):")
    print(f"  change of state, no subscription  median {statistics.median(without):6.1f} ms")
    print(f"  change of state, {args.subscriptions} subscriptions median "
          f"{statistics.median(with_subs):6.1f} ms   (+{extra:.1f} ms, goal < 20 ms)")  # fmt: skip
    print(f"  worker posted {rows} notifications in {seconds:.2f} s = {rows / seconds:.0f}/s "
          f"(goal >= 50/s); statuses {counts}; receiver got {Handler.received}")  # fmt: skip


if __name__ == "__main__":
    main()
