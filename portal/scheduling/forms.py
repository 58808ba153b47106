"""The shape of scheduling input."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.clock import clinic_today
from portal.forms import VersionedForm, choices
from portal.scheduling.generation import WEEKDAY_NAMES

WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))
SCHEDULE_YEARS = 5  # how far from today a visit, a series or a closed day may be


def within_schedule(day: date) -> bool:
    """A schedule's day lies within SCHEDULE_YEARS of today (a typo like 2062 is caught, and
    dates near year 9999, which overflow, never reach the scheduling code)."""
    return abs(day.year - clinic_today().year) <= SCHEDULE_YEARS


def near_today(form, field) -> None:
    if field.data is not None and not within_schedule(field.data):
        raise ValidationError(f"Choose a day within {SCHEDULE_YEARS} years of today.")


def at_least_one_day(form, field) -> None:
    if not field.data:
        raise ValidationError("Tick at least one day.")


def _weekdays_field(label: str, validators=()) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=choices(WEEKDAY_CHOICES),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=list(validators),
    )


class ProposeForm(FlaskForm):
    """GET form: which protocol from which day (weeks and frequency for a custom plan)."""

    class Meta:
        csrf = False  # a read-only proposal; nothing is saved until the series is confirmed

    protocol_id = SelectField("Protocol", coerce=int, validators=[DataRequired()])
    start = DateField("First appointment on or after", validators=[InputRequired(), near_today])
    weeks = IntegerField("Weeks (custom plan)", validators=[Optional(), NumberRange(1, 52)])
    per_week = IntegerField(
        "Sessions a week (custom plan)", validators=[Optional(), NumberRange(1, 7)]
    )


class SeriesForm(VersionedForm):
    """Confirm the proposed days; `version` is the referral's."""

    protocol_id = IntegerField(validators=[InputRequired()])


class AddVisitForm(VersionedForm):
    day = DateField("Day", validators=[InputRequired(message="Choose a day."), near_today])


class MoveForm(VersionedForm):
    """`version` here is the appointment's."""

    day = DateField(
        "Move to", validators=[InputRequired(message="Choose the new day."), near_today]
    )


class CancelVisitForm(VersionedForm):
    reason = StringField(
        "Reason",
        validators=[DataRequired(message="Write why it is cancelled."), Length(max=500)],
    )


class NoShowForm(VersionedForm):
    pass


class PreparationForm(VersionedForm):
    escort_confirmed = BooleanField("Escort confirmed")
    instructions_given = BooleanField("Pre-visit instructions given")


class ClinicSettingsForm(FlaskForm):
    treatment_weekdays = _weekdays_field("Treatment days", [at_least_one_day])
    chairs_per_day = IntegerField(
        "Chairs per day", validators=[InputRequired(), NumberRange(1, 200)]
    )
    sla_urgent_days = IntegerField(
        "Urgent: first decision within (business days)",
        validators=[InputRequired(), NumberRange(1, 30)],
    )
    sla_routine_days = IntegerField(
        "Routine: first decision within (business days)",
        validators=[InputRequired(), NumberRange(1, 60)],
    )


class ClosedDateForm(FlaskForm):
    day = DateField("Closed on", validators=[InputRequired(message="Choose the day."), near_today])
    reason = StringField("Reason", validators=[Length(max=200)])


class PhaseForm(Form):
    weeks = IntegerField("Weeks", validators=[Optional(), NumberRange(1, 52)])
    per_week = IntegerField("Sessions a week", validators=[Optional(), NumberRange(1, 7)])
    every = IntegerField("Every N weeks", default=1, validators=[Optional(), NumberRange(1, 12)])


class ProtocolForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    preferred_weekdays = _weekdays_field("Preferred days (none: spread evenly)")
    phases = FieldList(FormField(PhaseForm), min_entries=5, max_entries=5)

    def typed_phases(self) -> list[dict]:
        """The rows filled in (weeks and sessions a week), `every` 1 where left empty."""
        return [
            {**p, "every": p["every"] or 1}
            for p in self.phases.data
            if p["weeks"] and p["per_week"]
        ]
