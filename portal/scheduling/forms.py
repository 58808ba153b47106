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
    TimeField,
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
    preferred = TimeField("Patient prefers from", validators=[Optional()])


class SeriesForm(VersionedForm):
    """Confirm the proposed days; `version` is the referral's."""

    protocol_id = IntegerField(validators=[InputRequired()])
    beyond_plan_reason = StringField(
        "Why more sessions than planned", validators=[Optional(), Length(max=300)]
    )


class AddVisitForm(VersionedForm):
    day = DateField("Day", validators=[InputRequired(message="Choose a day."), near_today])
    start = TimeField("From (first free time if empty)", validators=[Optional()])
    beyond_plan_reason = StringField(
        "Why more sessions than planned", validators=[Optional(), Length(max=300)]
    )


class MoveForm(VersionedForm):
    """`version` here is the appointment's."""

    day = DateField(
        "Move to", validators=[InputRequired(message="Choose the new day."), near_today]
    )
    start = TimeField(
        "At (same time, or the first free one after it, if empty)", validators=[Optional()]
    )
    with_later = BooleanField("Move the later visits of the series by as many days")


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


class RemindersForm(VersionedForm):
    """The patient's choice about reminder emails; `version` is the referral's."""

    opt_out = BooleanField("The patient asked for no reminder emails")


class DayHoursForm(Form):
    open = BooleanField("Open")
    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField("Closes", validators=[Optional()])


def _minutes(label: str, low: int, high: int) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(low, high)])


class ClinicSettingsForm(FlaskForm):
    days = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    chair_names = TextAreaField(
        "Chairs and rooms, one a line",
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 8},
    )
    iv_infusion_minutes = _minutes("IV ketamine: infusion (minutes)", 5, 240)
    iv_recovery_minutes = _minutes("IV ketamine: recovery (minutes)", 0, 240)
    spravato_dosing_minutes = _minutes("SPRAVATO: dosing (minutes)", 5, 120)
    spravato_monitoring_minutes = _minutes("SPRAVATO: monitoring (minutes)", 120, 360)
    chairs_per_clinician = _minutes("Patients one clinician supervises at once", 1, 20)
    sla_urgent_days = IntegerField(
        "Urgent: first decision within (business days)",
        validators=[InputRequired(), NumberRange(1, 30)],
    )
    sla_routine_days = IntegerField(
        "Routine: first decision within (business days)",
        validators=[InputRequired(), NumberRange(1, 60)],
    )

    def validate_days(self, field) -> None:
        open_days = [d for d in field.data if d["open"]]
        if not open_days:
            raise ValidationError("Open the clinic on at least one day.")
        for number, day in enumerate(field.data):
            if day["open"] and not (
                day["opens"] and day["closes"] and day["opens"] < day["closes"]
            ):
                raise ValidationError(
                    f"{WEEKDAY_NAMES[number]}: give an opening time before the closing time."
                )

    def chair_list(self) -> list[str]:
        names = [line.strip()[:60] for line in (self.chair_names.data or "").splitlines()]
        return list(dict.fromkeys(n for n in names if n))


class ClinicianHoursForm(FlaskForm):
    clinician_id = IntegerField(validators=[InputRequired()])
    weekdays = _weekdays_field("Works on (none: every opening day)")
    starts = TimeField("From", validators=[Optional()])
    ends = TimeField("Until", validators=[Optional()])

    def validate_ends(self, field) -> None:
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError("The end is after the start.")


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
