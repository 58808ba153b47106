from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.clinical_limits import DOSE_RANGE_TEXT, dose_outside_range
from portal.clock import clinic_today
from portal.forms import VersionedForm, bp_field, choices, phq9_form
from portal.scales.items import ANCHORS, ITEMS
from portal.scales.scoring import CADSS6
from portal.treatment.safety import dose_mg, dose_prompt
from portal.treatment.service import SessionRecord
from portal.treatment.vocab import (
    ADVERSE_EVENTS,
    CONCOMITANT_MEDICATIONS,
    SPRAVATO_DOSES,
    VITAL_PHASES,
)

YES_NO = choices([("yes", "Yes"), ("no", "No")])
VITAL_ROWS = 6  # blank rows without JavaScript; static/js/vitals.js adds more


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _int(label: str, low: int, high: int, unit: str = "") -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(low, high, message=f"Between {low} and {high}{unit}.")],
    )


def _not_future(form, field) -> None:
    if field.data and field.data > clinic_today():
        raise ValidationError("A session cannot be documented before it happens.")


class VitalRow(Form):
    time = TimeField("Time", validators=[Optional()])
    phase = SelectField("Phase", choices=choices(VITAL_PHASES), default="during")
    bp_systolic = _int("Systolic", 60, 260)
    bp_diastolic = _int("Diastolic", 30, 160)
    heart_rate = _int("Heart rate", 20, 250)
    spo2 = _int("SpO2", 50, 100, "%")

    def is_blank(self) -> bool:
        measures = (self.bp_systolic, self.bp_diastolic, self.heart_rate, self.spo2)
        return self.time.data is None and all(f.data is None for f in measures)


