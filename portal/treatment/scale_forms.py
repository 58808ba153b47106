"""Entering a rating scale on its own date, and reviewing a safety alert."""

from __future__ import annotations

from functools import cache

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.clock import clinic_today
from portal.forms import VersionedForm
from portal.scales.scoring import SCALES
from portal.treatment.assessments import SIGNED_SESSION
from portal.treatment.forms import with_items


class SessionChoice(SelectField):
    """The session a scale is recorded with: only unsigned sessions are offered (a signed one
    changes only by addenda). A session not offered is refused; a signed one says why."""

    signed_ids: frozenset[int] = frozenset()

    def pre_validate(self, form) -> None:
        if not self.process_errors and self.data in self.signed_ids:
            raise ValidationError(SIGNED_SESSION)
        super().pre_validate(form)


class _ScaleForm(VersionedForm):
    taken_on = DateField(
        "Date taken",
        default=clinic_today,
        validators=[InputRequired(message="Enter the date as YYYY-MM-DD.")],
    )
    session_id = SessionChoice(
        "Recorded with session",
        coerce=int,
        invalid_choice_message="Choose one of the sessions listed, or none.",
    )

    def validate_taken_on(self, field: DateField) -> None:
        if field.data and field.data > clinic_today():
            raise ValidationError("A scale cannot be recorded before it is taken.")

    def answers(self) -> list[int]:
        return [getattr(self, f"item_{n}").data for n in range(1, SCALES[self.code].items + 1)]

    def item_fields(self) -> list:
        return [getattr(self, f"item_{n}") for n in range(1, SCALES[self.code].items + 1)]


@cache
def scale_form(code: str) -> type[FlaskForm]:
    """The entry form of one scale, item by item with its allowed range."""
    form = with_items(_ScaleForm, "item", code, required=True)
    form.code = code
    return form


class ReviewAlertForm(FlaskForm):
    note = TextAreaField(
        "What was done",
        validators=[InputRequired(message="Write what was done."), Length(max=2000)],
    )
