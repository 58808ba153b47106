from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import VersionedForm


class CancelForm(VersionedForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why the referral is cancelled."), Length(max=2000)],
    )
