from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import VersionedForm, choices
from portal.referrals.vocab import TREATMENT_MODALITIES


class QueueSearchForm(FlaskForm):
    """The queue's search and filters, POSTed so that a name or a date of birth never
    appears in a URL (the filters come back as GET links; the term as a search id)."""

    q = SearchField("Search")


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
    protocol_id = SelectField("Protocol", coerce=int, default=0, validators=[Optional()])
    planned_sessions = IntegerField(
        "Planned sessions",
        validators=[Optional(), NumberRange(1, 60, message="Between 1 and 60 sessions.")],
    )
    reason = TextAreaField("Note to the referrer (optional)", validators=[Length(max=2000)])
    acknowledgement = TextAreaField(
        "Your reason for going ahead (clinicians)", validators=[Length(max=2000)]
    )


class AcknowledgeForm(FlaskForm):
    """A clinician's acknowledgement of one screening flag, with the reason."""

    flag = SelectField("Flag", choices=choices([("psychosis", ""), ("spravato_off_label", "")]))
    reason = TextAreaField(
        "Your reason for going ahead",
        validators=[DataRequired(message="Write your reason."), Length(max=2000)],
    )


class DecisionForm(VersionedForm):
    """Ask a question, decline or cancel: each needs a reason the referrer will read."""

    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Write the reason; the referrer will read it."),
            Length(max=2000),
        ],
    )


# Why a referral is declined; the referrer reads the label and the coordinator's explanation.
DECLINE_REASONS: list[tuple[str, str]] = [
    ("contraindication", "A contraindication or clinic exclusion in the screening"),
    ("trd_not_met", "Does not meet the treatment-resistant depression criteria yet"),
    ("higher_level_of_care", "Needs a higher level of care first"),
    ("substance_use", "Active substance use disorder"),
    ("outside_scope", "Diagnosis or request outside what the clinic treats"),
    ("no_ongoing_care", "No ongoing mental-health care during treatment"),
    ("unreachable", "The patient declined or could not be reached"),
    ("other", "Other reason (explained below)"),
]
DECLINE_LABELS = dict(DECLINE_REASONS)

SCREENING_CHECKLIST: list[tuple[str, str]] = [
    ("identity", "Patient identity, date of birth and contact details checked"),
    ("diagnosis", "Diagnosis and current episode reviewed"),
    ("trd", "Antidepressant trials reviewed against the TRD definition"),
    ("contraindications", "Contraindications and exclusions reviewed"),
    ("blood_pressure", "Recent office blood pressure reviewed"),
    ("medications", "Current medications reviewed (benzodiazepines, stimulants, MAOIs, opioids)"),
    ("suicidality", "Suicidality reviewed; an urgent concern raised with a clinician"),
    ("insurance", "Insurance details present"),
    ("attestations", "Consent and ongoing-care attestations present"),
]


class DeclineForm(DecisionForm):
    reason_code = SelectField(
        "Reason for declining", choices=choices(DECLINE_REASONS), default="other"
    )

    def full_reason(self) -> str:
        return f"{DECLINE_LABELS[self.reason_code.data]}. {self.reason.data.strip()}"


class AssignForm(VersionedForm):
    coordinator_id = SelectField("Assigned coordinator", coerce=int)


class ChecklistForm(VersionedForm):
    """The screening checklist; `version` here is the checklist's own version."""

    checked = SelectMultipleField(
        "Screening checklist",
        choices=choices(SCREENING_CHECKLIST),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Internal note",
        validators=[DataRequired(message="Write the note first."), Length(max=4000)],
    )
