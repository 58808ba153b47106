from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from portal.forms import VersionedForm


class LetterForm(VersionedForm):
    narrative = TextAreaField(
        "Summary for the referring provider",
        description="Plain text. Leave a blank line between paragraphs.",
        validators=[InputRequired(message="Write the summary paragraph."), Length(max=8000)],
    )
