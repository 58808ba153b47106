"""HTML and script typed anywhere are shown literally, on the referrer's pages and the
clinic's. Every free-text field carries its own payload, so a single `|safe` (or Markup)
anywhere on these pages fails the test and names the field.

The intake's email is checked as an address, so it cannot carry markup; every other text
the referrer or the clinic types is here."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.screening import SCREENING_QUESTIONS
from tests.conftest import csrf_token, signed_in
from tests.factories import intake_form

INTAKE_FIELDS = [
    "first_name",
    "last_name",
    "phone",
    "address_line1",
    "city",
    "region",
    "postal_code",
    "preferred_language",
    "emergency_contact",
    "insurance_payer",
    "insurance_member_id",
    "psychotherapy",
    "ect_history",
    "tms_history",
    "trials-0-drug",
    "trials-0-dose",
    "trials-1-drug",
    "trials-1-dose",
    "medications-0-name",
    "medications-0-dose",
    "medications-1-name",
    "medications-1-dose",
    *(f"{key}_details" for key, _, _ in SCREENING_QUESTIONS),
    "suicidality_details",
    "reason",
    "other_diagnosis_description",  # with the other diagnosis's code (issue 17 item 13)
]
NAME_FIELDS = ("first_name", "last_name")
PROFILE_FIELDS = ("full_name", "credentials")
TIMELINE_FIELDS = ("question", "answer", "cancel_reason")
MESSAGE_FIELDS = ("referrer_message", "clinic_message")
FIELDS = [*INTAKE_FIELDS, *PROFILE_FIELDS, *TIMELINE_FIELDS, *MESSAGE_FIELDS]
# One payload per field, each at most 20 characters (the shortest limit, the ZIP code's).
PAYLOAD = {field: f"<script>x{n}</script>" for n, field in enumerate(FIELDS)}
ESCAPED = {
    field: payload.replace("<", "&lt;").replace(">", "&gt;") for field, payload in PAYLOAD.items()
}


def _version(referral_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Referral, referral_id).version)


def _post(client, path: str, data: dict, token_from: str):
    token = csrf_token(client, token_from)
    response = client.post(path, data={**data, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response


def _check(pages: dict[str, str], expected: dict[str, tuple[str, ...]]) -> None:
    """Each field's payload escaped on each page where it is shown; raw on none of them."""
    for name, page in pages.items():
        for field, raw in PAYLOAD.items():
            assert raw not in page, f"{field} is shown as markup on {name}"
    for field, names in expected.items():
        for name in names:
            assert ESCAPED[field] in pages[name], f"{field} is missing from {name}"


def test_every_text_field_is_shown_literally_on_both_sides(app, world):
    referrer = signed_in(app, world.referrer)
    _post(
        referrer,
        "/profile",
        {"full_name": PAYLOAD["full_name"], "credentials": PAYLOAD["credentials"]},
        "/profile",
    )
    form = intake_form(
        **{field: PAYLOAD[field] for field in INTAKE_FIELDS},
        **{key: "yes" for key, _, _ in SCREENING_QUESTIONS},  # details show with the flags
        **{
            "trials-0-weeks": "10",
            "trials-0-outcome": "no_response",
            "trials-1-weeks": "8",
            "trials-1-outcome": "no_response",
            "medications-0-drug_class": "benzodiazepine",  # flagged: name and dose on the flag
            "medications-1-drug_class": "",
            "recent_ideation": "yes",
            "other_diagnosis": "F43.12",
        },
    )
    page = referrer.get("/referrals/new").get_data(as_text=True)
    form["form_key"] = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page).group(1)
    _post(referrer, "/referrals/new", form, "/referrals/new")
    referral = db.session.scalar(select(Referral))
    assert referral.state == "submitted"
    rid = referral.id

    staff = signed_in(app, world.coordinator)
    _post(staff, f"/triage/{rid}/open", {"version": _version(rid)}, f"/referrals/{rid}")
    _post(
        staff,
        f"/triage/{rid}/decide/needs_info",
        {"version": _version(rid), "reason": PAYLOAD["question"]},
        f"/referrals/{rid}",
    )

    # While the clinic waits: the question in the banners, the intake in the edit form.
    waiting = {
        "referrer page": referrer.get(f"/referrals/{rid}").get_data(as_text=True),
        "referrer edit": referrer.get(f"/referrals/{rid}/edit").get_data(as_text=True),
        "clinic screening": staff.get(f"/triage/{rid}/screening").get_data(as_text=True),
        "clinic page": staff.get(f"/referrals/{rid}").get_data(as_text=True),
    }
    assert "The clinic asked:" in waiting["referrer page"]
    assert "Waiting for the referrer's answer to:" in waiting["clinic screening"]
    everywhere = ("referrer page", "clinic screening", "clinic page")
    _check(
        waiting,
        {
            **dict.fromkeys(INTAKE_FIELDS, (*everywhere, "referrer edit")),
            **dict.fromkeys(PROFILE_FIELDS, everywhere),
            "question": everywhere,
        },
    )
    banner = waiting["referrer page"].split("The clinic asked:", 1)[1].split("</div>", 1)[0]
    assert ESCAPED["question"] in banner

    _post(
        referrer,
        f"/referrals/{rid}/answer",
        {"version": _version(rid), "reason": PAYLOAD["answer"]},
        f"/referrals/{rid}",
    )
    _post(
        referrer,
        f"/referrals/{rid}/messages",
        {"body": PAYLOAD["referrer_message"]},
        f"/referrals/{rid}",
    )
    _post(
        staff,
        f"/referrals/{rid}/messages",
        {"body": PAYLOAD["clinic_message"]},
        f"/referrals/{rid}",
    )
    _post(
        referrer,
        f"/referrals/{rid}/cancel",
        {"version": _version(rid), "reason": PAYLOAD["cancel_reason"]},
        f"/referrals/{rid}",
    )

    done = {
        "referrer page": referrer.get(f"/referrals/{rid}").get_data(as_text=True),
        "referrer dashboard": referrer.get("/referrals/").get_data(as_text=True),
        "clinic screening": staff.get(f"/triage/{rid}/screening").get_data(as_text=True),
        "clinic page": staff.get(f"/referrals/{rid}").get_data(as_text=True),
        "clinic queue": staff.get("/triage/?state=all").get_data(as_text=True),
    }
    assert 'class="badge badge-cancelled"' in done["clinic page"]
    _check(
        done,
        {
            **dict.fromkeys(INTAKE_FIELDS, everywhere),
            **dict.fromkeys(NAME_FIELDS, (*everywhere, "referrer dashboard", "clinic queue")),
            **dict.fromkeys(PROFILE_FIELDS, everywhere),
            "full_name": (*everywhere, "clinic queue"),
            **dict.fromkeys(TIMELINE_FIELDS, everywhere),  # the screening page's last events
            **dict.fromkeys(MESSAGE_FIELDS, ("referrer page", "clinic page")),
        },
    )
