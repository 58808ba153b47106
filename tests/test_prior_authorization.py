"""Prior authorization per referral (DOMAIN.md): status, number, approved S0013 units and
observation visits, covered dates, documents sent; the summary PDF filled from the referral;
warnings on the queue, the course page and when booking; IV ketamine records a self-pay
agreement instead."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from portal.authorizations.models import PriorAuthorization
from portal.authorizations.rules import AuthorizationFacts, warnings
from portal.clock import clinic_today
from portal.extensions import db
from tests.conftest import csrf_token, page_text, signed_in
from tests.factories import accepted_referral, next_weekday, spravato_referral, spravato_session
from tests.factories.scheduling import book
from tests.letter_helpers import pdf_text

TODAY = date(2026, 12, 7)


def _facts(**overrides) -> AuthorizationFacts:
    values = {
        "status": "approved",
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2027, 2, 28),
        "approved_units": 560,
        "approved_visits": 10,
        "dose_mg": 56,
    }
    return AuthorizationFacts(**(values | overrides))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"status": "not_needed", "booked": (date(2027, 5, 1),)}, []),
        ({"ends_on": TODAY + timedelta(days=14)}, ["ends on 2026-12-21, in 14 days"]),
        ({"ends_on": TODAY + timedelta(days=15)}, []),
        ({"ends_on": date(2026, 12, 6)}, ["ended on 2026-12-06"]),
        (
            {"booked": (date(2027, 2, 27), date(2027, 3, 2))},
            ["1 booked session fall outside the authorized dates"],
        ),
        (
            {"approved_units": 168, "used_units": 56, "booked": (date(2027, 1, 4),) * 3},
            ["112 units of S0013 left (mg); the 3 booked sessions at 56 mg need 168."],
        ),
        (
            {
                "approved_visits": 4,
                "used_visits": 3,
                "dose_mg": 84,
                "approved_units": None,
                "booked": (date(2027, 1, 4),) * 2,
            },
            ["1 observation visit (G2083) left for 2 booked sessions."],
        ),
        (
            {"status": "submitted", "booked": (date(2027, 1, 4),)},
            ["while the authorization is submitted"],
        ),
    ],
)
def test_warnings(overrides, expected):
    found = warnings(_facts(**overrides), TODAY)
    assert len(found) == len(expected), found
    for sentence, words in zip(found, expected, strict=True):
        assert words in sentence


def _save(client, referral, **values):
    path = f"/authorizations/referrals/{referral.id}"
    page = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page)
    data = {"csrf_token": csrf_token(client, path), "version": version.group(1) if version else "0"}
    return client.post(path, data={**data, **values})


def test_an_approval_running_short_shows_on_the_queue_course_and_schedule(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    spravato_session(referral, world.clinician, day=clinic_today() - timedelta(days=1))
    first = next_weekday(0)
    book(
        referral,
        world.coordinator,
        [first, first + timedelta(days=3), first + timedelta(days=7)],
        code="spravato_induction",
    )
    db.session.commit()
    coordinator = signed_in(app, world.coordinator)
    ends = clinic_today() + timedelta(days=10)
    saved = _save(
        coordinator,
        referral,
        status="approved",
        payer="Acme Health",
        number="PA-55-1234",
        dose_mg="56",
        approved_units="112",
        approved_visits="8",
        starts_on=(clinic_today() - timedelta(days=30)).isoformat(),
        ends_on=ends.isoformat(),
        documents_sent="Prior-authorization summary\nPHQ-9 baseline",
    )
    assert saved.status_code == 302
    page = page_text(coordinator.get(saved.location).get_data(as_text=True))
    assert "The authorization is saved." in page
    assert f"The authorization ends on {ends.isoformat()}, in 10 days" in page
    # 112 mg approved, 56 given, 3 visits booked at 56 mg need 168.
    assert "56 units of S0013 left (mg); the 3 booked sessions at 56 mg need 168." in page
    row = db.session.query(PriorAuthorization).one()
    assert (row.number, row.approved_units, row.documents_sent.splitlines()[1]) == (
        "PA-55-1234",
        112,
        "PHQ-9 baseline",
    )

    queue = coordinator.get("/triage/?state=all").get_data(as_text=True)
    assert f'href="/authorizations/referrals/{referral.id}"' in queue
    assert ">Authorization</a>" in queue
    clinician = signed_in(app, world.clinician)
    course = page_text(
        clinician.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    )
    assert "The authorization ends on" in course
    schedule = page_text(
        coordinator.get(f"/scheduling/referrals/{referral.id}").get_data(as_text=True)
    )
    assert "need 168" in schedule


def test_an_approval_needs_its_last_day_and_a_stale_copy_is_refused(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    coordinator = signed_in(app, world.coordinator)
    refused = _save(coordinator, referral, status="approved", number="PA-1", dose_mg="56")
    assert refused.status_code == 422
    text = page_text(refused.get_data(as_text=True))
    assert "An approval covers dates: enter the last covered day." in text
    assert 'value="PA-1"' in refused.get_data(as_text=True)  # nothing typed is lost
    assert _save(coordinator, referral, status="submitted", dose_mg="56").status_code == 302
    stale = coordinator.post(
        f"/authorizations/referrals/{referral.id}",
        data={
            "csrf_token": csrf_token(coordinator, "/triage/"),
            "version": "0",
            "status": "denied",
            "dose_mg": "56",
        },
        follow_redirects=True,
    )
    assert "Someone else saved this authorization meanwhile" in page_text(
        stale.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.query(PriorAuthorization).one().status == "submitted"


def test_the_summary_pdf_is_filled_from_the_referral(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    coordinator = signed_in(app, world.coordinator)
    response = coordinator.get(f"/authorizations/referrals/{referral.id}/summary.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.data).split())
    for expected in (
        "Prior-authorization summary",
        "F33.2 Major depressive disorder, recurrent, severe",
        "Sertraline 150 mg 10 No response",
        "Bupropion XL 300 mg 8 Partial response",
        "meets the common definition of treatment-resistant depression",
        "PHQ-9 16",
        f"enrolled in the SPRAVATO REMS on {referral.patient.rems_enrolled_on.isoformat()}",
        "Weeks 1-4: 56 mg on day 1",
        "S0013 (esketamine, per 1 mg) 448 units",
        "G2082 (observation visit, up to 56 mg) 8 visits",
    ):
        assert expected in text, expected


def test_iv_ketamine_records_a_self_pay_agreement_instead(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    first = next_weekday(0)
    book(referral, world.coordinator, [first, first + timedelta(days=2)])
    db.session.commit()
    coordinator = signed_in(app, world.coordinator)
    path = f"/authorizations/referrals/{referral.id}"
    page = page_text(coordinator.get(path).get_data(as_text=True))
    assert "Self-pay agreement" in page
    assert "Authorization number" not in page
    assert "2 IV ketamine session(s) booked and no self-pay agreement recorded" in page
    saved = _save(
        coordinator,
        referral,
        status="not_needed",
        dose_mg="56",
        self_pay_agreed_on=clinic_today().isoformat(),
    )
    assert saved.status_code == 302
    page = page_text(coordinator.get(path).get_data(as_text=True))
    assert "no self-pay agreement" not in page
