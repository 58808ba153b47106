"""Opening a new referral from the queue puts it in review, assigned to the opener (as the
README says); the screening page shows one assignment, never two different ones."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.states import State
from tests.conftest import csrf_token, page_text, signed_in
from tests.factories import create_referral


def _open_form(html: str, referral_id: int) -> dict:
    form = re.search(
        rf'<form id="open-{referral_id}" method="post" action="([^"]+)"[^>]*>(.*?)</form>',
        html,
        re.S,
    )
    assert form, "no Open form for the new referral"
    return {"action": form.group(1), **dict(re.findall(r'name="(\w+)" value="([^"]*)"', form[2]))}


def test_opening_from_the_queue_moves_to_review_and_assigns_the_opener(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = signed_in(app, world.coordinator)
    queue = client.get("/triage/").get_data(as_text=True)
    # The number of a new referral is the button that opens it, not a plain link.
    assert f'form="open-{referral.id}"' in queue
    assert f'<a href="/triage/{referral.id}/screening">' not in queue
    form = _open_form(queue, referral.id)
    opened = client.post(form.pop("action"), data=form)
    assert opened.location == f"/triage/{referral.id}/screening"
    page = page_text(client.get(opened.location).get_data(as_text=True))
    assert "is in review and assigned to you" in page
    db.session.expire_all()
    row = db.session.get(Referral, referral.id)
    assert row.state == State.IN_REVIEW
    assert row.assigned_coordinator_id == world.coordinator.id
    # Pressed twice (the stale version again): the screening page, nothing changed or refused.
    again = client.post(f"/triage/{referral.id}/open", data=form)
    assert again.location == f"/triage/{referral.id}/screening"
    assert "refused" not in page_text(client.get(again.location).get_data(as_text=True))
    # Once open, the queue (Open tab: it needs no action now) links to the screening page.
    queue = client.get("/triage/?state=open").get_data(as_text=True)
    assert f'<a href="/triage/{referral.id}/screening">' in queue


def test_the_screening_page_shows_one_assignment(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = signed_in(app, world.coordinator)
    html = client.get(f"/triage/{referral.id}/screening").get_data(as_text=True)
    assert "Not assigned" in page_text(html)
    menu = re.search(r'<select[^>]*name="coordinator_id"[^>]*>(.*?)</select>', html, re.S)[1]
    # The menu's shown (first or selected) option agrees: nobody is assigned.
    first = re.search(r"<option[^>]*>([^<]*)</option>", menu)[1]
    assert first == "Not assigned"
    assert "selected" not in menu
    # Choosing "Not assigned" is refused in words; choosing a coordinator assigns.
    token = csrf_token(client, f"/triage/{referral.id}/screening")
    refused = client.post(
        f"/triage/{referral.id}/assign",
        data={
            "csrf_token": token,
            "version": referral.version,
            "coordinator_id": "0",
            "back": "screening",
        },
        follow_redirects=True,
    )
    assert "Choose a coordinator of this clinic." in page_text(refused.get_data(as_text=True))
    done = client.post(
        f"/triage/{referral.id}/assign",
        data={
            "csrf_token": token,
            "version": referral.version,
            "coordinator_id": str(world.coordinator.id),
            "back": "screening",
        },
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "Not assigned" not in page_text(html)
    menu = re.search(r'<select[^>]*name="coordinator_id"[^>]*>(.*?)</select>', html, re.S)[1]
    assert re.search(rf'<option selected value="{world.coordinator.id}">', menu) or re.search(
        rf'<option value="{world.coordinator.id}" selected>', menu
    )


def test_the_accept_form_preselects_the_only_clinician_and_the_protocols_count(app, world):
    from portal.scheduling.generation import parse_phases, session_count
    from portal.scheduling.queries import default_protocol_for, protocols
    from portal.scheduling.settings import seed_protocols
    from portal.triage.service import open_for_review

    seed_protocols()
    referral = create_referral(world.referrer, requested_modality="spravato")
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    db.session.commit()
    proposed = default_protocol_for("spravato", protocols())
    expected = session_count(parse_phases(proposed.phases))
    client = signed_in(app, world.coordinator)
    html = client.get(f"/triage/{referral.id}/accept").get_data(as_text=True)
    menu = re.search(r'<select[^>]*name="clinician_id"[^>]*>(.*?)</select>', html, re.S)[1]
    assert re.search(rf'<option selected value="{world.clinician.id}">', menu)
    assert re.search(rf'name="planned_sessions"[^>]*value="{expected}"', html)
