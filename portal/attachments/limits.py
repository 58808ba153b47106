"""How large one request may be. The forms that carry attachments (the intake and the upload
on a referral's page) may bring MAX_ATTACHMENT_FILES files at MAX_ATTACHMENT_BYTES each, so
raising or lowering MAX_ATTACHMENT_MB moves their cap with it; every other request (sign-in,
account requests, the rest) is held to the room a form's text needs, so nobody can make the
server spool hundreds of megabytes to disk through a page that takes no files. A file over
its own limit (but within the cap) is read and refused with a sentence that keeps the rest of
the form; only a request past the cap gets the "too large" page. An explicit
MAX_CONTENT_LENGTH in the configuration overrides both."""

from __future__ import annotations

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge

UPLOAD_ENDPOINTS = frozenset(
    {"referrals.new", "referrals.edit", "attachments.upload", "referrals.answer"}
)


def form_limit(config) -> int:
    """A form's text fields (each may hold MAX_FORM_MEMORY_SIZE; the intake's together stay
    well under twice that) and the multipart framing; the letterhead's 512 KB logo fits."""
    return 2 * config["MAX_FORM_MEMORY_SIZE"] + 64 * 1024


def request_limit(config, endpoint: str | None, mimetype: str = "multipart/form-data") -> int:
    """Files only come in multipart: any other body (urlencoded above all) is held to a form's
    worth, even where files are allowed."""
    if config.get("MAX_CONTENT_LENGTH") is not None:
        return config["MAX_CONTENT_LENGTH"]
    if endpoint in UPLOAD_ENDPOINTS and mimetype == "multipart/form-data":
        files = config["MAX_ATTACHMENT_FILES"] * config["MAX_ATTACHMENT_BYTES"]
        return files + form_limit(config)
    return form_limit(config)


class PortalRequest(Request):
    """Flask's request, its MAX_CONTENT_LENGTH worked out from the endpoint and the
    attachment settings."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if not current_app:
            return None
        return request_limit(current_app.config, self.endpoint, self.mimetype)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _load_form_data(self) -> None:
        """In a multipart body the text parts together are held to a form's worth too (each
        part is held to MAX_FORM_MEMORY_SIZE by Werkzeug); the files are counted apart."""
        super()._load_form_data()
        if not current_app or self.mimetype != "multipart/form-data":
            return
        text = sum(len(key) + len(value) for key, value in self.form.items(multi=True))
        if text > form_limit(current_app.config):
            raise RequestEntityTooLarge()
