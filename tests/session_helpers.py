"""Shared helpers of the session documentation tests: a clinician's client, complete forms of
each modality as the browser posts them, and posting them through the real pages."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token, force_login

BP_OK = {
    "bp_pre_systolic": "124",
    "bp_pre_diastolic": "80",
    "bp_post_systolic": "136",
    "bp_post_diastolic": "86",
}


def clinician_client(app, world):
    client = app.test_client()
    force_login(client, world.clinician)
    return client


def page_version(client, path: str) -> str:
    """The referral version the page at `path` carries in its form."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def post_session(client, referral_id: int, data: dict):
    """Document a new session through its page."""
    path = f"/treatment/referrals/{referral_id}/sessions/new"
    version = page_version(client, path)
    return client.post(
        path, data={"version": version, "csrf_token": csrf_token(client, path), **data}
    )


def post_edit(client, session_id: int, data: dict, **kwargs):
    """Correct an unsigned session through its edit page."""
    path = f"/treatment/sessions/{session_id}/edit"
    version = page_version(client, path)
    return client.post(
        path, data={"version": version, "csrf_token": csrf_token(client, path), **data}, **kwargs
    )


def sign(client, session_id: int, **data):
    """Sign through the session's page (following the redirect back to it)."""
    version = page_version(client, f"/treatment/sessions/{session_id}")
    return client.post(
        f"/treatment/sessions/{session_id}/sign",
        data={"version": version, "csrf_token": csrf_token(client, "/"), **data},
        follow_redirects=True,
    )


def iv_form(**overrides) -> dict:
    return {
        "session_date": date.today().isoformat(),
        "weight_kg": "80",
        "dose_mg_per_kg": "0.5",
        "infusion_minutes": "40",
        "infusion_started_at": "09:00",
        "lot_number": "KET-2211",
        "vitals-0-time": "09:00",
        "vitals-0-phase": "before",
        "vitals-0-bp_systolic": "124",
        "vitals-0-bp_diastolic": "80",
        "vitals-0-heart_rate": "72",
        "vitals-0-spo2": "98",
        "vitals-1-time": "09:10",
        "vitals-1-phase": "during",
        "vitals-1-bp_systolic": "138",
        "vitals-1-bp_diastolic": "88",
        "escort_confirmed": "y",
        "discharge_at": "10:30",
        **BP_OK,
        **overrides,
    }


def spravato_form(**overrides) -> dict:
    return {
        "session_date": date.today().isoformat(),
        "spravato_dose": "84",
        "devices_used": "3",
        "lot_number": "EKT2419",
        "bp_leave_systolic": "126",
        "bp_leave_diastolic": "80",
        "vitals_ok_before": "yes",
        "vitals_ok_leaving": "yes",
        "sedation": "no",
        "dissociation": "yes",
        "respiratory_depression": "no",
        "serious_adverse_events": "no",
        "monitoring_minutes": "130",
        "ready_to_leave_at": "11:15",
        "concomitant_medications": ["benzodiazepines", "opioids"],
        **BP_OK,
        **overrides,
    }


def field_errors(page: str, field_id: str) -> str:
    """The error text shown under the field `field_id` ("" when it has none)."""
    match = re.search(rf'<div id="{re.escape(field_id)}-error">(.*?)</div>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def facts(page: str) -> dict[str, str]:
    """The session page's documentation as plain text, term by term."""
    dl = page.split('<dl class="facts">')[1].split("</dl>")[0]
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", dl, re.S)
    return {term: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for term, text in pairs}


def checked(page: str, name: str, value: str) -> bool:
    """Whether the page's checkbox or radio input `name`=`value` is checked."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return re.search(r"\schecked(\s|>|=)", tag) is not None
    raise AssertionError(f"no input {name}={value} on the page")


def only_session() -> TreatmentSession:
    db.session.expire_all()
    return db.session.scalars(select(TreatmentSession)).one()


def all_sessions() -> list[TreatmentSession]:
    db.session.expire_all()
    return db.session.scalars(select(TreatmentSession).order_by(TreatmentSession.id)).all()
