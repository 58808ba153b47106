"""Form pieces shared by several features."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.scales.scoring import PHQ9_ANSWERS, PHQ9_ITEMS


class VersionedForm(FlaskForm):
    """Carries the referral version the user saw, for optimistic locking."""

    version = HiddenField()

    def expected_version(self) -> int:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return -1


def choices(pairs: list[tuple[object, str]]) -> list[SelectChoice]:
    """WTForms 3.3+ choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def bp_field(label: str, low: int, high: int) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(message="Enter a number."),
            NumberRange(low, high, message=f"Must be between {low} and {high}."),
        ],
    )


def scale_form(
    base: type[FlaskForm],
    prefix: str,
    items: list[str],
    answers: list[tuple[int, str]],
    *,
    required: bool,
) -> type[FlaskForm]:
    """A subclass of `base` with a scale's items as radio groups named <prefix>_1..<prefix>_N,
    and <prefix>_answers() / <prefix>_fields() to read them back."""
    fields: dict[str, object] = {}
    for number, text in enumerate(items, start=1):
        check = InputRequired(message="Choose an answer.") if required else Optional()
        fields[f"{prefix}_{number}"] = RadioField(
            f"{number}. {text}", choices=choices(answers), coerce=int, validators=[check]
        )
    count = len(items)

    def read_answers(self) -> list[int | None]:
        return [getattr(self, f"{prefix}_{n}").data for n in range(1, count + 1)]

    def item_fields(self) -> list:
        return [getattr(self, f"{prefix}_{n}") for n in range(1, count + 1)]

    fields[f"{prefix}_answers"] = read_answers
    fields[f"{prefix}_fields"] = item_fields
    return type(base.__name__, (base,), fields)


def phq9_form(base: type[FlaskForm], *, required: bool) -> type[FlaskForm]:
    """A subclass of `base` with the nine PHQ-9 items as radio groups named phq9_1..phq9_9."""
    return scale_form(base, "phq9", PHQ9_ITEMS, PHQ9_ANSWERS, required=required)
