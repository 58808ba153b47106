"""The full intake form (DOMAIN.md "What a referral carries"), in sections.

Saved as a draft at any time without validation; validated completely on submit. Prior
trials and current medications are rows the referrer adds and removes (with or without JS).
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.clock import clinic_today
from portal.forms import choices, scale_form
from portal.referrals.screening import (
    FLAGGED_MED_CLASSES,
    SCREENING_QUESTIONS,
    pregnancy_asked,
)
from portal.referrals.vocab import (
    DIAGNOSES,
    REQUESTED_MODALITIES,
    SEXES,
    URGENCIES,
    normalized_icd10,
)
from portal.scales.items import ANCHORS, ITEMS
from portal.scales.scoring import PHQ9_ANSWERS, PHQ9_ITEMS

TRIAL_OUTCOMES: list[tuple[str, str]] = [
    ("no_response", "No response"),
    ("partial_response", "Partial response"),
    ("response", "Responded"),
    ("not_tolerated", "Stopped: side effects"),
]
TRIAL_OUTCOME_LABELS = dict(TRIAL_OUTCOMES)
MED_CLASSES: list[tuple[str, str]] = [("", "Other / none of these"), *FLAGGED_MED_CLASSES]
YES_NO: list[tuple[str, str]] = [("no", "No"), ("yes", "Yes")]
ROWS = {"trials": 2, "medications": 2}  # blank rows shown to start with
MAX_ROWS = 20


def _text(label: str, max_len: int = 200, *, required: bool = False, message: str = ""):
    checks = [DataRequired(message=message or "This is required.")] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=max_len)])


class TrialRow(Form):
    """One prior antidepressant trial; a row left blank is ignored."""

    drug = StringField("Drug", validators=[Length(max=100)])
    dose = StringField("Dose", validators=[Length(max=50)])
    weeks = IntegerField("Weeks", validators=[Optional(), NumberRange(0, 520)])
    outcome = SelectField("Outcome", choices=choices([("", "Choose…"), *TRIAL_OUTCOMES]))

    def is_blank(self) -> bool:
        typed = [self.drug.data, self.dose.data, self.outcome.data, *(self.weeks.raw_data or [])]
        return not any((value or "").strip() for value in typed)

    def validate(self, extra_validators=None) -> bool:  # a started row must be complete
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        if not (self.drug.data or "").strip():
            self.drug.errors = [*self.drug.errors, "Name the drug."]
            ok = False
        if self.weeks.data is None and not self.weeks.errors:
            self.weeks.errors = [*self.weeks.errors, "How many weeks?"]
            ok = False
        if not self.outcome.data:
            self.outcome.errors = [*self.outcome.errors, "Choose the outcome."]
            ok = False
        return ok


class MedicationRow(Form):
    name = StringField("Medication", validators=[Length(max=100)])
    dose = StringField("Dose and frequency", validators=[Length(max=100)])
    drug_class = SelectField("Class", choices=choices(MED_CLASSES), default="")

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and not (self.dose.data or "").strip()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.is_blank() and not (self.name.data or "").strip():
            self.name.errors = [*self.name.errors, "Name the medication."]
            ok = False
        return ok


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _yes_no(label: str) -> RadioField:
    return RadioField(
        label, choices=choices(YES_NO), validators=[InputRequired(message="Answer yes or no.")]
    )


def _unless_not_needed(form, field) -> None:
    """A screening question needs no answer when "None of these" is ticked, nor the
    pregnancy question where it is not asked (see screening.pregnancy_asked)."""
    if form.screening_none.data or (field.name == "pregnancy" and not form.pregnancy_is_asked()):
        field.errors[:] = []
        raise StopValidation()


def _screening_question(label: str) -> RadioField:
    return RadioField(
        label,
        choices=choices(YES_NO),
        validators=[_unless_not_needed, InputRequired(message="Answer yes or no.")],
    )


OTHER_DIAGNOSIS_ERROR = (
    "Other diagnosis: enter an ICD-10-CM code, such as F32.A or F43.12 (a letter, a digit, "
    "a digit or letter, then optionally a dot and up to 4 more characters)."
)


class _Intake(FlaskForm):
    form_key = HiddenField()
    version = HiddenField()
    # Patient
    first_name = _text("First name", 100, required=True, message="Enter the first name.")
    last_name = _text("Last name", 100, required=True, message="Enter the last name.")
    date_of_birth = DateField(
        "Date of birth", validators=[InputRequired(message="Enter the date of birth.")]
    )
    sex = SelectField(
        "Sex",
        choices=choices([("", "Choose…"), *SEXES]),
        validators=[DataRequired(message="Choose one.")],
    )
    phone = _text("Phone", 40, required=True, message="Enter a phone number for the patient.")
    email = StringField(
        "Email", validators=[Optional(), Email(message="Check the email."), Length(max=254)]
    )
    address_line1 = _text("Street address")
    city = _text("City", 100)
    region = _text("State", 50)
    postal_code = _text("ZIP code", 20)
    preferred_language = StringField(
        "Preferred language", default="English", validators=[Length(max=50)]
    )
    emergency_contact = _text("Emergency contact (name and phone)")
    insurance_payer = _text("Insurance payer", 100)
    insurance_member_id = _text("Member ID", 50)
    # Diagnoses and history
    diagnoses = MultiCheckboxField("Diagnoses (ICD-10)", choices=choices(DIAGNOSES))
    other_diagnosis = StringField("Other diagnosis (ICD-10-CM code)", validators=[Length(max=10)])
    other_diagnosis_description = StringField(
        "Other diagnosis: description", validators=[Optional(), Length(max=200)]
    )
    episode_months = IntegerField(
        "Current episode duration (months)",
        validators=[InputRequired(message="Enter the months."), NumberRange(0, 600)],
    )
    trials = FieldList(FormField(TrialRow), min_entries=ROWS["trials"], max_entries=MAX_ROWS)
    psychotherapy = TextAreaField("Psychotherapy history", validators=[Length(max=2000)])
    ect_history = TextAreaField("ECT history", validators=[Length(max=2000)])
    tms_history = TextAreaField("TMS history", validators=[Length(max=2000)])
    medications = FieldList(
        FormField(MedicationRow), min_entries=ROWS["medications"], max_entries=MAX_ROWS
    )
    # Vitals
    bp_systolic = IntegerField(
        "Systolic",
        validators=[
            InputRequired(message="Enter a number."),
            NumberRange(60, 260, message="Must be between 60 and 260."),
        ],
    )
    bp_diastolic = IntegerField(
        "Diastolic",
        validators=[
            InputRequired(message="Enter a number."),
            NumberRange(30, 160, message="Must be between 30 and 160."),
        ],
    )
    pulse = IntegerField(
        "Pulse (beats per minute)",
        validators=[
            InputRequired(message="Enter a number."),
            NumberRange(30, 220, message="Must be between 30 and 220."),
        ],
    )
    vitals_date = DateField("Date measured", validators=[Optional()])
    # Suicidality
    recent_ideation = _yes_no("Suicidal ideation in the past month?")
    recent_attempt = _yes_no("Suicide attempt in the past year?")
    suicidality_details = TextAreaField(
        "Details and current safety plan", validators=[Length(max=2000)]
    )
    # Request
    requested_modality = SelectField("Requested treatment", choices=choices(REQUESTED_MODALITIES))
    urgency = SelectField("Urgency", choices=choices(URGENCIES), default="routine")
    reason = TextAreaField(
        "Reason for referral and goals of treatment",
        validators=[
            DataRequired(message="Tell the clinic why you are referring this patient."),
            Length(max=5000),
        ],
    )
    # Attestations
    consent = BooleanField(
        "The patient consented to this referral.",
        validators=[DataRequired(message="The patient's consent is required.")],
    )
    ongoing_care = BooleanField(
        "I will continue the patient's ongoing mental-health care during treatment.",
        validators=[DataRequired(message="The clinic requires ongoing care by the referrer.")],
    )

    def validate_date_of_birth(self, field: DateField) -> None:
        if field.data and field.data > clinic_today():
            raise ValidationError("The date of birth cannot be in the future.")
        if field.data and field.data.year < 1900:
            raise ValidationError("Check the year of birth.")

    def validate_vitals_date(self, field: DateField) -> None:
        if field.data and field.data > clinic_today():
            raise ValidationError("The measurement date cannot be in the future.")

    def validate_diagnoses(self, field: MultiCheckboxField) -> None:
        if not field.data and not (self.other_diagnosis.data or "").strip():
            raise ValidationError("Choose at least one diagnosis, or type the code of another one.")

    def validate_other_diagnosis(self, field: StringField) -> None:
        typed = (field.data or "").strip()
        if typed and normalized_icd10(typed) is None:
            raise ValidationError(OTHER_DIAGNOSIS_ERROR)
        if not typed and (self.other_diagnosis_description.data or "").strip():
            raise ValidationError("Other diagnosis: give its ICD-10-CM code too.")

    def other_diagnosis_code(self) -> str:
        """The other diagnosis as stored (normalized), or "" if none was typed."""
        return normalized_icd10(self.other_diagnosis.data or "") or ""

    def pregnancy_is_asked(self) -> bool:
        return pregnancy_asked(self.sex.data)

    def pregnancy_row_shown(self) -> bool:
        """The pregnancy question is on the page where it is asked, and wherever it was
        answered yes (an answer given is never hidden)."""
        return self.pregnancy_is_asked() or self.pregnancy.data == "yes"

    def screening_answer(self, key: str) -> bool | None:
        """A screening answer as stored: None where the question was not asked."""
        if key == "pregnancy" and not self.pregnancy_is_asked() and self.pregnancy.data != "yes":
            return None
        if self.screening_none.data:
            return False
        return self[key].data == "yes"

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.screening_none.data:
            ticked = [q.label.text for q, _ in self.screening_fields() if q.data == "yes"]
            if ticked:
                self.screening_none.errors = [
                    *self.screening_none.errors,
                    f"“None of these” is ticked, but “{ticked[0]}” is answered Yes. "
                    "Untick “None of these”, or change that answer to No."
                    if len(ticked) == 1
                    else f"“None of these” is ticked, but {len(ticked)} questions are answered "
                    "Yes. Untick “None of these”, or change those answers to No.",
                ]
                ok = False
        for prefix in ("gad7", "pcl5"):  # optional scales: all items or none
            items = getattr(self, f"{prefix}_fields")()
            answered = [f for f in items if f.data is not None]
            if answered and len(answered) != len(items):
                for f in items:
                    if f.data is None:
                        f.errors = [*f.errors, "Answer every item, or leave the whole scale blank."]
                ok = False
        return ok

    def screening_fields(self) -> list[tuple[RadioField, StringField]]:
        return [
            (getattr(self, k), getattr(self, f"{k}_details")) for k, _, _ in SCREENING_QUESTIONS
        ]


for _key, _question, _label in SCREENING_QUESTIONS:
    setattr(_Intake, _key, _screening_question(_question))
    setattr(_Intake, f"{_key}_details", StringField("Details", validators=[Length(max=500)]))
_Intake.screening_none = BooleanField("None of these: the answer to every question above is No")

IntakeForm = scale_form(
    scale_form(
        scale_form(_Intake, "phq9", PHQ9_ITEMS, PHQ9_ANSWERS, required=True),
        "gad7",
        ITEMS["GAD-7"],
        ANCHORS["GAD-7"],
        required=False,
    ),
    "pcl5",
    ITEMS["PCL-5"],
    ANCHORS["PCL-5"],
    required=False,
)


def page_order(form) -> list[str]:
    """The form's field names in the order the page shows them (the screening questions and
    the scales are added to the form class after its other fields)."""
    order = list(form._fields)

    def move(names: list[str], before: str) -> None:
        for name in names:
            order.remove(name)
        at = order.index(before)
        order[at:at] = names

    screening = [n for k, _, _ in SCREENING_QUESTIONS for n in (k, f"{k}_details")]
    move([*screening, "screening_none"], "bp_systolic")
    scales = [n for n in order if re.match(r"^(phq9|gad7|pcl5)_\d+$", n)]
    move(scales, "requested_modality")
    return order


# What a draft keeps of a field that has no Length validator (choices, dates, numbers).
SHORT_FIELD = 200


def field_limits(form) -> dict[str, tuple[int, int, str]]:
    """Every field of a bound intake form, rows included: name -> (longest value, most
    values, label). A draft keeps these names only, each value cut to its length."""
    limits: dict[str, tuple[int, int, str]] = {}

    def add(field) -> None:
        if isinstance(field, FieldList):
            for entry in field:
                for sub in entry.form:
                    add(sub)
            return
        longest = next((v.max for v in field.validators if isinstance(v, Length)), SHORT_FIELD)
        most = len(field.choices or []) if isinstance(field, SelectMultipleField) else 1
        limits[field.name] = (
            longest if longest and longest > 0 else SHORT_FIELD,
            most,
            field.label.text,
        )

    for field in form:
        add(field)
    return limits
