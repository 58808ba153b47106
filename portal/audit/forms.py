"""The audit viewer's filters."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from portal.audit.actions import ACTIONS, OBJECT_TYPES
from portal.forms import choices

REFERRAL_NUMBER = re.compile(r"^\s*(?:KR-?)?0*(\d{1,9})\s*$", re.IGNORECASE)
MAX_ID = 2**31 - 1
ACTION_CODE = re.compile(r"^[a-z_]{1,30}\.[a-z_]{1,29}$")


class AuditFilterForm(FlaskForm):
    """Filters read from the query string (a GET form: no CSRF token needed). The choices
    come from the catalogue of actions and objects, not from the trail itself."""

    class Meta:
        csrf = False

    user = StringField("User email", validators=[Optional(), Length(max=200)])
    referral = StringField(
        "Referral number",
        validators=[
            Optional(),
            Regexp(REFERRAL_NUMBER, message="A referral number looks like KR-000020."),
        ],
    )
    action = SelectField("Action", validators=[Optional()])
    object_type = SelectField("Object", validators=[Optional()])
    object_id = IntegerField("Object id", validators=[Optional(), NumberRange(1, MAX_ID)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def fill_choices(self) -> None:
        by_label = sorted(ACTIONS.items(), key=lambda item: item[1])
        asked = self.action.data or ""
        if asked not in ACTIONS and ACTION_CODE.match(asked):
            by_label.append((asked, asked))  # a code the catalogue does not name yet
        self.action.choices = choices([("", "Any action"), *by_label])
        objects = sorted(OBJECT_TYPES.items(), key=lambda item: item[1])
        self.object_type.choices = choices([("", "Any object"), *objects])

    def referral_id(self) -> int | None:
        match = REFERRAL_NUMBER.match(self.referral.data or "")
        if not match or not 0 < int(match.group(1)) <= MAX_ID:
            return None
        return int(match.group(1))
