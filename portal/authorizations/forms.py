"""The shape of a prior authorization (or self-pay agreement) as the coordinator types it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from portal.authorizations.rules import DOSES_MG, STATUSES
from portal.authorizations.service import AuthorizationValues
from portal.forms import choices


class AuthorizationForm(FlaskForm):
    version = HiddenField(default="0")
    status = SelectField("Status", choices=choices(STATUSES), default="to_submit")
    payer = StringField("Payer", validators=[Length(max=120)])
    number = StringField("Authorization number", validators=[Length(max=60)])
    dose_mg = SelectField(
        "Planned dose per session",
        coerce=int,
        choices=choices([(d, f"{d} mg") for d in DOSES_MG]),
        default=56,
    )
    approved_units = IntegerField(
        "Approved units of S0013 (1 unit = 1 mg)",
        validators=[Optional(), NumberRange(0, 100_000, message="Between 0 and 100000.")],
    )
    approved_visits = IntegerField(
        "Approved observation visits (G2082 up to 56 mg, G2083 above)",
        validators=[Optional(), NumberRange(0, 500, message="Between 0 and 500.")],
    )
    starts_on = DateField("First covered day", validators=[Optional()])
    ends_on = DateField("Last covered day", validators=[Optional()])
    submitted_on = DateField("Sent to the payer on", validators=[Optional()])
    documents_sent = TextAreaField("Documents sent", validators=[Length(max=4000)])
    note = TextAreaField("Note", validators=[Length(max=4000)])
    self_pay_agreed_on = DateField("Self-pay agreement signed on", validators=[Optional()])

    def expected_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return -1

    def values(self) -> AuthorizationValues:
        return AuthorizationValues(
            status=self.status.data,
            payer=(self.payer.data or "").strip(),
            number=(self.number.data or "").strip(),
            approved_units=self.approved_units.data,
            approved_visits=self.approved_visits.data,
            dose_mg=self.dose_mg.data or 56,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            submitted_on=self.submitted_on.data,
            documents_sent=(self.documents_sent.data or "").strip(),
            note=(self.note.data or "").strip(),
            self_pay_agreed_on=self.self_pay_agreed_on.data,
        )
