"""The shape of what a clinician types into a letter."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.letters.models import ACCEPTANCE, DECLINE, INTERIM, SUMMARY

# (first text, second text) labels and hints per kind: the same two columns hold the
# narrative and the recommendations (for a decline: the reasons and the alternatives).
TEXT_LABELS = {
    ACCEPTANCE: (
        ("A note to the referring provider (optional)", "Shown after the acceptance."),
        ("Before the first session (optional)", "Preparation, escort, what to bring."),
    ),
    DECLINE: (
        ("Reasons", "Why the clinic cannot treat the patient now."),
        ("Suggested alternatives", "Other treatments or services the referrer could consider."),
    ),
    INTERIM: (
        ("Progress so far", "How the patient is doing; the session table and scales follow."),
        ("Next steps", "Changes to the plan, anything the referrer should do."),
    ),
    SUMMARY: (
        ("Summary for the referring provider", "The narrative paragraph of the letter."),
        ("Recommendations", "Maintenance plan and next steps."),
    ),
}


LAYOUT_HINT = (
    "Plain text, printed as typed: each new line starts a new line in the letter (a list "
    "numbered 1., 2., 3. stays a list), a blank line starts a new paragraph."
)


class DraftForm(FlaskForm):
    narrative = TextAreaField(
        "Letter text",
        description=LAYOUT_HINT,
        validators=[Length(max=8000)],
    )
    recommendations = TextAreaField(
        "Recommendations",
        description=LAYOUT_HINT,
        validators=[Length(max=8000)],
    )
    include_all_sessions = BooleanField(
        "Include every session",
        description=(
            "A course of more than 12 sessions is summarised in grouped rows; tick to add an "
            "appendix listing every session, one row each, after the signature."
        ),
    )

    def label_for(self, kind: str) -> None:
        (first, first_hint), (second, second_hint) = TEXT_LABELS.get(
            kind, (("Letter text", ""), ("Recommendations", ""))
        )
        self.narrative.label.text = first
        self.narrative.description = f"{first_hint} {LAYOUT_HINT}".strip()
        self.recommendations.label.text = second
        self.recommendations.description = f"{second_hint} {LAYOUT_HINT}".strip()


class SignForm(FlaskForm):
    password = PasswordField(
        "Your password",
        description="Signing asks who you are again. The signed PDF cannot be changed.",
        validators=[InputRequired(message="Enter your password to sign.")],
    )


class LetterheadForm(FlaskForm):
    name = StringField("Clinic name", validators=[InputRequired(), Length(max=200)])
    address_line1 = StringField("Address", validators=[Length(max=200)])
    address_line2 = StringField("Address, second line", validators=[Length(max=200)])
    city = StringField("City", validators=[Length(max=100)])
    region = StringField("State", validators=[Length(max=50)])
    postal_code = StringField("ZIP code", validators=[Length(max=20)])
    phone = StringField("Phone", validators=[Length(max=40)])
    fax = StringField("Fax", validators=[Length(max=40)])
    logo = FileField("Logo (PNG or SVG, up to 512 KB)")
    interim_every = IntegerField(
        "Interim progress letter every N sessions",
        validators=[InputRequired(), NumberRange(min=1, max=20)],
    )
    unopened_days = IntegerField(
        "List letters not opened after N days",
        validators=[InputRequired(), NumberRange(min=1, max=60)],
    )
    remove_logo = StringField(validators=[Optional()])
