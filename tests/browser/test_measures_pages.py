"""The measures pages in Chromium: axe-core finds nothing, nothing spills sideways at 1024 px,
and the pages (and the practice report, drawn with pdftoppm) are saved at 1024 and 1440 px
under test-artifacts/screenshots/pages/ for review."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from portal.extensions import db
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_accessibility import review
from tests.factories import create_referral
from tests.measures_history import build, travel, treat, visits

RANGE = "start=2026-10-01&end=2026-11-20"


@pytest.fixture
def measured(app, world, monkeypatch):
    """The known history of tests/measures_history.py and 12 more referrals from the second
    practice, so that some figures are shown and others read "fewer than 11"."""
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    with app.test_request_context():
        history = build(world)
        treat(world, history)
        visits(world, history)
        for day in (5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19, 20):
            with travel(date(2026, 10, day)):
                create_referral(world.other_referrer, requested_modality="spravato")
        db.session.commit()
    return history


def test_measures_pages_are_accessible(page, live_server, world, measured):
    problems = []
    sign_in(page, live_server, world.coordinator.email)
    page.goto(f"{live_server}/measures/?{RANGE}")
    assert page.get_by_role("heading", name="Measures", level=1).is_visible()
    assert page.locator("svg[role=img]").count() == 3
    problems += review(page, "coordinator-measures")
    page.goto(f"{live_server}/measures/?start=2026-11-30&end=2026-11-01")
    problems += review(page, "coordinator-measures-refused-range")
    report = page.request.get(
        f"{live_server}/measures/report.pdf?practice={world.practice.id}&quarter=2026-Q4"
    )
    assert report.status == 200
    pdf = ARTIFACTS / "pages" / "measures-report.pdf"
    pdf.write_bytes(report.body())
    for dpi, width in ((120, 1024), (170, 1440)):
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf),
             str(ARTIFACTS / "pages" / f"measures-report-{width}")],
            check=True,
        )  # fmt: skip
    page.context.clear_cookies()
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/measures/mine?{RANGE}")
    assert page.get_by_role("heading", name="My outcomes", level=1).is_visible()
    problems += review(page, "referrer-my-outcomes")
    assert problems == []
