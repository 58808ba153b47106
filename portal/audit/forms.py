"""The audit viewer's filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.forms import choices


class AuditFilterForm(FlaskForm):
    """Filters read from the query string (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    user = StringField("User email", validators=[Optional()])
    action = SelectField("Action", validators=[Optional()])
    object_type = SelectField("Object", validators=[Optional()])
    object_id = IntegerField("Object id", validators=[Optional(), NumberRange(1, 2**31 - 1)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def fill_choices(self) -> None:
        actions = db.session.scalars(
            select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        )
        types = db.session.scalars(
            select(AuditEvent.object_type)
            .distinct()
            .where(AuditEvent.object_type != "")
            .order_by(AuditEvent.object_type)
        )
        self.action.choices = choices([("", "Any action"), *((a, a) for a in actions)])
        self.object_type.choices = choices([("", "Any object"), *((t, t) for t in types)])
