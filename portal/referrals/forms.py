from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import VersionedForm


class CancelForm(VersionedForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why the referral is cancelled."), Length(max=2000)],
    )


class SearchForm(FlaskForm):
    """Search by patient name: sent by POST so the name never appears in a URL or a log."""

    q = SearchField("Patient name", validators=[Length(max=100)])
    show = HiddenField()
