"""Forms for the provider profile, invitations and account requests."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.accounts.npi import is_valid_npi
from portal.auth.password_policy import clinic_names, password_problems

# A plain shape check: the address is proven by the link or by the admin who approves it.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address.")


def validate_npi(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    if len(value) != 10 or not value.isdigit():
        raise ValidationError("An NPI has exactly 10 digits.")
    if not is_valid_npi(value):
        raise ValidationError("This NPI's check digit is wrong: check for a mistyped digit.")


def _name():
    return StringField(
        "Full name", validators=[DataRequired(message="Enter your name."), Length(max=200)]
    )


def _credentials():
    return StringField(
        "Credentials", description="For example MD, DO, NP, LCSW, PhD.", validators=[Length(max=50)]
    )


def _npi(required: bool):
    checks = [DataRequired(message="Enter your NPI.")] if required else [Optional()]
    return StringField("NPI", validators=[*checks, Length(max=10), validate_npi])


def _password():
    return PasswordField(
        "Password",
        description="At least 12 characters. A long passphrase is best.",
        validators=[DataRequired(message="Choose a password."), Length(min=12, max=256)],
    )


def _confirm():
    return PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class ProfileForm(FlaskForm):
    full_name = _name()
    credentials = _credentials()
    npi = _npi(required=False)
    phone = StringField("Phone", validators=[Length(max=40)])
    fax = StringField("Fax", validators=[Length(max=40)])
    address_line1 = StringField("Street address", validators=[Length(max=200)])
    address_line2 = StringField("Address line 2", validators=[Length(max=200)])
    city = StringField("City", validators=[Length(max=100)])
    region = StringField("State", validators=[Length(max=50)])
    postal_code = StringField("ZIP code", validators=[Length(max=20)])


class InviteForm(FlaskForm):
    email = EmailField(
        "Provider's email",
        validators=[DataRequired(), EMAIL, Length(max=254)],
    )
    full_name = StringField("Provider's name", validators=[Length(max=200)])
    practice_id = SelectField("Practice", coerce=int)


class _ChoosesPassword(FlaskForm):
    """A form where a new provider chooses a password: the same NIST rules as a password
    change, shown at the field (common passwords, the account's own email or name)."""

    account_email = ""  # set by the view when the email is not a field of the form

    def validate_password(self, field) -> None:
        email_field = getattr(self, "email", None)
        email = (email_field.data if email_field is not None else self.account_email) or ""
        problems = password_problems(
            field.data or "",
            email=email,
            full_name=self.full_name.data or "",
            context=tuple(clinic_names()),
        )
        if problems:
            raise ValidationError(problems[0])


class AcceptInviteForm(_ChoosesPassword):
    full_name = _name()
    credentials = _credentials()
    npi = _npi(required=True)
    phone = StringField("Phone", validators=[Length(max=40)])
    password = _password()
    confirm = _confirm()


class RequestAccountForm(_ChoosesPassword):
    full_name = _name()
    email = EmailField(
        "Work email",
        validators=[DataRequired(), EMAIL, Length(max=254)],
    )
    credentials = _credentials()
    npi = _npi(required=True)
    practice_name = StringField(
        "Practice", validators=[DataRequired(message="Name your practice."), Length(max=200)]
    )
    phone = StringField("Phone", validators=[Length(max=40)])
    note = TextAreaField("Anything the clinic should know", validators=[Length(max=1000)])
    password = _password()
    confirm = _confirm()


class DecideRequestForm(FlaskForm):
    practice_id = SelectField("Add to practice", coerce=int)
