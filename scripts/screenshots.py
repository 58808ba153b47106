"""README screenshots from the demo data: `make screenshots`.

A fresh SQLite database in a temporary folder gets the migrations (`flask db upgrade`) and the
demo data (`flask seed-demo`), exactly as `make run` does; the portal is served on a free port
of 127.0.0.1 in a thread, Debian's Chromium visits the main pages as each demo role, and the
PNGs land in docs/screenshots/. Staff complete their two-step enrolment on the page, with codes
computed by pyotp from the key the page shows. Nothing touches instance/portal.sqlite3.

    .venv/bin/python scripts/screenshots.py [--width 1024] [--out /tmp/shots-1024]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_HEIGHT = 2200  # full pages are cut here so the files stay small
STEP = 30  # seconds per TOTP time step
PROGRESS = (
    "Two infusions so far, both well tolerated. The patient reports better sleep and more "
    "energy in the mornings, and the PHQ-9 is coming down."
)
NEXT_STEPS = "The series continues as planned. No change to current medication is needed."


@dataclass
class Targets:
    """Which demo records the pages show, looked up in the database after seeding."""

    referrer_referral: int  # in treatment: timeline, messages, letters, outcomes
    screening: int  # in review, with a flagged medication
    to_schedule: int  # accepted, not yet booked
    course: int  # in treatment, latest session unsigned
    completed: int  # completed course: the outcome table and charts
    busiest_day: str
    verify_code: str


def build_app(workdir: Path):
    from config import DevelopmentConfig
    from portal import create_app

    class ScreenshotConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'portal.sqlite3'}"
        ATTACHMENT_DIR = str(workdir / "attachments")

    app = create_app(ScreenshotConfig)
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["seed-demo"]):  # what `make run` runs
        with app.app_context():  # as the `flask` command line provides
            result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}") from (
                result.exception
            )
    return app


def find_targets(app) -> Targets:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.referrals.models import Referral
    from portal.referrals.states import State
    from portal.scheduling.models import Appointment

    with app.app_context():
        by_state: dict[str, list[int]] = {}
        for ref_id, state in db.session.execute(
            select(Referral.id, Referral.state).order_by(Referral.id)
        ):
            by_state.setdefault(state, []).append(ref_id)
        day = db.session.scalar(
            select(Appointment.day)
            .where(Appointment.status == "booked")
            .group_by(Appointment.day)
            .order_by(func.count().desc(), Appointment.day)
            .limit(1)
        )
        code = db.session.scalar(
            select(Letter.verify_code)
            .where(Letter.status == "final", Letter.kind == "treatment_summary")
            .order_by(Letter.id.desc())
            .limit(1)
        )
        db.session.remove()
    return Targets(
        referrer_referral=by_state[State.IN_TREATMENT][0],
        screening=by_state[State.IN_REVIEW][1],
        to_schedule=by_state[State.ACCEPTED][-1],
        course=by_state[State.IN_TREATMENT][0],
        completed=by_state[State.COMPLETED][0],
        busiest_day=day.isoformat(),
        verify_code=code,
    )


@contextmanager
def serve(app, lifetime: float) -> Iterator[str]:
    """The app on a free port of 127.0.0.1; shut down on exit, or after `lifetime` seconds."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    watchdog = threading.Timer(lifetime, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        watchdog.cancel()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class Camera:
    """Takes the named screenshots: full width, full page up to MAX_HEIGHT."""

    def __init__(self, browser, base: str, out: Path, width: int) -> None:
        self.browser, self.base, self.out, self.width = browser, base, out, width
        self.taken: list[Path] = []
        self.last_step: dict[str, int] = {}  # a TOTP time step is good once per account

    def context(self):
        context = self.browser.new_context(
            viewport={"width": self.width, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(30_000)
        return context

    def visit(self, page, path: str) -> None:
        response = page.goto(self.base + path)
        page.wait_for_load_state("networkidle")
        if response is None or not response.ok or ("/login" in page.url and path != "/login"):
            raise SystemExit(f"{path}: {response.status if response else 'no response'} {page.url}")

    def shot(self, page, name: str, *, section: str | None = None) -> None:
        """The page as a screen MAX_HEIGHT tall at most would show it (a sticky bar stays at
        the bottom instead of floating mid-page as in a stitched full-page capture)."""
        page.evaluate("window.scrollTo(0, 0)")
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": self.width, "height": min(height, MAX_HEIGHT)})
        clip = None
        if section:  # one card of the page, at the page's full width
            page.locator(section).scroll_into_view_if_needed()
            box = page.locator(section).bounding_box()
            clip = {"x": 0, "y": max(box["y"] - 16, 0), "width": self.width}
            clip["height"] = min(box["height"] + 32, MAX_HEIGHT - clip["y"])
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), clip=clip, animations="disabled")
        page.set_viewport_size({"width": self.width, "height": 900})
        self.save(path)

    def save(self, path: Path) -> None:
        """A 256-colour palette: about a third of the bytes, no visible loss on these pages."""
        from PIL import Image

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(256, Image.Quantize.MEDIANCUT, dither=0)
        small.save(path, optimize=True)
        self.taken.append(path)
        print(f"  {path} {small.width}x{small.height} {path.stat().st_size // 1024} KB")

    def totp_code(self, email: str, secret: str) -> str:
        import pyotp

        while True:
            step = int(time.time()) // STEP
            if step > self.last_step.get(email, -1):
                self.last_step[email] = step
                return pyotp.TOTP(secret).at(step * STEP)
            time.sleep(STEP - time.time() % STEP + 0.2)

    def sign_in(self, page, email: str, *, setup_shot: str | None = None) -> None:
        from portal.demo import DEMO_PASSWORD

        self.visit(page, "/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        if "/two-step/setup" in page.url:  # staff: first sign-in enrols the authenticator
            secret = page.locator("[data-secret]").inner_text().replace(" ", "")
            if setup_shot:
                self.shot(page, setup_shot)
            page.get_by_label("Code from the app").fill(self.totp_code(email, secret))
            page.get_by_role("button", name="Turn on two-step sign-in").click()
            page.get_by_role("link", name="I have saved them, continue").click()
            page.wait_for_load_state("networkidle")
        if "/login" in page.url or "/two-step" in page.url:
            raise SystemExit(f"sign-in as {email} did not finish: {page.url}")


def public_pages(cam: Camera, t: Targets) -> None:
    context = cam.context()
    page = context.new_page()
    cam.visit(page, "/login")
    cam.shot(page, "sign-in")
    cam.visit(page, f"/verify/{t.verify_code}")
    cam.shot(page, "letter-verification")
    context.close()


def referrer_pages(cam: Camera, t: Targets) -> None:
    context = cam.context()
    page = context.new_page()
    cam.sign_in(page, "referrer@demo.test")
    cam.visit(page, "/referrals/")
    cam.shot(page, "referrer-dashboard")
    cam.visit(page, f"/referrals/{t.referrer_referral}")
    cam.shot(page, "referrer-referral-detail")
    cam.visit(page, "/referrals/new")
    cam.shot(page, "referrer-new-referral")
    context.close()


def coordinator_pages(cam: Camera, t: Targets) -> None:
    context = cam.context()
    page = context.new_page()
    cam.sign_in(page, "coordinator@demo.test", setup_shot="two-step-setup")
    cam.visit(page, "/triage/")
    cam.shot(page, "coordinator-queue")
    cam.visit(page, f"/triage/{t.screening}/screening")
    cam.shot(page, "coordinator-screening")
    cam.visit(page, f"/scheduling/referrals/{t.to_schedule}")
    page.get_by_role("button", name="Propose").click()  # the protocol's proposed series
    page.wait_for_load_state("networkidle")
    cam.shot(page, "coordinator-scheduling")
    cam.visit(page, f"/scheduling/day?date={t.busiest_day}")
    cam.shot(page, "coordinator-day-view")
    cam.visit(page, f"/scheduling/week?date={t.busiest_day}")
    cam.shot(page, "coordinator-week-view")
    cam.visit(page, f"/scheduling/day/print?date={t.busiest_day}")
    page.emulate_media(media="print")
    cam.shot(page, "coordinator-day-print")
    page.emulate_media(media="screen")
    context.close()


def clinician_pages(cam: Camera, t: Targets, workdir: Path) -> None:
    context = cam.context()
    page = context.new_page()
    cam.sign_in(page, "clinician@demo.test")
    cam.visit(page, "/treatment/")
    cam.shot(page, "clinician-courses")
    cam.visit(page, f"/treatment/referrals/{t.course}/course")
    cam.shot(page, "clinician-course")
    cam.visit(page, f"/treatment/referrals/{t.course}/sessions/new")
    cam.shot(page, "clinician-session-form")
    cam.visit(page, f"/treatment/referrals/{t.completed}/course")
    cam.shot(page, "clinician-outcomes", section="section[aria-labelledby=outcome-h]")
    # A progress letter drafted through the page, as the clinician would.
    cam.visit(page, f"/referrals/{t.course}")
    page.locator("#letter-kind").select_option("interim_progress")
    page.get_by_role("button", name="Start draft").click()
    page.wait_for_url("**/letters/*/edit")
    page.get_by_label("Progress so far").fill(PROGRESS)
    page.get_by_label("Next steps").fill(NEXT_STEPS)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state("networkidle")
    cam.shot(page, "letter-edit")
    letter_preview(cam, context, page.url.replace("/edit", "/preview"), workdir)
    cam.visit(page, "/letters/unopened")
    cam.shot(page, "letters-unopened")
    context.close()


def letter_preview(cam: Camera, context, url: str, workdir: Path) -> None:
    """The draft's PDF preview, first page, drawn by poppler's pdftoppm."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        print("  (pdftoppm missing: no letter-preview.png; apt-get install poppler-utils)")
        return
    response = context.request.get(url)
    if not response.ok or response.headers.get("content-type") != "application/pdf":
        raise SystemExit(f"letter preview: {response.status} {response.headers}")
    pdf = workdir / "preview.pdf"
    pdf.write_bytes(response.body())
    target = cam.out / "letter-preview"
    subprocess.run(  # noqa: S603 - fixed arguments, our own file
        [pdftoppm, "-png", "-singlefile", "-f", "1", "-l", "1"]
        + ["-scale-to-x", str(min(cam.width, 1100)), "-scale-to-y", "-1", str(pdf), str(target)],
        check=True,
        timeout=60,
    )
    cam.save(target.with_suffix(".png"))


def admin_pages(cam: Camera) -> None:
    context = cam.context()
    page = context.new_page()
    cam.sign_in(page, "admin@demo.test")
    cam.visit(page, "/admin/accounts")
    cam.shot(page, "admin-accounts")
    cam.visit(page, "/admin/audit")
    cam.shot(page, "admin-audit-log")
    cam.visit(page, "/scheduling/settings")
    cam.shot(page, "admin-scheduling-settings")
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1440, help="viewport width in CSS pixels")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--timeout", type=float, default=600, help="longest the server lives (s)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} missing: run `bash scripts/system-deps.sh --test` as root")
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-shots-") as tmp:
        workdir = Path(tmp)
        print(f"Seeding the demo into {workdir} ...")
        app = build_app(workdir)
        targets = find_targets(app)
        with serve(app, args.timeout) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                cam = Camera(browser, base, args.out.resolve(), args.width)
                print(f"Serving {base}; {args.width} px screenshots into {args.out}:")
                public_pages(cam, targets)
                referrer_pages(cam, targets)
                coordinator_pages(cam, targets)
                clinician_pages(cam, targets, workdir)
                admin_pages(cam)
            finally:
                browser.close()
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    print(f"{len(cam.taken)} screenshots in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
