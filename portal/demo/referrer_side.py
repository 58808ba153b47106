"""The referrer-side demo: varied intakes (so screening flags show), messages, attached
records, a draft, an invitation and an account request, all through the real services."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from werkzeug.datastructures import FileStorage, MultiDict

from portal.accounts.models import AccountRequest
from portal.accounts.service import create_invitation
from portal.attachments.service import add_upload
from portal.auth.passwords import hash_password
from portal.extensions import db
from portal.messages.service import post_message
from portal.referrals.intake import draft_for_key, save_draft
from portal.referrals.states import State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

ONE_TRIAL = [{"drug": "Escitalopram", "dose": "20 mg", "weeks": 12, "outcome": "no_response"}]
# Intake sections that differ from the typical referral, by demo index.
INTAKE_VARIATIONS: dict[int, dict] = {
    0: {
        "suicidality": {
            "recent_ideation": True,
            "recent_attempt": False,
            "details": "Passive ideation, no plan; safety plan reviewed on 11/02.",
        }
    },
    3: {"clinical": {"bp_systolic": 152, "bp_diastolic": 94, "pulse": 84}},
    5: {
        "medications": [
            {"name": "Lorazepam", "dose": "0.5 mg at night", "drug_class": "benzodiazepine"},
            {"name": "Venlafaxine XR", "dose": "225 mg daily", "drug_class": ""},
        ]
    },
    6: {"trials": ONE_TRIAL},
    1: {
        "screening": {"sud": True, "sud_details": "Alcohol use disorder, 8 months sober"},
        "trials": [
            {"drug": "Sertraline", "dose": "200 mg", "weeks": 10, "outcome": "no_response"},
            {"drug": "Venlafaxine XR", "dose": "225 mg", "weeks": 8, "outcome": "no_response"},
            {
                "drug": "Aripiprazole (add-on)",
                "dose": "5 mg",
                "weeks": 6,
                "outcome": "partial_response",
            },
        ],
    },
}


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A small, real PDF such as a referrer would attach."""
    from weasyprint import HTML

    body = "".join(f"<p>{line}</p>" for line in lines)
    html = (
        "<style>@page{size:Letter;margin:2cm;font-family:'DejaVu Sans'}"
        f"body{{font-family:'DejaVu Sans'}}</style><h1>{title}</h1>{body}"
    )
    return HTML(string=html).write_pdf()


def attach_records(referral: Referral, referrer: User) -> None:
    """The medication history a referrer attaches to a referral."""
    upload = FileStorage(
        io.BytesIO(
            demo_pdf(
                "Medication history",
                [
                    "Sertraline 150 mg daily, 10 weeks: no response.",
                    "Bupropion XL 300 mg daily, 8 weeks: partial response.",
                    "Current: venlafaxine XR 225 mg daily.",
                ],
            )
        ),
        filename="medication-history.pdf",
    )
    add_upload(referral, upload, actor=referrer)


def add_referrer_side(referrals: list[Referral], referrer: User, coordinator: User) -> None:
    referrer.npi, referrer.phone, referrer.fax = "1245319599", "(207) 555-0190", "(207) 555-0191"
    referrer.address_line1, referrer.city = "18 Elm Street", "Portland"
    referrer.region, referrer.postal_code = "ME", "04102"
    questioned = next(r for r in referrals if r.state == State.NEEDS_INFO)
    post_message(
        questioned,
        "The patient asks whether a family member may drive them home after each session.",
        actor=referrer,
    )
    post_message(
        questioned,
        "Yes: any adult may drive, and the patient must not drive until the next day.",
        actor=coordinator,
    )
    treated = next(r for r in referrals if r.state == State.IN_TREATMENT)
    post_message(treated, "Session 3 went well; the next one is on Friday.", actor=coordinator)
    draft = draft_for_key("", referrer)
    save_draft(
        draft,
        MultiDict({"first_name": "Morgan", "last_name": "Ellery", "phone": "555-0155"}),
        actor=referrer,
    )
    create_invitation(
        "new.provider@demo.test", "Lena Ortiz", referrer.practice_id, actor=coordinator
    )
    db.session.add(
        AccountRequest(
            email="requested@demo.test",
            full_name="Tomas Berg",
            credentials="LCSW",
            npi="1234567893",
            practice_name="Harborview Counseling",
            phone="(207) 555-0123",
            note="Therapist for several patients interested in SPRAVATO.",
            password_hash=hash_password("requested-demo-2026"),
        )
    )
