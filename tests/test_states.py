"""The referral state machine, exhaustively: every (from, to, role) triple."""

from __future__ import annotations

import itertools

import pytest

from portal.referrals.states import (
    TRANSITIONS,
    InvalidTransition,
    State,
    allowed_targets,
    check_transition,
)
from portal.roles import Role

ROLES = [r.value for r in Role]
# The intended rules, written out independently of the table they check.
EXPECTED = {
    (State.DRAFT, State.SUBMITTED): {"referrer"},
    (State.DRAFT, State.CANCELLED): {"referrer"},
    (State.SUBMITTED, State.IN_REVIEW): {"coordinator", "clinician", "admin"},
    (State.IN_REVIEW, State.NEEDS_INFO): {"coordinator", "clinician", "admin"},
    (State.IN_REVIEW, State.ACCEPTED): {"coordinator", "clinician", "admin"},
    (State.IN_REVIEW, State.DECLINED): {"coordinator", "clinician", "admin"},
    (State.NEEDS_INFO, State.IN_REVIEW): set(ROLES),
    (State.ACCEPTED, State.SCHEDULED): {"coordinator", "clinician", "admin"},
    (State.ACCEPTED, State.IN_TREATMENT): {"clinician"},
    (State.SCHEDULED, State.IN_TREATMENT): {"clinician"},
    (State.IN_TREATMENT, State.COMPLETED): {"clinician"},
    (State.DECLINED, State.IN_REVIEW): {"coordinator", "clinician", "admin"},
    (State.CANCELLED, State.IN_REVIEW): {"coordinator", "clinician", "admin"},
} | {
    (state, State.CANCELLED): set(ROLES)
    for state in (
        State.SUBMITTED,
        State.IN_REVIEW,
        State.NEEDS_INFO,
        State.ACCEPTED,
        State.SCHEDULED,
        State.IN_TREATMENT,
    )
}


@pytest.mark.parametrize(
    ("current", "target", "role"), list(itertools.product(State, State, ROLES))
)
def test_every_transition(current, target, role):
    allowed = role in EXPECTED.get((current, target), set())
    if allowed:
        check_transition(current, target, role)
        assert target in allowed_targets(current, role)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target, role)
        assert target not in allowed_targets(current, role)


def test_table_has_nothing_unexpected():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED


def test_completed_is_final():
    assert all(not allowed_targets(State.COMPLETED, role) for role in ROLES)


def test_error_message_is_plain_words():
    with pytest.raises(InvalidTransition, match="cannot be moved to accepted by a referrer"):
        check_transition(State.IN_REVIEW, State.ACCEPTED, "referrer")