class _SessionForm(VersionedForm):
    session_date = DateField(
        "Session date",
        default=clinic_today,
        validators=[InputRequired(message="Enter the date as YYYY-MM-DD."), _not_future],
    )
    bp_pre_systolic = bp_field("Systolic", 60, 260)
    bp_pre_diastolic = bp_field("Diastolic", 30, 160)
    bp_post_systolic = bp_field("Systolic", 60, 260)
    bp_post_diastolic = bp_field("Diastolic", 30, 160)
    # IV ketamine
    weight_kg = DecimalField(
        "Weight (kg)", places=1, validators=[Optional(), NumberRange(20, 350, "20 to 350 kg.")]
    )
    dose_mg_per_kg = DecimalField(
        "Dose (mg/kg)",
        places=3,
        validators=[Optional(), NumberRange(Decimal("0.01"), 3, "Between 0.01 and 3 mg/kg.")],
    )
    dose_confirmed = BooleanField(f"I confirm this dose outside {DOSE_RANGE_TEXT} is intended")
    infusion_minutes = _int("Infusion (minutes)", 1, 300)
    infusion_started_at = TimeField("Infusion started at", validators=[Optional()])
    vitals = FieldList(FormField(VitalRow), min_entries=VITAL_ROWS, max_entries=60)
    # SPRAVATO
    spravato_dose = RadioField("Dose", choices=choices(SPRAVATO_DOSES), validators=[Optional()])
    dose_other_mg = DecimalField(
        "Other dose (mg)", places=1, validators=[Optional(), NumberRange(1, 200, "1 to 200 mg.")]
    )
    devices_used = _int("Devices used", 1, 8)
    lot_number = StringField("Lot number", validators=[Length(max=40)])
    bp_leave_systolic = _int("Systolic", 60, 260)
    bp_leave_diastolic = _int("Diastolic", 30, 160)
    vitals_ok_before = RadioField(
        "Vital signs in acceptable range before dosing?", choices=YES_NO, validators=[Optional()]
    )
    vitals_ok_leaving = RadioField(
        "Vital signs in acceptable range before leaving?", choices=YES_NO, validators=[Optional()]
    )
    sedation = RadioField("Sedation?", choices=YES_NO, validators=[Optional()])
    dissociation = RadioField("Dissociation?", choices=YES_NO, validators=[Optional()])
    respiratory_depression = RadioField(
        "Respiratory depression (pulse oximetry)?", choices=YES_NO, validators=[Optional()]
    )
    lowest_spo2 = _int("Lowest SpO2 (%)", 50, 100, "%")
    serious_adverse_events = RadioField(
        "Serious adverse events?", choices=YES_NO, validators=[Optional()]
    )
    monitoring_minutes = _int("Total monitoring time (minutes)", 0, 720)
    ready_to_leave_at = TimeField(
        "Ready to leave at (without the 2-hour rule)", validators=[Optional()]
    )
    concomitant_medications = CheckboxList(
        "Concomitant medications", choices=choices(CONCOMITANT_MEDICATIONS)
    )
    # Both
    adverse_events = CheckboxList("Adverse events", choices=choices(ADVERSE_EVENTS))
    adverse_event_other = StringField("Other adverse event", validators=[Length(max=200)])
    interventions = TextAreaField("Interventions given", validators=[Length(max=2000)])
    escort_confirmed = BooleanField("Escort home confirmed")
    instructions_given = BooleanField("Pre-visit instructions given")
    discharge_at = TimeField("Discharge time", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Length(max=5000)])

    def __init__(
        self,
        *args,
        modality: str = "iv_ketamine",
        editing: bool = False,
        cadss6_recorded=None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The first vitals row is the pre-dose one: its blood pressure is the one typed above.
        first = self.vitals[0]
        first.phase.data = "before"
        for typed_above in (first.bp_systolic, first.bp_diastolic):
            typed_above.data, typed_above.raw_data = None, []
        self.modality = modality
        self.editing = editing  # scales recorded with the session are not edited here
        # The CADSS-6 Assessment already recorded with the edited session, if any: kept as it
        # is. Without one, editing asks for CADSS-6 as documenting a new session does.
        self.cadss6_recorded = cadss6_recorded

    @property
    def asks_cadss6(self) -> bool:
        return self.cadss6_recorded is None

    def cadss_fields(self) -> list:
        return [getattr(self, f"cadss_{n}") for n in range(1, CADSS6.items + 1)]

    def _require(self, *fields, message: str = "Required for this modality.") -> bool:
        missing = [f for f in fields if f.data in (None, "", [])]
        for f in missing:
            if not f.errors:
                f.errors.append(message)
        return not missing

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = self._check_scales() and ok
        ok = self._check_iv() and ok if self.modality == "iv_ketamine" else ok
        ok = self._check_spravato() and ok if self.modality == "spravato" else ok
        if "other" in (self.adverse_events.data or []):
            ok = self._require(self.adverse_event_other, message="Describe the event.") and ok
        return ok

    def _check_scales(self) -> bool:
        """Scale answers all or none; dissociation needs a CADSS-6. When editing, PHQ-9 is not
        asked, nor CADSS-6 if the session already has one (it stays as recorded)."""
        ok = True
        groups = []
        if not self.editing:
            groups.append(
                (self.phq9_fields(), "Answer all nine items, or none if no PHQ-9 was taken.")
            )
        if self.asks_cadss6:
            groups.append((self.cadss_fields(), "Answer all six CADSS-6 items."))
        for fields, message in groups:
            answers = [f.data for f in fields]
            if any(a is not None for a in answers) and any(a is None for a in answers):
                for f in fields:
                    if f.data is None:
                        f.errors.append(message)
                ok = False
        dissociation = "dissociation" in (self.adverse_events.data or [])
        if dissociation and self.asks_cadss6 and self.cadss_answers() is None:
            for f in self.cadss_fields():
                if not f.errors:
                    f.errors.append("Dissociation needs a CADSS-6 score.")
            ok = False
        return ok

    def _check_iv(self) -> bool:
        ok = self._require(
            self.weight_kg,
            self.dose_mg_per_kg,
            self.infusion_minutes,
            self.infusion_started_at,
            self.lot_number,
        )
        for row in self.vitals:
            if not row.is_blank() and row.time.data is None:
                row.time.errors.append("Enter the time of this row.")
                ok = False
        prompt = dose_prompt(self.dose_mg_per_kg.data)
        if ok and prompt and not self.dose_confirmed.data:
            self.dose_confirmed.errors.append(prompt.message)
            ok = False
        return ok

    def _check_spravato(self) -> bool:
        ok = self._require(
            self.spravato_dose,
            self.devices_used,
            self.lot_number,
            self.bp_leave_systolic,
            self.bp_leave_diastolic,
            self.vitals_ok_before,
            self.vitals_ok_leaving,
            self.sedation,
            self.dissociation,
            self.respiratory_depression,
            self.serious_adverse_events,
            self.monitoring_minutes,
            self.ready_to_leave_at,
        )
        if self.spravato_dose.data == "other":
            ok = self._require(self.dose_other_mg, message="Enter the dose in mg.") and ok
        if self.respiratory_depression.data == "yes":
            ok = self._require(self.lowest_spo2, message="Enter the lowest SpO2.") and ok
        return ok

    def vital_rows(self) -> list[dict]:
        """The filled rows; a "before" row's blood pressure is the pre-dose one typed above
        (blood pressure is typed once)."""
        rows = []
        for row in self.vitals:
            if row.is_blank():
                continue
            before = row.phase.data == "before" and row.bp_systolic.data is None
            rows.append(
                {
                    "time": row.time.data.strftime("%H:%M"),
                    "phase": row.phase.data,
                    "bp_systolic": self.bp_pre_systolic.data if before else row.bp_systolic.data,
                    "bp_diastolic": self.bp_pre_diastolic.data if before else row.bp_diastolic.data,
                    "heart_rate": row.heart_rate.data,
                    "spo2": row.spo2.data,
                }
            )
        return rows

    def cadss_answers(self) -> list[int] | None:
        answers = [f.data for f in self.cadss_fields()]
        return None if None in answers else answers

    def to_record(self) -> SessionRecord:
        """The documented session as the service takes it."""
        phq9 = [None] if self.editing else self.phq9_answers()
        common = {
            "session_date": self.session_date.data,
            "modality": self.modality,
            "bp_pre": (self.bp_pre_systolic.data, self.bp_pre_diastolic.data),
            "bp_post": (self.bp_post_systolic.data, self.bp_post_diastolic.data),
            "phq9_answers": phq9 if None not in phq9 else None,
            "cadss6_answers": self.cadss_answers() if self.asks_cadss6 else None,
            "adverse_events": list(self.adverse_events.data or []),
            "adverse_event_other": self.adverse_event_other.data or "",
            "interventions": self.interventions.data or "",
            "escort_confirmed": bool(self.escort_confirmed.data),
            "instructions_given": bool(self.instructions_given.data),
            "discharge_at": self.discharge_at.data,
            "notes": self.notes.data or "",
        }
        if self.modality == "iv_ketamine":
            return SessionRecord(
                **common,
                dose_mg=dose_mg(self.weight_kg.data, self.dose_mg_per_kg.data),
                weight_kg=self.weight_kg.data,
                dose_mg_per_kg=self.dose_mg_per_kg.data,
                infusion_minutes=self.infusion_minutes.data,
                infusion_started_at=self.infusion_started_at.data,
                lot_number=self.lot_number.data or "",
                vitals=self.vital_rows(),
                dose_outside_range_confirmed=bool(
                    self.dose_confirmed.data and dose_outside_range(self.dose_mg_per_kg.data)
                ),
            )
        choice = self.spravato_dose.data
        yes = {"yes": True, "no": False}
        return SessionRecord(
            **common,
            dose_mg=Decimal(choice) if choice in ("56", "84") else self.dose_other_mg.data,
            spravato_dose=choice,
            devices_used=self.devices_used.data,
            lot_number=self.lot_number.data or "",
            bp_leave=(self.bp_leave_systolic.data, self.bp_leave_diastolic.data),
            vitals_ok_before=yes[self.vitals_ok_before.data],
            vitals_ok_leaving=yes[self.vitals_ok_leaving.data],
            sedation=yes[self.sedation.data],
            dissociation=yes[self.dissociation.data],
            respiratory_depression=yes[self.respiratory_depression.data],
            lowest_spo2=self.lowest_spo2.data,
            serious_adverse_events=yes[self.serious_adverse_events.data],
            monitoring_minutes=self.monitoring_minutes.data,
            ready_to_leave_at=self.ready_to_leave_at.data,
            concomitant_medications=list(self.concomitant_medications.data or []),
        )


def with_items(base: type, prefix: str, code: str, *, required: bool) -> type:
    """`base` with one radio group per item of scale `code`, named <prefix>_1.. ."""
    check = InputRequired(message="Choose an answer.") if required else Optional()
    fields = {
        f"{prefix}_{n}": RadioField(
            f"{n}. {text}", choices=choices(ANCHORS[code]), coerce=int, validators=[check]
        )
        for n, text in enumerate(ITEMS[code], start=1)
    }
    return type(base.__name__, (base,), fields)


SessionForm = with_items(
    phq9_form(_SessionForm, required=False), "cadss", "CADSS-6", required=False
)


class CompleteForm(VersionedForm):
    """Finish the course."""


class EndEarlyForm(VersionedForm):
    reason = TextAreaField(
        "Why the course ends early",
        validators=[InputRequired(message="Give the reason."), Length(max=2000)],
    )


class SignForm(VersionedForm):
    bp_reason = TextAreaField("Why the session went ahead", validators=[Length(max=2000)])


class AddendumForm(FlaskForm):
    text = TextAreaField(
        "Addendum", validators=[InputRequired(message="Write the addendum."), Length(max=5000)]
    )


class RemsSubmittedForm(FlaskForm):
    submitted_on = DateField(
        "Submitted on", default=clinic_today, validators=[InputRequired(message="Enter a date.")]
    )


class RemsEnrolmentForm(FlaskForm):
    enrolled_on = DateField(
        "REMS enrolment date", validators=[InputRequired(message="Enter the enrolment date.")]
    )
