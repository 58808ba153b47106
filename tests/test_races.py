"""One-time codes and the failure counters under real parallel requests: the portal served on
127.0.0.1 by a threaded server, one thread per request, each with its own database
connection (SQLite file or PostgreSQL, whichever TEST_DATABASE_URL names)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth import mfa
from portal.auth.models import LoginThrottle, RecoveryCode, User
from portal.extensions import db
from tests.factories import PASSWORD, fresh_totp_code
from tests.live_helpers import LiveClient, all_at_once, served

SESSIONS = 8


def _half_signed_in(base: str, email: str, count: int) -> list[tuple[LiveClient, str]]:
    """`count` browsers past the password step, each with the code page's form token."""
    clients = []
    for _ in range(count):
        client = LiveClient(base)
        answer = client.post("/login", {"email": email, "password": PASSWORD})
        assert answer.status == 302, answer.text
        assert answer.location.endswith("/two-step/code")
        clients.append((client, client.token("/two-step/code")))
    return clients


def _signed_in(answers) -> int:
    return sum(1 for a in answers if a.status == 302 and not a.location.endswith("/login"))


def _race_code(app, email: str, code: str):
    with served(app) as base:
        clients = _half_signed_in(base, email, SESSIONS)
        return all_at_once(
            [
                lambda c=client, t=token: c.post("/two-step/code", {"code": code}, token=t)
                for client, token in clients
            ]
        )


def test_a_totp_code_posted_from_many_sessions_at_once_signs_in_once(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 1000)  # the race, not the throttle
    answers = _race_code(app, world.clinician.email, fresh_totp_code(world.clinician))
    assert _signed_in(answers) == 1, [a.status for a in answers]
    assert sorted(a.status for a in answers) == [302] + [422] * (SESSIONS - 1)


def test_a_recovery_code_posted_from_many_sessions_at_once_signs_in_once(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 1000)
    codes = mfa.new_recovery_codes(world.clinician)
    db.session.commit()
    answers = _race_code(app, world.clinician.email, codes[0])
    assert _signed_in(answers) == 1, [a.status for a in answers]
    db.session.expire_all()
    used = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_not(None))
    )
    assert used == 1


def test_parallel_wrong_passwords_check_no_more_guesses_than_the_threshold(app, world):
    # With the suite's cheap hash the forty requests also commit at once: the audit chain's
    # after-commit work must not hold a second pooled connection beside the request's (it did,
    # and the pool ran dry: 500s after 30 s).
    parallel = 40
    email = world.referrer.email
    with served(app) as base:
        clients = [LiveClient(base) for _ in range(parallel)]
        tokens = [client.token("/login") for client in clients]
        answers = all_at_once(
            [
                lambda c=client, t=token: c.post(
                    "/login",
                    {"email": email, "password": "not the password"},
                    token=t,
                )
                for client, token in zip(clients, tokens, strict=True)
            ]
        )
        assert {a.status for a in answers} == {200}
        # The address is blocked now: the right password is refused too.
        late = LiveClient(base).post("/login", {"email": email, "password": PASSWORD})
        assert late.status == 200
    db.session.expire_all()
    outcomes = dict(
        db.session.execute(
            select(AuditEvent.outcome, func.count())
            .where(AuditEvent.action == "auth.login", AuditEvent.object_id == world.referrer.id)
            .group_by(AuditEvent.outcome)
        ).all()
    )
    threshold = app.config["LOCKOUT_THRESHOLD"]
    # Exactly `threshold` passwords were checked; every other attempt was refused unchecked.
    assert outcomes == {"failed": threshold, "denied": parallel - threshold + 1}
    throttle = db.session.scalar(
        select(LoginThrottle).where(LoginThrottle.user_id == world.referrer.id)
    )
    assert throttle.failures == threshold
    assert throttle.locked_until is not None
    assert db.session.get(User, world.referrer.id).failed_logins == threshold
