from __future__ import annotations

from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.forms import VersionedForm, choices
from portal.referrals.vocab import TREATMENT_MODALITIES


class OpenForm(VersionedForm):
    """Open a submitted referral for review."""


class AcceptForm(VersionedForm):
    modality = SelectField(
        "Treatment", choices=choices(TREATMENT_MODALITIES), validators=[DataRequired()]
    )
    clinician_id = SelectField(
        "Assigned clinician",
        coerce=int,
        validators=[DataRequired(message="Choose the clinician who will treat the patient.")],
    )
    planned_sessions = IntegerField(
        "Planned sessions",
        default=6,
        validators=[InputRequired(), NumberRange(1, 60, message="Between 1 and 60 sessions.")],
    )
    reason = TextAreaField("Note to the referrer (optional)", validators=[Length(max=2000)])


class DecisionForm(VersionedForm):
    """Ask a question, decline or cancel: each needs a reason the referrer will read."""

    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Write the reason; the referrer will read it."),
            Length(max=2000),
        ],
    )
