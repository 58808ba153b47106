"""Two transactions changing the same referral's timeline at once, on two PostgreSQL
connections: each flush works the referral's milestone row out again (DELETE, then INSERT ...
SELECT). The second waits on the referral's row lock until the first commits, then replaces
the first's row instead of colliding with it on the primary key: both commit, and the row
holds both changes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.measures.models import ReferralMilestone
from portal.referrals.models import ReferralEvent
from portal.referrals.states import State
from tests.factories import create_referral

NEEDS_INFO_AT = datetime(2026, 10, 5, 17, tzinfo=UTC)
ACCEPTED_AT = datetime(2026, 10, 6, 17, tzinfo=UTC)


def _add_event(app, referral_id, to_state, at, results, name, hold=None):
    """Add a change of state on this thread's own connection; `hold` keeps it uncommitted."""
    with app.app_context():
        try:
            db.session.add(
                ReferralEvent(
                    referral_id=referral_id,
                    kind="state_change",
                    from_state=State.SUBMITTED.value,
                    to_state=to_state,
                    at=at,
                )
            )
            db.session.flush()  # the milestone row is worked out again here
            if hold is not None:
                results[f"{name}-holding"] = True
                hold.wait(5)
            db.session.commit()
            results[name] = "committed"
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            db.session.rollback()
            results[name] = f"{type(error).__name__}: {error}"
        finally:
            db.session.remove()


@pytest.mark.postgresql_only  # two live connections and row locks (SQLite serialises writers)
def test_two_transactions_changing_one_referral_both_commit(app, world):
    referral_id = create_referral(world.referrer).id
    db.session.commit()
    assert db.session.get(ReferralMilestone, referral_id) is not None
    results: dict = {}
    hold = threading.Event()
    a = threading.Thread(
        target=_add_event,
        args=(app, referral_id, State.ACCEPTED.value, ACCEPTED_AT, results, "a", hold),
    )
    a.start()
    for _ in range(100):  # until the first holds its refreshed row, uncommitted
        if results.get("a-holding"):
            break
        threading.Event().wait(0.05)
    assert results.get("a-holding"), results
    b = threading.Thread(
        target=_add_event,
        args=(app, referral_id, State.NEEDS_INFO.value, NEEDS_INFO_AT, results, "b"),
    )
    b.start()
    b.join(0.5)
    assert b.is_alive()  # waiting on the referral's lock
    hold.set()
    a.join(10)
    b.join(10)
    assert results["a"] == "committed"
    assert results["b"] == "committed"
    db.session.expire_all()
    row = db.session.get(ReferralMilestone, referral_id)
    assert (row.decided_at, row.accepted_at) == (NEEDS_INFO_AT, ACCEPTED_AT)
