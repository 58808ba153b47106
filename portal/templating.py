"""Every Jinja filter, global and context value the pages use, registered in one place."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_login import current_user

from portal.clock import local_time
from portal.guards import has_role
from portal.referrals import states
from portal.referrals.states import LABELS, State
from portal.referrals.vocab import (
    DIAGNOSIS_LABELS,
    MODALITY_LABELS,
    MODALITY_SHORT,
    SEX_LABELS,
    URGENCY_LABELS,
    other_diagnosis_text,
    primary_diagnosis_text,
)
from portal.roles import ROLE_LABELS, Role

_STATE_LABELS = {state.value: label for state, label in LABELS.items()}


def _state_label(s) -> str:
    """A state's label: the plain values looked up directly (the queue shows one a row)."""
    if s in _STATE_LABELS:
        return _STATE_LABELS[s]
    return LABELS.get(State(s), s) if s else ""


def _num(value) -> str:
    """A Decimal without trailing zeros and never in exponent form (40, not 4E+1)."""
    return "" if value is None else f"{value.normalize():f}"


def register_templating(app: Flask) -> None:
    from portal.accounts.service import pending_request_count
    from portal.letters.permissions import can_correct as can_correct_letter
    from portal.pages.referral import intake_view
    from portal.referrals.screening import SHORT_LABELS
    from portal.treatment import alerts, outcomes
    from portal.treatment.vocab import ADVERSE_EVENT_LABELS, CONCOMITANT_MEDICATIONS

    medications = dict(CONCOMITANT_MEDICATIONS)
    filters = {
        "local_time": local_time,
        "state_label": _state_label,
        "diagnosis_label": lambda c: DIAGNOSIS_LABELS.get(c, c),
        "primary_diagnosis": lambda r: primary_diagnosis_text(r.intake, r.diagnosis_code),
        "other_diagnosis": lambda r: other_diagnosis_text(r.intake, r.diagnosis_code),
        "modality_label": lambda m: MODALITY_LABELS.get(m, m),
        "modality_short": lambda m: MODALITY_SHORT.get(m, m),
        "sex_label": lambda s: SEX_LABELS.get(s, s),
        "urgency_label": lambda u: URGENCY_LABELS.get(u, u),
        "role_label": lambda r: ROLE_LABELS.get(Role(r), r),
        "flag_short": lambda flag: SHORT_LABELS.get(flag["code"], flag["label"]),
        "num": _num,
        "adverse_event_label": lambda code: ADVERSE_EVENT_LABELS.get(code, code),
        "medication_label": lambda code: medications.get(code, code),
    }
    for name, function in filters.items():
        app.add_template_filter(function, name)

    # States and roles by name, never as string literals in templates:
    # `referral.state == states.State.DRAFT`, `referral.state in states.CLOSED`.
    app.add_template_global(states, "states")
    app.add_template_global(Role, "Role")
    app.add_template_global(intake_view, "intake_view")
    app.add_template_global(outcomes.course_outcome, "treatment_outcome")
    app.add_template_global(alerts.open_alerts, "treatment_open_alerts")
    app.add_template_global(can_correct_letter, "can_correct_letter")

    @app.context_processor
    def unread_notifications():
        """The bell's count, on every page of a signed-in user."""
        if not has_request_context() or not current_user.is_authenticated:
            return {}
        from portal.notifications.queries import unread_count

        return {"unread_notifications": unread_count(current_user)}

    @app.context_processor
    def pending_account_requests():
        """Admins see pending account requests in the navigation."""
        if not has_request_context() or not current_user.is_authenticated:
            return {}
        if has_role(Role.ADMIN) and request.endpoint:
            return {"pending_account_requests": pending_request_count()}
        return {}
