"""The intake through the pages: drafts, refusals that keep everything, rows without JS,
double submits, computed results on both sides, and edits while the clinic waits."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.referrals.models import Referral
from portal.treatment.models import Assessment
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral, intake_form

KEY_RE = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')


def _new_form(client) -> tuple[str, str]:
    page = client.get("/referrals/new").get_data(as_text=True)
    return csrf_token(client, "/referrals/new"), KEY_RE.search(page).group(1)


def _post(client, path="/referrals/new", **changes):
    token, key = _new_form(client)
    data = intake_form(**{"form_key": key, **changes})
    return client.post(path, data={**data, "csrf_token": token})


def _sent() -> list[Referral]:
    db.session.expire_all()
    return list(db.session.scalars(select(Referral).where(Referral.state != "draft")))


@pytest.fixture
def referrer_client(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    return client


def test_save_draft_keeps_everything_even_invalid_and_comes_back(referrer_client):
    response = _post(
        referrer_client,
        action="save",
        first_name="Dora",
        date_of_birth="",  # missing: fine for a draft
        phq9_3=None,
        reason="Half written <i>note</i>",
        **{"trials-0-drug": "Escitalopram", "trials-0-weeks": "nine"},
    )
    assert response.status_code == 200
    assert "Draft saved" in response.get_data(as_text=True)
    draft = db.session.scalar(select(Referral))
    assert draft.state == "draft"
    assert draft.patient is None
    page = referrer_client.get(f"/referrals/{draft.id}/edit").get_data(as_text=True)
    assert 'value="Dora"' in page
    assert 'value="Escitalopram"' in page
    assert 'value="nine"' in page  # even what would not validate is kept as typed
    assert "Half written &lt;i&gt;note&lt;/i&gt;" in page
    dashboard = referrer_client.get("/referrals/?show=draft").get_data(as_text=True)
    assert "Dora Testpatient" in dashboard
    assert "Draft" in dashboard


def _idle_save(client, **changes):
    """What the session timer posts a few seconds before the idle deadline (the Save draft
    button, marked after_save=sign_out)."""
    token, key = _new_form(client)
    data = intake_form(**{"form_key": key, "action": "save", "after_save": "sign_out", **changes})
    return client.post("/referrals/new", data={**data, "csrf_token": token})


def test_the_save_before_the_idle_sign_out_saves_then_signs_out(referrer_client, world):
    from portal.auth.models import UserSession

    with time_machine.travel(utcnow(), tick=False) as clock:
        token, key = _new_form(referrer_client)
        clock.shift(timedelta(minutes=14, seconds=50))  # 10 seconds before the idle deadline
        data = intake_form(form_key=key, action="save", after_save="sign_out", first_name="Idle")
        response = referrer_client.post("/referrals/new", data={**data, "csrf_token": token})
        draft = db.session.scalar(select(Referral))
        assert response.status_code == 302
        assert response.location == f"/login?next=/referrals/{draft.id}/edit"
        assert draft.state == "draft"
        assert draft.form_data["first_name"] == ["Idle"]
        assert db.session.scalar(select(UserSession.revoked_reason)) == "idle"
        page = referrer_client.get(response.location).get_data(as_text=True)
        assert "What you had typed was saved in the draft first." in page
        assert referrer_client.get(f"/referrals/{draft.id}/edit").status_code == 302


def test_the_idle_save_keeps_a_session_still_active_elsewhere(referrer_client, world):
    """Another tab kept the session alive: this tab's timer saves, but nobody is signed out."""
    from portal.auth.models import UserSession

    response = _idle_save(referrer_client, first_name="Busy")
    assert response.status_code == 200
    assert "Draft saved." in response.get_data(as_text=True)
    assert db.session.scalar(select(Referral)).form_data["first_name"] == ["Busy"]
    assert db.session.scalar(select(UserSession.revoked_at)) is None
    assert referrer_client.get("/referrals/").status_code == 200


