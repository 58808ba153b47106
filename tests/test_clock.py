"""Dates people see and type are the clinic's, not the server's: at 9:30 pm in New York the
server's (UTC) calendar is already on the next day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from portal.clock import clinic_today
from tests.factories import create_referral

# 21:30 in New York on 24 November is 02:30 UTC on the 25th.
EVENING_IN_NEW_YORK = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)


def test_clinic_today_is_the_clinics_calendar_day(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    with time_machine.travel(EVENING_IN_NEW_YORK, tick=False):
        assert clinic_today() == date(2026, 11, 24)
        monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "UTC")
        assert clinic_today() == date(2026, 11, 25)


def test_an_evening_referrals_baseline_is_dated_the_day_it_was_sent(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    with time_machine.travel(EVENING_IN_NEW_YORK, tick=False):
        referral = create_referral(world.referrer)
    assert referral.assessments[0].is_baseline
    assert referral.assessments[0].taken_on == date(2026, 11, 24)
