from __future__ import annotations

from datetime import date

from wtforms import DateField, DecimalField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from portal.forms import VersionedForm, bp_field, choices, phq9_form
from portal.referrals.vocab import TREATMENT_MODALITIES


class _SessionForm(VersionedForm):
    session_date = DateField(
        "Session date",
        default=date.today,
        validators=[InputRequired(message="Enter the date as YYYY-MM-DD.")],
    )
    modality = SelectField("Modality", choices=choices(TREATMENT_MODALITIES))
    dose_mg = DecimalField(
        "Dose (mg)",
        places=2,
        validators=[
            InputRequired(message="Enter the dose in mg."),
            NumberRange(1, 500, message="Between 1 and 500 mg."),
        ],
    )
    bp_pre_systolic = bp_field("Systolic", 60, 260)
    bp_pre_diastolic = bp_field("Diastolic", 30, 160)
    bp_post_systolic = bp_field("Systolic", 60, 260)
    bp_post_diastolic = bp_field("Diastolic", 30, 160)
    notes = TextAreaField("Notes", validators=[Length(max=5000)])

    def validate_session_date(self, field: DateField) -> None:
        if field.data and field.data > date.today():
            raise ValidationError("A session cannot be documented before it happens.")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        answers = self.phq9_answers()
        if any(a is not None for a in answers) and any(a is None for a in answers):
            for field in self.phq9_fields():
                if field.data is None:
                    field.errors.append("Answer all nine items, or none if no PHQ-9 was taken.")
            ok = False
        return ok


SessionForm = phq9_form(_SessionForm, required=False)


class CompleteForm(VersionedForm):
    """Finish the course."""
