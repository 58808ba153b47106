"""Security under load (issue 15). Not part of `make test`.

    .venv/bin/python bench/security.py [--renders 5] [--parallel 40]

1. Letter rendering with a 12,000 x 2,000 px PNG logo (24 million pixels, just under the 25
   million refused): no uploaded logo, the logo stored as uploaded (what the portal did
   before) and as the letterhead check keeps it now (1200 px wide), median ms.
2. `--parallel` wrong passwords for one account at once against the portal served on
   127.0.0.1 (threaded server, SQLite): how many were checked (at most the threshold) and
   the wall time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue module: run from the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def _app(url: str):
    from config import TestingConfig
    from portal import create_app

    folder = str(Path(url.removeprefix("sqlite:///")).parent / "attachments")
    settings = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "ATTACHMENT_DIR": folder}
    return create_app(type("BenchConfig", (TestingConfig,), settings))


def _huge_logo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", (12_000, 2_000), (20, 60, 90))
    for x in range(0, 12_000, 50):  # some detail, so the PNG is not trivially flat
        image.paste((200, 180, 40), (x, 0, x + 20, 2_000))
    image.save(out, format="PNG")
    return out.getvalue()


def _render_times(letter_id: int, renders: int) -> list[float]:
    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.letters.service import render_letter

    letter = db.session.get(Letter, letter_id)
    render_letter(letter)  # warm-up
    times = []
    for _ in range(renders):
        start = time.perf_counter()
        render_letter(letter)
        times.append((time.perf_counter() - start) * 1000)
    return times


def logo_figures(folder: Path, renders: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal.admin.letterhead import check_logo
    from portal.clinics.models import Clinic
    from portal.demo import seed
    from portal.extensions import db
    from portal.letters.models import FINAL, SUMMARY, Letter

    app = _app(f"sqlite:///{folder / 'bench.sqlite3'}")
    with app.app_context():
        upgrade()
        seed()
        db.session.commit()
        letter_id = db.session.scalar(
            select(Letter.id).where(Letter.kind == SUMMARY, Letter.status == FINAL)
        )
        raw = _huge_logo()
        clinic = db.session.scalars(select(Clinic)).first()
        for label, (mime, data) in (
            ("no logo (baseline)", ("", None)),
            ("as uploaded (before)", ("image/png", raw)),
            ("as kept now", check_logo(raw, "logo.png")),
        ):
            clinic.logo_mime, clinic.logo = mime, data
            db.session.commit()
            times = _render_times(letter_id, renders)
            print(
                f"letter, 12000x2000 logo {label}: {len(data or b'') // 1024} KB, "
                f"median {statistics.median(times):.0f} ms over {renders} renders"
            )


def parallel_guesses(folder: Path, parallel: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from tests.factories import World
    from tests.live_helpers import LiveClient, all_at_once, served

    app = _app(f"sqlite:///{folder / 'race.sqlite3'}")
    with app.app_context():
        upgrade()
        world = World()
        db.session.commit()
        email = world.referrer.email
        with served(app) as base:
            clients = [LiveClient(base) for _ in range(parallel)]
            tokens = [c.token("/login") for c in clients]
            start = time.perf_counter()
            all_at_once(
                [
                    lambda c=c, t=t: c.post(
                        "/login", {"email": email, "password": "wrong guess"}, token=t
                    )
                    for c, t in zip(clients, tokens, strict=True)
                ]
            )
            elapsed = time.perf_counter() - start
        db.session.expire_all()
        checked = db.session.scalar(
            select(func.count()).where(
                AuditEvent.action == "auth.login", AuditEvent.outcome == "failed"
            )
        )
        print(
            f"{parallel} parallel wrong passwords: {checked} checked "
            f"(threshold {app.config['LOCKOUT_THRESHOLD']}), {parallel - checked} refused "
            f"unchecked, {elapsed:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        logo_figures(Path(tmp), args.renders)
        parallel_guesses(Path(tmp), args.parallel)


if __name__ == "__main__":
    main()
