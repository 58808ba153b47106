"""Jinja filters and globals: labels for states and vocabularies, local times."""

from __future__ import annotations

from flask import Flask

from portal.auth.models import ROLE_LABELS, Role
from portal.clock import local_time
from portal.referrals.states import LABELS, State
from portal.referrals.vocab import (
    DIAGNOSIS_LABELS,
    MODALITY_LABELS,
    MODALITY_SHORT,
    SEX_LABELS,
    URGENCY_LABELS,
)

_STATE_LABELS = {state.value: label for state, label in LABELS.items()}


def _state_label(s) -> str:
    """A state's label: the plain values looked up directly (the queue shows one a row)."""
    if s in _STATE_LABELS:
        return _STATE_LABELS[s]
    return LABELS.get(State(s), s) if s else ""


def register_filters(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(_state_label, "state_label")
    app.add_template_filter(lambda c: DIAGNOSIS_LABELS.get(c, c), "diagnosis_label")
    app.add_template_filter(lambda m: MODALITY_LABELS.get(m, m), "modality_label")
    app.add_template_filter(lambda m: MODALITY_SHORT.get(m, m), "modality_short")
    app.add_template_filter(lambda s: SEX_LABELS.get(s, s), "sex_label")
    app.add_template_filter(lambda u: URGENCY_LABELS.get(u, u), "urgency_label")
    app.add_template_filter(lambda r: ROLE_LABELS.get(Role(r), r), "role_label")
    from portal.referrals.presenters import intake_view
    from portal.referrals.screening import SHORT_LABELS

    app.add_template_filter(
        lambda flag: SHORT_LABELS.get(flag["code"], flag["label"]), "flag_short"
    )

    app.add_template_global(intake_view, "intake_view")
