"""Sending one email: the standard library's smtplib, configured by MAIL_* settings.

In development without MAIL_SERVER, mail goes to the development mailbox instead (the outbox
row itself, marked sent by "dev-mailbox", read under Sent mail). The caller (delivery.py)
decides what a failure means: TemporaryFailure is tried again later, PermanentFailure not."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

SMTP = "smtp"
DEV_MAILBOX = "dev-mailbox"


class TemporaryFailure(Exception):
    """Worth another try: a 4xx answer, a refused or dropped connection, a timeout."""


class PermanentFailure(Exception):
    """Not worth another try: a 5xx answer (no such mailbox, refused content), no server."""


def transport() -> str:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SMTP
    if config.get("ENV_NAME") == "development":
        return DEV_MAILBOX
    raise PermanentFailure("no MAIL_SERVER is configured")


def build(*, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip("> ") or "portal.invalid"
    # The outbox row's idempotency key: a receiving system can also drop a duplicate by it.
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(body)
    return message


def send(message: EmailMessage) -> None:
    """Hand the message to the SMTP server, or raise Temporary/PermanentFailure."""
    config = current_app.config
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        raise _by_code(min(codes), "recipient refused") from error
    except smtplib.SMTPResponseException as error:
        raise _by_code(error.smtp_code, "server answered") from error
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, OSError) as error:
        raise TemporaryFailure(f"could not reach the mail server ({type(error).__name__})") from (
            error
        )


def _by_code(code: int, what: str) -> Exception:
    # Only the code and a fixed phrase are kept: a server's text may echo an address.
    if 400 <= code < 500:
        return TemporaryFailure(f"{what} {code} (temporary)")
    return PermanentFailure(f"{what} {code}")
