from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.forms import VersionedForm, choices, phq9_form
from portal.referrals.vocab import DIAGNOSES, REQUESTED_MODALITIES, SEXES, URGENCIES


class _ReferralForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    date_of_birth = DateField(
        "Date of birth",
        validators=[InputRequired(message="Enter the date of birth as YYYY-MM-DD.")],
    )
    sex = SelectField(
        "Sex",
        choices=choices([("", "Choose…"), *SEXES]),
        validators=[DataRequired(message="Choose one.")],
    )
    diagnosis_code = SelectField(
        "Primary diagnosis (ICD-10)",
        choices=choices([("", "Choose a diagnosis…"), *DIAGNOSES]),
        validators=[DataRequired(message="Choose the primary diagnosis.")],
    )
    requested_modality = SelectField(
        "Requested treatment", choices=choices(REQUESTED_MODALITIES), validators=[DataRequired()]
    )
    urgency = SelectField(
        "Urgency", choices=choices(URGENCIES), default="routine", validators=[DataRequired()]
    )
    reason = TextAreaField(
        "Reason for referral",
        validators=[
            DataRequired(message="Tell the clinic why you are referring this patient."),
            Length(max=5000),
        ],
    )

    def validate_date_of_birth(self, field: DateField) -> None:
        if field.data and field.data > date.today():
            raise ValidationError("The date of birth cannot be in the future.")
        if field.data and field.data.year < 1900:
            raise ValidationError("Check the year of birth.")


ReferralForm = phq9_form(_ReferralForm, required=True)


class CancelForm(VersionedForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why the referral is cancelled."), Length(max=2000)],
    )
