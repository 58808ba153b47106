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


class AnswerForm(VersionedForm):
    """The referrer's answer to the clinic's question; it becomes the event's reason."""

    reason = TextAreaField(
        "Your answer",
        validators=[
            DataRequired(message="Write your answer; the clinic will read it."),
            Length(max=2000),
        ],
    )


class SearchForm(FlaskForm):
    """Search by patient name: sent by POST so the name never appears in a URL or a log."""

    q = SearchField("Patient name", validators=[Length(max=100)])
    show = HiddenField()
