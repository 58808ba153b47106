"""Measures computed in SQL from a known history (tests/measures_history.py): every figure
exactly, the small-number rule at 10 and 11, and who sees what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import clinic_zone
from portal.extensions import db as _db
from portal.measures import activity, funnel, results, times
from portal.measures.scope import Scope
from portal.measures.sql import number_of
from portal.referrals.models import Referral
from tests.conftest import force_login, page_text
from tests.factories import create_referral
from tests.measures_history import TODAY, build, travel, treat, visits


@pytest.fixture
def new_york(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")


@pytest.fixture
def history(app, world, new_york):
    with app.test_request_context():
        h = build(world)
        treat(world, h)
        visits(world, h)
        _db.session.commit()
    return h


def scope_of(world, start=date(2026, 10, 1), end=TODAY, **narrow) -> Scope:
    return Scope(
        clinic_id=world.clinic.id, start=start, end=end, today=TODAY, zone=clinic_zone(), **narrow
    )


def test_funnel_counts_each_step(app, world, history):
    with app.test_request_context():
        assert funnel.funnel_counts(scope_of(world)) == [15, 14, 13, 5, 3, 1]


def test_lost_referrals_declined_cancelled_and_leakage(app, world, history):
    with app.test_request_context():
        lost, total = funnel.lost_referrals(scope_of(world))
    by_id = {item.referral_id: item for item in lost}
    assert by_id[history.declined.id].what == "Declined"
    assert by_id[history.declined.id].reason == "=cmd|' /C calc'!A0 Bipolar: outside the label."
    assert by_id[history.cancelled.id].what == "Cancelled"
    assert by_id[history.cancelled.id].reason == "The patient moved away."
    leaked = {i for i, item in by_id.items() if item.what.startswith("Leakage")}
    a = history.accepted
    # Never started (accepted 8-14 October and the two urgent ones), or started 40 days late.
    urgent = set(_db.session.scalars(select(Referral.id).where(Referral.urgency == "urgent")))
    assert leaked == {a[5].id, a[6].id, a[7].id, a[8].id, a[9].id, a[10].id} | urgent
    assert by_id[a[6].id].after == "First session"
    assert total == len(lost) == 10


def test_times_median_and_90th_percentile(app, world, history):
    with app.test_request_context():
        rows = {r.measure: r for r in _db.session.execute(times.times_query(scope_of(world)))}
    figures = {k: (r.n, float(r.median), float(r.p90)) for k, r in rows.items()}
    assert figures == {
        # Routine 1 1 2 2 3 4 5 5 5 6 7 8 business days (Friday to Saturday counts 5).
        "decision_routine": (12, 4.5, 7.0),
        "decision_urgent": (2, 2.5, 3.0),
        "decision": (14, 3.5, 7.0),
        "first_session": (5, 10.0, 47.0),  # 10 10 10 17 47 days
        "summary": (1, 28.0, 28.0),
        "opened": (1, 3.0, 3.0),
    }


def test_service_level_share_with_weekends(app, world, history):
    with app.test_request_context():
        found = {
            r.urgency: (int(r.measured), int(r.within))
            for r in _db.session.execute(times.service_level_query(scope_of(world)))
        }
    # Routine: 12 decided, 8 by Friday 9 October (the one decided on Saturday 10 is late),
    # plus the one still in review long after its last day. Urgent: by Tuesday 6 October.
    assert found == {"routine": (13, 8), "urgent": (2, 1)}


def test_outcomes_at_the_end_of_induction(app, world, history):
    with app.test_request_context():
        found = results.outcomes(scope_of(world), by="modality")
    # Baseline 16; end of induction 4 (response, remission), 8 (response), 9 (neither); the
    # PHQ-9 of 20 taken after the last induction session does not count.
    assert found[("iv_ketamine", "PHQ-9")] == results.Outcome(3, 2, 1)
    assert found[("all", "PHQ-9")] == results.Outcome(3, 2, 1)


def test_visits_no_shows_late_cancellations(app, world, history):
    with app.test_request_context():
        rows = {r.modality: r for r in _db.session.execute(activity.visits_query(scope_of(world)))}
    r = rows["iv_ketamine"]
    # Five booked: two attended, a no-show, one cancelled the day before (late) and one a
    # fortnight before (never due).
    assert (r.visits, r.no_shows, r.late, r.patients) == (4, 1, 1, 1)


def test_adverse_events_per_100_sessions(app, world, history):
    with app.test_request_context():
        table = activity.adverse_events_table(scope_of(world))
    iv = table.rows[0]
    assert iv[0] == "IV ketamine"
    assert iv[1].value == 20  # 3 x 6 + 1 + 1 sessions
    assert iv[3].value == pytest.approx(5.0)  # one adverse event in 20 sessions
    assert iv[3].hidden  # ...but 5 patients: fewer than 11


def test_clinic_page_shows_suppressed_cells_and_lists(app, world, history):
    client = app.test_client()
    force_login(client, world.coordinator)
    response = client.get("/measures/?start=2026-10-01&end=2026-11-20")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = unescape(page_text(html))
    assert "Received 15 100%" in text  # 15 received: shown
    assert "First decision fewer than 11 fewer than 11" in text  # 14: one lost would show
    assert history.declined.number in text
    assert "=cmd|' /C calc'!A0 Bipolar: outside the label." in text  # shown as typed
    # 14 decisions, 2 of them urgent: the routine 12 would give the urgent 2 away.
    assert "Received to first decision 14 3.5 business days 7.0 business days" in text
    assert "routine referrals fewer than 11 4.5 business days 7.0 business days" in text
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert html.count('role="img"') >= 3
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "measures.view")
    ).one()
    assert event.actor_id == world.coordinator.id
    assert event.detail == "2026-10-01..2026-11-20"


def test_clinic_page_tables_mark_hidden_cells_link_lists_and_say_when_empty(app, world, history):
    client = app.test_client()
    force_login(client, world.coordinator)
    html = client.get("/measures/?start=2026-10-01&end=2026-11-20").get_data(as_text=True)
    assert '<th scope="row">First decision</th><td class="num hidden-cell">fewer than 11</td>' in (
        html
    )
    assert '<th scope="row">Received</th><td class="num">15</td>' in html
    with app.test_request_context():
        screening = url_for("triage.screening", referral_id=history.declined.id)
    assert f'<th scope="row"><a href="{screening}">{history.declined.number}</a></th>' in html
    empty = client.get("/measures/?start=2025-01-01&end=2025-01-31").get_data(as_text=True)
    assert '<td colspan="5" class="subtle">None in this range.</td>' in empty  # the lost list


def test_csv_is_formula_safe(app, world, history):
    client = app.test_client()
    force_login(client, world.admin)
    response = client.get("/measures/export/lost.csv?start=2026-10-01&end=2026-11-20")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "\"'=cmd|' /C calc'!A0 Bipolar: outside the label.\"" in body
    assert '"=cmd' not in body
    assert history.cancelled.number in body
    assert client.get("/measures/export/nonsense.csv").status_code == 404


def test_small_number_rule_at_10_and_11(app, world, new_york):
    client = app.test_client()
    with travel(date(2026, 11, 2)):
        for _ in range(10):
            create_referral(world.other_referrer)
        _db.session.commit()
    with travel(TODAY):
        force_login(client, world.other_referrer)
        text = page_text(client.get("/measures/mine").get_data(as_text=True))
        assert "Referrals received fewer than 11 fewer than 11" in text
    with travel(date(2026, 11, 3)):
        create_referral(world.other_referrer)
        _db.session.commit()
    with travel(TODAY):
        force_login(client, world.other_referrer)
        text = page_text(client.get("/measures/mine").get_data(as_text=True))
    # Eleven: shown for the provider; the clinic's 11 too would say no one else referred.
    assert "Referrals received 11 fewer than 11" in text
    assert "Accepted fewer than 11 fewer than 11" in text


def test_another_practices_referrer_sees_none_of_it(app, world, history):
    client = app.test_client()
    with travel(TODAY):
        force_login(client, world.other_referrer)
        text = page_text(client.get("/measures/mine").get_data(as_text=True))
        for url in (
            "/measures/",
            "/measures/export/lost.csv",
            f"/measures/report.pdf?practice={world.practice.id}&quarter=2026-Q4",
        ):
            assert client.get(url).status_code == 404
    assert "Riverbend" not in text
    assert "Referrals received fewer than 11 15" in text  # theirs: none; the clinic's: 15
    # The referrer's own practice (it shares referrals) is a column of their page.
    with travel(TODAY):
        force_login(client, world.referrer)
        text = page_text(client.get("/measures/mine").get_data(as_text=True))
    # Theirs 14; Riverbend's 15 and the clinic's 15 would count the colleague's one referral.
    assert "Referrals received 14 fewer than 11 fewer than 11" in text


def test_other_clinic_staff_see_nothing_of_ours(app, world, history):
    client = app.test_client()
    force_login(client, world.other_staff)
    html = client.get("/measures/?start=2026-10-01&end=2026-11-20").get_data(as_text=True)
    assert history.declined.number not in html
    assert "Received fewer than 11" in page_text(html)


def test_a_refused_range_says_why_and_keeps_what_was_typed(app, world):
    client = app.test_client()
    force_login(client, world.coordinator)
    response = client.get("/measures/?start=2026-11-30&end=2026-11-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The start date is after the end date." in html
    assert 'value="2026-11-30"' in html


def test_practice_report_pdf(app, world, history):
    import io

    from pypdf import PdfReader

    client = app.test_client()
    with travel(TODAY):
        force_login(client, world.coordinator)
        response = client.get(f"/measures/report.pdf?practice={world.practice.id}&quarter=2026-Q4")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Referral outcomes report" in text
    assert "Riverbend Psychiatry" in text
    assert "Referrals received 15 fewer than 11" in text  # the clinic's 15: no one else
    assert "fewer than 11" in text
    assert "Alexis" not in text  # no patient information
    with travel(TODAY):
        force_login(client, world.coordinator)
        missing = client.get("/measures/report.pdf?practice=99999&quarter=2026-Q4")
    assert missing.status_code == 404


def test_local_days_across_daylight_saving(app, world, new_york):
    # 02:30 UTC on Saturday 3 October is Friday evening in New York; 04:30 UTC on Monday
    # 2 November is 23:30 on Sunday 1 November, after the clocks went back.
    moments = [datetime(2026, 10, 3, 2, 30, tzinfo=UTC), datetime(2026, 11, 2, 4, 30, tzinfo=UTC)]
    ids = []
    for moment in moments:
        with travel(moment.date(), moment.hour):
            ids.append(create_referral(world.referrer).id)
    _db.session.commit()
    with app.test_request_context():
        scope = scope_of(world)
        days = dict(
            _db.session.execute(
                select(Referral.id, scope.calendar.moment_day(Referral.submitted_at)).where(
                    Referral.id.in_(ids)
                )
            ).all()
        )
        assert [days[i] for i in ids] == [
            number_of(date(2026, 10, 2)),
            number_of(date(2026, 11, 1)),
        ]
        one_day = scope_of(world, start=date(2026, 10, 2), end=date(2026, 10, 2))
        assert funnel.funnel_counts(one_day)[0] == 1
