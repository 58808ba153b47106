from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Message",
        validators=[
            DataRequired(message="Write a message before sending."),
            Length(max=5000, message="Keep a message under 5,000 characters."),
        ],
    )
