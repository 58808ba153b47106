"""The password typed to sign a letter is a sign-in attempt too: wrong ones count toward the
throttling of the address they come from, and from a blocked address the letter cannot be
signed."""

from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import LoginThrottle, User
from portal.extensions import db
from portal.letters.models import Letter
from tests.conftest import post_form, signed_in
from tests.factories import PASSWORD, accepted_referral, document_sessions, draft_letter


def test_wrong_passwords_at_letter_signing_count_toward_the_lockout(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    letter = draft_letter(referral, world.clinician)
    db.session.commit()
    client = signed_in(app, world.clinician)
    edit, sign = f"/letters/{letter.id}/edit", f"/letters/{letter.id}/sign"
    threshold = app.config["LOCKOUT_THRESHOLD"]
    for _ in range(threshold):
        response = post_form(client, sign, {"password": "not the password"}, token_from=edit)
        assert response.location == edit
    db.session.expire_all()
    clinician = db.session.get(User, world.clinician.id)
    assert clinician.failed_logins == threshold
    throttle = db.session.scalar(select(LoginThrottle).where(LoginThrottle.user_id == clinician.id))
    assert throttle.locked_until is not None
    # Blocked: even the right password does not sign, and the page says why.
    locked = post_form(client, sign, {"password": PASSWORD}, token_from=edit)
    assert "Too many wrong passwords were typed for your account from here" in client.get(
        locked.location
    ).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).status == "draft"
