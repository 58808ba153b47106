from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.auth.password_policy import MAX_LENGTH


class LoginForm(FlaskForm):
    # No syntax check here: a sign-in only looks the address up, and the demo uses *.test.
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=40)],
        description="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"},
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired(), Length(max=10)],
        description="After adding the account, type the 6-digit code the app shows.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=(
            "At least 12 characters and hard to guess; no other rules. A few unrelated words "
            "work well."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class ReauthForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        "Code from your authenticator app",
        validators=[Length(max=40)],
        description="Or one of your recovery codes.",
        render_kw={"autocomplete": "one-time-code"},
    )


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is the confirmation."""


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(message="Type the email you sign in with."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class ResetPasswordForm(FlaskForm):
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description="At least 12 characters; no other rules. A few unrelated words work well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