def test_refused_submit_marks_each_field_and_loses_nothing(referrer_client):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = _post(
        referrer_client,
        date_of_birth=tomorrow,
        phq9_4="4",
        consent=None,
        aneurysm=None,
        **{"trials-1-drug": "", "trials-1-weeks": "8"},
        reason="<script>alert(1)</script> keep me",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The date of birth cannot be in the future." in page
    assert "Not a valid choice" in page  # PHQ-9 item of 4
    assert "The patient&#39;s consent is required." in page
    assert "Answer yes or no." in page
    assert "Drug: Name the drug." in page  # a started trial row must be complete
    assert "&lt;script&gt;alert(1)&lt;/script&gt; keep me" in page
    assert "<script>alert(1)" not in page
    assert _sent() == []
    draft = db.session.scalar(select(Referral))
    assert draft.form_data["reason"] == ["<script>alert(1)</script> keep me"]


def test_submit_works_out_totals_trd_flags_and_urgency(app, world, referrer_client):
    response = _post(
        referrer_client,
        recent_ideation="yes",
        ich="yes",
        ich_details="2018",
        bp_systolic="150",
        bp_diastolic="95",
        **{f"gad7_{i}": "2" for i in range(1, 8)},
        **{"medications-0-name": "Clonazepam", "medications-0-drug_class": "benzodiazepine"},
    )
    assert response.status_code == 302
    [referral] = _sent()
    assert referral.state == "submitted"
    assert referral.urgency == "urgent"
    assert referral.trd_met is True
    codes = {f["code"] for f in referral.screening_flags}
    assert codes == {"ich", "bp_high", "suicidality", "med_benzodiazepine"}
    scales = {a.scale: (a.total, a.band) for a in referral.assessments}
    assert scales == {"PHQ-9": (16, "moderately severe"), "GAD-7": (14, "moderate")}
    staff = app.test_client()
    force_login(staff, world.coordinator)
    for client in (referrer_client, staff):
        page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
        assert "Screening results" in page
        assert "Recent office blood pressure 150/95 mmHg" in page
        assert "History of intracerebral hemorrhage? Yes: 2018" in page
        assert "Recent suicidal ideation reported" in page
        assert "<strong>Met</strong>" in page
        assert "GAD-7 at referral" in page
        assert "moderate" in page
        assert "Clonazepam" in page


def test_double_submit_sends_one_referral(referrer_client):
    token, key = _new_form(referrer_client)
    data = {**intake_form(form_key=key), "csrf_token": token}
    first = referrer_client.post("/referrals/new", data=data)
    second = referrer_client.post("/referrals/new", data=data)  # double click / back button
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    assert len(_sent()) == 1
    page = referrer_client.get(second.location).get_data(as_text=True)
    assert "was already sent; nothing was sent twice" in page


def test_rows_are_added_and_removed_without_javascript(referrer_client):
    response = _post(referrer_client, action="add_trials")
    page = response.get_data(as_text=True)
    assert 'name="trials-2-drug"' in page  # a third row
    draft = db.session.scalar(select(Referral))
    token = csrf_token(referrer_client, f"/referrals/{draft.id}/edit")
    data = intake_form(form_key=draft.form_key, action="remove_trials-0", version="")
    page = referrer_client.post(
        f"/referrals/{draft.id}/edit", data={**data, "csrf_token": token}
    ).get_data(as_text=True)
    assert "Sertraline" not in page
    assert "Bupropion XL" in page


def test_script_in_every_text_field_is_shown_literally_to_both_sides(app, world, referrer_client):
    evil = '<script>alert("x")</script><img src=x>'  # 38 characters: fits every field
    short = "<script>s()</script>"  # for fields limited to 20 characters
    text_fields = [
        "first_name", "last_name", "address_line1", "city", "preferred_language",
        "emergency_contact", "insurance_payer", "psychotherapy", "ect_history",
        "tms_history", "suicidality_details", "reason", "aneurysm_details",
    ]  # fmt: skip
    changes = dict.fromkeys(text_fields, evil)
    changes |= dict.fromkeys(("phone", "region", "postal_code"), short)
    changes["insurance_member_id"] = evil
    changes |= {"trials-0-drug": evil, "trials-0-dose": evil, "medications-0-name": evil}
    changes |= {"other_diagnosis": "F43.12", "other_diagnosis_description": evil}
    response = _post(referrer_client, **changes)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [referral] = _sent()
    staff = app.test_client()
    force_login(staff, world.coordinator)
    for client, url in (
        (referrer_client, f"/referrals/{referral.id}"),
        (referrer_client, "/referrals/"),
        (staff, f"/referrals/{referral.id}"),
        (staff, "/triage/"),
    ):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page.replace('<script src="/static/js/', ""), url
        assert "<img src=x" not in page, url
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, url


def test_questioned_referral_can_be_edited_then_answered(app, world, referrer_client):
    referral = create_referral(world.referrer)
    from portal.referrals.service import change_state

    change_state(referral, "in_review", actor=world.coordinator, expected_version=referral.version)
    change_state(
        referral,
        "needs_info",
        actor=world.coordinator,
        expected_version=referral.version,
        reason="Add the GAD-7 please",
    )
    db.session.commit()
    edit = f"/referrals/{referral.id}/edit"
    page = referrer_client.get(edit).get_data(as_text=True)
    assert 'value="Alexis"' in page  # rebuilt from the stored intake
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = csrf_token(referrer_client, edit)
    data = intake_form(
        form_key=referral.form_key, version=version, **{f"gad7_{i}": "1" for i in range(1, 8)}
    )
    response = referrer_client.post(edit, data={**data, "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert referral.state == "needs_info"  # still waiting for the answer
    assert referral.events[-1].kind == "intake_updated"
    assert (
        db.session.scalar(select(func.count(Assessment.id)).where(Assessment.scale == "GAD-7")) == 1
    )
    # A stale copy of the form (the old version) is refused, nothing overwritten, and what
    # was typed comes back with the reason.
    stale = referrer_client.post(edit, data={**data, "csrf_token": token, "reason": "stale <b>"})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "while you were looking at it" in page
    assert "stale &lt;b&gt;" in page
    db.session.expire_all()
    assert referral.reason != "stale <b>"


def test_sent_referral_cannot_be_edited(referrer_client, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    response = referrer_client.get(f"/referrals/{referral.id}/edit")
    assert response.status_code == 302


def test_another_provider_gets_404_for_edit_and_draft(app, world, referrer_client):
    _post(referrer_client, action="save")
    draft = db.session.scalar(select(Referral))
    other = app.test_client()
    force_login(other, world.other_referrer)
    colleague = app.test_client()
    force_login(colleague, world.colleague)  # same sharing practice: still not a draft
    for client in (other, colleague):
        assert client.get(f"/referrals/{draft.id}/edit").status_code == 404
        assert client.get(f"/referrals/{draft.id}").status_code == 404
    # A form key is never reused by someone else: their post makes their own draft.
    token = csrf_token(other, "/referrals/new")
    data = intake_form(form_key=draft.form_key, action="save", first_name="Other")
    other.post("/referrals/new", data={**data, "csrf_token": token})
    db.session.expire_all()
    assert draft.form_data["first_name"] != ["Other"]


def test_a_draft_can_be_discarded(referrer_client):
    _post(referrer_client, action="save", first_name="Gone")
    draft = db.session.scalar(select(Referral))
    page = referrer_client.get(f"/referrals/{draft.id}/edit").get_data(as_text=True)
    assert "Discard this draft" in page
    token = csrf_token(referrer_client, f"/referrals/{draft.id}/edit")
    response = referrer_client.post(
        f"/referrals/{draft.id}/cancel",
        data={"csrf_token": token, "version": str(draft.version), "reason": "Draft discarded"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert draft.state == "cancelled"
    assert "Gone" not in referrer_client.get("/referrals/?show=draft").get_data(as_text=True)
    assert "Gone" not in referrer_client.get("/referrals/?show=closed").get_data(as_text=True)
    page = referrer_client.get(f"/referrals/{draft.id}", follow_redirects=True)
    assert "never sent to the clinic" in page.get_data(as_text=True)


def test_enter_in_a_field_saves_the_draft_never_removes_a_row(referrer_client):
    page = referrer_client.get("/referrals/new").get_data(as_text=True)
    form = page[page.index('<form method="post" enctype="multipart/form-data"') :]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'value="save"' in first_button  # the browser's implicit submission uses it


def test_more_rows_than_kept_are_refused_not_dropped(referrer_client):
    rows = {f"trials-{i}-drug": f"Drug {i}" for i in range(21)}
    rows |= {f"trials-{i}-weeks": "8" for i in range(21)}
    rows |= {f"trials-{i}-outcome": "no_response" for i in range(21)}
    response = _post(referrer_client, **rows)
    assert response.status_code == 422
    assert "At most 20 rows" in response.get_data(as_text=True)
    assert _sent() == []


def test_a_racing_second_click_finds_the_referral_already_sent(app, world, monkeypatch):
    """Two posts of one form at the same moment: the loser's insert hits the unique form
    key, and it answers like a double click instead of failing."""
    from portal.referrals import intake

    referral = create_referral(world.referrer)
    referral.form_key = "raced-key"
    db.session.commit()
    real_scalar = db.session.scalar
    calls = []

    def first_lookup_misses(stmt, *args, **kwargs):
        calls.append(stmt)
        return None if len(calls) == 1 else real_scalar(stmt, *args, **kwargs)

    with app.test_request_context():
        monkeypatch.setattr(db.session, "scalar", first_lookup_misses)
        with pytest.raises(intake.AlreadySubmitted) as raised:
            intake.draft_for_key("raced-key", world.referrer)
        monkeypatch.undo()
        assert raised.value.referral.id == referral.id
