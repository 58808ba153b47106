"""The sessions' figures read once for the REMS and adverse-event tables (per course, then per
patient through referral_milestone), and the late REMS list capped on the page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.clock import clinic_zone
from portal.extensions import db as _db
from portal.measures import activity
from portal.measures.scope import Scope
from portal.treatment.models import TreatmentSession
from portal.triage.service import accept_referral, open_for_review
from tests.conftest import force_login, page_text
from tests.factories import create_referral
from tests.measures_history import travel

TODAY = date(2026, 11, 20)
FIRST = date(2026, 11, 2)


def _scope(world, **narrow) -> Scope:
    return Scope(
        clinic_id=world.clinic.id,
        start=date(2026, 10, 1),
        end=TODAY,
        today=TODAY,
        zone=clinic_zone(),
        **narrow,
    )


def _spravato(world, referrer, submitted_after: list[int | None]):
    """A SPRAVATO referral accepted on FIRST, with a session a day from FIRST for each entry:
    its REMS form submitted that many days after the session (None: not yet)."""
    with travel(FIRST - timedelta(days=1)):
        referral = create_referral(referrer, requested_modality="spravato")
        open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
        accept_referral(
            referral,
            actor=world.coordinator,
            expected_version=referral.version,
            modality="spravato",
            clinician=world.clinician,
            planned_sessions=8,
        )
    for k, days in enumerate(submitted_after):
        day = FIRST + timedelta(days=k)
        _db.session.add(
            TreatmentSession(
                course_id=referral.course.id,
                session_date=day,
                modality="spravato",
                dose_mg=Decimal("56"),
                bp_pre_systolic=120,
                bp_pre_diastolic=80,
                bp_post_systolic=130,
                bp_post_diastolic=84,
                recorded_by_id=world.clinician.id,
                adverse_events=["sedation", "nausea_vomiting"] if k == 0 else [],
                serious_adverse_events=k == 1,
                rems_submitted_on=None if days is None else day + timedelta(days=days),
            )
        )
    _db.session.flush()
    return referral


@pytest.fixture
def rems(app, world):
    with app.test_request_context():
        # Sessions 2-19 November. Due: submitted, or 7 days over by the 20th (sessions to
        # the 12th). Referral a: in time, late (9 days), not submitted and over, not yet due.
        a = _spravato(world, world.referrer, [3, 9, None] + [None] * 16)
        b = _spravato(world, world.colleague, [7, 8])  # the 7th day is in time
        _db.session.commit()
        return a, b


def test_rems_and_adverse_events_from_one_reading(app, world, rems):
    a, b = rems
    with app.test_request_context():
        scope = _scope(world)
        found = activity.session_figures(scope)
        row = found["spravato"]
        # a: 19 sessions, 11 of them due (2-12 November): 1 in time, 10 late; b: 2 due, 1 late.
        assert (int(row.sessions), int(row.patients)) == (21, 2)
        assert (int(row.rems_due), int(row.rems_in_time), int(row.rems_late)) == (13, 2, 11)
        assert int(row.rems_patients) == 2
        assert (int(row.events), int(row.ae_patients)) == (4, 2)  # two on each first session
        assert (int(row.serious), int(row.sae_patients)) == (2, 2)
        table = activity.rems_table(scope, found)
        assert table.rows[0][0].value == 13
        assert table.rows[0][0].hidden
        ae = activity.adverse_events_table(scope, found)
        assert ae.rows == activity.adverse_events_table(scope).rows


def test_late_rems_list_capped_on_the_page_with_the_rest_counted(app, world, rems):
    a, b = rems
    with app.test_request_context():
        scope = _scope(world)
        every = activity.rems_late_table(scope, limit=None)
        first = activity.rems_late_table(scope, limit=5)
    assert len(every.rows) == 11
    assert every.more == 0
    # Oldest first: a's second session (3 November, 9 days late), then b's second (8 days).
    assert [r[1] for r in every.rows[:3]] == ["2026-11-03", "2026-11-03", "2026-11-04"]
    assert first.rows == every.rows[:5]
    assert first.more == 6
    assert first.extra["session_ids"] == every.extra["session_ids"][:5]


def test_a_filter_narrows_the_sessions_through_the_milestones(app, world, rems):
    a, b = rems
    with app.test_request_context():
        mine = activity.session_figures(_scope(world, referrer_id=world.colleague.id))
        none = activity.session_figures(_scope(world, modality="iv_ketamine"))
        theirs = activity.session_figures(_scope(world, referrer_id=world.referrer.id))
    assert (int(mine["spravato"].sessions), int(mine["spravato"].rems_late)) == (2, 1)
    assert none == {}
    # A narrow scope sums its own sessions (joined first): the same figures as the clinic's.
    row = theirs["spravato"]
    assert (int(row.sessions), int(row.patients), int(row.events), int(row.serious)) == (
        19, 1, 2, 1,
    )  # fmt: skip
    assert (int(row.rems_due), int(row.rems_in_time), int(row.rems_late)) == (11, 1, 10)


def test_the_page_says_how_many_late_forms_are_left_off(app, world, rems, monkeypatch):
    monkeypatch.setattr(activity, "REMS_LATE_ON_PAGE", 4)
    client = app.test_client()
    with travel(TODAY):
        force_login(client, world.coordinator)
        page = client.get("/measures/?start=2026-10-01&end=2026-11-20")
        csv = client.get("/measures/export/rems-late.csv?start=2026-10-01&end=2026-11-20")
    assert page.status_code == 200
    assert csv.status_code == 200
    assert "And 7 more: the CSV lists them all." in page_text(page.get_data(as_text=True))
    # The CSV lists all 11: a's nine never submitted among them.
    assert csv.get_data(as_text=True).count("not submitted") == 9
