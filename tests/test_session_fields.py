"""Each documented field is stored and shown on the session's page; the fields required only
with another answer; and the adverse events counted in the course's outcome view."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import Referral
from portal.treatment.models import TreatmentSession
from portal.treatment.outcomes import course_outcome
from tests.conftest import force_login
from tests.factories import accepted_referral, spravato_referral
from tests.session_helpers import (
    all_sessions,
    clinician_client,
    facts,
    field_errors,
    iv_form,
    only_session,
    post_session,
    spravato_form,
)


def _nothing_stored() -> bool:
    db.session.expire_all()
    return db.session.scalars(select(TreatmentSession)).first() is None


def _input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input\b[^>]*name="{re.escape(name)}"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return value.group(1) if value else None


def _spravato(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    return clinician_client(app, world), referral


def _iv(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    return clinician_client(app, world), referral


def test_spravato_other_dose_is_stored_in_mg(app, world):
    client, referral = _spravato(app, world)
    missing = post_session(client, referral.id, spravato_form(spravato_dose="other"))
    assert missing.status_code == 422
    assert field_errors(missing.get_data(as_text=True), "dose_other_mg") == "Enter the dose in mg."
    assert _nothing_stored()

    form = spravato_form(spravato_dose="other", dose_other_mg="28", devices_used="1")
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert (session.spravato_dose, session.dose_mg, session.devices_used) == ("other", 28, 1)
    page = client.get(response.location).get_data(as_text=True)
    assert facts(page)["Dose"] == "28 mg (other) · 1 devices · lot EKT2419"
    edit = client.get(f"/treatment/sessions/{session.id}/edit").get_data(as_text=True)
    assert _input_value(edit, "dose_other_mg") == "28.0"  # offered again for correcting


def test_lowest_spo2_is_required_when_there_was_respiratory_depression(app, world):
    client, referral = _spravato(app, world)
    missing = post_session(client, referral.id, spravato_form(respiratory_depression="yes"))
    assert missing.status_code == 422
    assert field_errors(missing.get_data(as_text=True), "lowest_spo2") == "Enter the lowest SpO2."
    assert _nothing_stored()

    form = spravato_form(respiratory_depression="yes", lowest_spo2="88")
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert (session.respiratory_depression, session.lowest_spo2) == (True, 88)
    page = client.get(response.location).get_data(as_text=True)
    assert facts(page)["Respiratory depression"] == "Yes · lowest SpO2 88%"


def test_no_respiratory_depression_needs_no_spo2(app, world):
    client, referral = _spravato(app, world)
    response = post_session(client, referral.id, spravato_form(respiratory_depression="no"))
    assert response.status_code == 302
    assert (only_session().respiratory_depression, only_session().lowest_spo2) == (False, None)
    shown = facts(client.get(response.location).get_data(as_text=True))
    assert shown["Respiratory depression"] == "No"


def test_spravato_monitoring_leaving_and_serious_events_are_stored_and_shown(app, world):
    client, referral = _spravato(app, world)
    form = spravato_form(
        monitoring_minutes="135",
        ready_to_leave_at="11:40",
        bp_leave_systolic="132",
        bp_leave_diastolic="84",
        vitals_ok_leaving="no",
        serious_adverse_events="yes",
    )
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert session.monitoring_minutes == 135
    assert session.ready_to_leave_at == time(11, 40)
    assert (session.bp_leave_systolic, session.bp_leave_diastolic) == (132, 84)
    assert (session.vitals_ok_before, session.vitals_ok_leaving) == (True, False)
    assert session.serious_adverse_events is True
    shown = facts(client.get(response.location).get_data(as_text=True))
    assert shown["Monitoring"] == "135 minutes · ready to leave at 11:40"
    assert shown["Blood pressure"].endswith("· leaving 132/84 mmHg")
    assert shown["Vital signs in range"] == "before dosing Yes · before leaving No"
    assert shown["Serious adverse events"] == "Yes"


def test_interventions_escort_discharge_and_notes_are_stored_and_shown(app, world):
    client, referral = _iv(app, world)
    form = iv_form(
        adverse_events=["nausea_vomiting"],
        interventions="Ondansetron 4 mg IV; infusion slowed.",
        escort_confirmed="y",
        discharge_at="10:45",
        notes="Tolerated well after the antiemetic.",
    )
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert session.interventions == "Ondansetron 4 mg IV; infusion slowed."
    assert session.escort_confirmed is True
    assert session.discharge_at == time(10, 45)
    assert session.notes == "Tolerated well after the antiemetic."
    shown = facts(client.get(response.location).get_data(as_text=True))
    assert shown["Adverse events"] == "Nausea or vomiting"
    assert shown["Interventions"] == "Ondansetron 4 mg IV; infusion slowed."
    assert shown["Escort confirmed"] == "Yes"
    assert shown["Discharge"] == "10:45"
    assert shown["Notes"] == "Tolerated well after the antiemetic."


def test_no_escort_and_no_discharge_time_are_shown_as_such(app, world):
    client, referral = _iv(app, world)
    form = iv_form(discharge_at="")
    del form["escort_confirmed"]  # an unticked box is not posted
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert (session.escort_confirmed, session.discharge_at, session.interventions) == (
        False,
        None,
        "",
    )
    shown = facts(client.get(response.location).get_data(as_text=True))
    assert (shown["Escort confirmed"], shown["Discharge"]) == ("No", "-")
    assert (shown["Interventions"], shown["Adverse events"]) == ("none", "none")


def test_other_adverse_event_needs_a_description(app, world):
    client, referral = _iv(app, world)
    missing = post_session(client, referral.id, iv_form(adverse_events=["other"]))
    assert missing.status_code == 422
    assert field_errors(missing.get_data(as_text=True), "adverse_event_other") == (
        "Describe the event."
    )
    assert _nothing_stored()

    form = iv_form(adverse_events=["headache", "other"], adverse_event_other="Tingling in hands")
    response = post_session(client, referral.id, form)
    assert response.status_code == 302
    session = only_session()
    assert session.adverse_events == ["headache", "other"]
    assert session.adverse_event_other == "Tingling in hands"
    shown = facts(client.get(response.location).get_data(as_text=True))
    assert shown["Adverse events"] == "Headache, Other (Tingling in hands)"


def test_each_iv_vitals_row_keeps_its_phase(app, world):
    client, referral = _iv(app, world)
    rows = {
        "vitals-2-time": "10:20",
        "vitals-2-phase": "after",
        "vitals-2-bp_systolic": "126",
        "vitals-2-bp_diastolic": "82",
        "vitals-2-heart_rate": "70",
        "vitals-2-spo2": "99",
    }
    response = post_session(client, referral.id, iv_form(**rows))
    assert response.status_code == 302
    vitals = only_session().vitals
    assert [(v["time"], v["phase"]) for v in vitals] == [
        ("09:00", "before"),
        ("09:10", "during"),
        ("10:20", "after"),
    ]
    assert vitals[2] == {
        "time": "10:20",
        "phase": "after",
        "bp_systolic": 126,
        "bp_diastolic": 82,
        "heart_rate": 70,
        "spo2": 99,
    }
    page = client.get(response.location).get_data(as_text=True)
    table = page.split("<h3>Vital signs</h3>")[1].split("</table>")[0]
    shown = [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    ]
    assert shown == [
        "09:00 Before 124/80 72 98%",
        "09:10 During 138/88 - -",
        "10:20 After 126/82 70 99%",
    ]


def _outcome_summary(page: str) -> str:
    """The sentence under the outcome table, as plain text."""
    paragraph = page.split("planned sessions done")[0].rsplit("<p>", 1)[1]
    rest = page.split("planned sessions done")[1].split("</p>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", paragraph + "planned sessions done" + rest).split())


def test_outcome_view_counts_adverse_events_by_kind_and_serious(app, world):
    client, referral = _spravato(app, world)
    start = date.today() - timedelta(days=9)
    documented = [  # (adverse events, serious adverse events)
        (["nausea_vomiting", "headache"], "no"),
        (["nausea_vomiting", "raised_bp"], "yes"),
        ([], "yes"),
        (["other"], "no"),
    ]
    for i, (events, serious) in enumerate(documented):
        form = spravato_form(
            session_date=(start + timedelta(days=3 * i)).isoformat(),
            adverse_events=events,
            adverse_event_other="Tingling" if "other" in events else "",
            serious_adverse_events=serious,
        )
        assert post_session(client, referral.id, form).status_code == 302
    sessions = all_sessions()
    assert [s.adverse_events for s in sessions] == [e for e, _ in documented]
    assert [s.serious_adverse_events for s in sessions] == [False, True, True, False]

    summary = (
        "4 of 8 planned sessions done (0 signed) · adverse events: 5 (headache 1, nausea or "
        "vomiting 2, other 1, raised blood pressure 1) · serious adverse events: 2"
    )
    course = client.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    assert _outcome_summary(course) == summary
    referrer = app.test_client()  # the referrer sees the same counts on the referral
    force_login(referrer, world.referrer)
    detail = referrer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert _outcome_summary(detail) == summary
    outcome = course_outcome(db.session.get(Referral, referral.id))  # as letters take it
    assert (outcome.adverse_events, outcome.serious_adverse_events) == (5, 2)
    assert outcome.adverse_events_by_kind == [
        ("Headache", 1),
        ("Nausea or vomiting", 2),
        ("Other", 1),
        ("Raised blood pressure", 1),
    ]


def test_outcome_view_with_no_adverse_event(app, world):
    client, referral = _iv(app, world)
    assert post_session(client, referral.id, iv_form()).status_code == 302
    course = client.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    assert _outcome_summary(course) == (
        "1 of 6 planned sessions done (0 signed) · adverse events: 0 · serious adverse events: 0"
    )
