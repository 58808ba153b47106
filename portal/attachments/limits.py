"""How large one request may be: derived from the attachment limit, so raising or lowering
MAX_ATTACHMENT_MB moves the request cap with it. A file over its own limit (but within the
cap) is read and refused with a sentence that keeps the rest of the form; only a request
past the cap gets the "too large" page."""

from __future__ import annotations

from flask import Request, current_app


def request_limit(config) -> int:
    """Every file a form may carry at its limit, plus room for the rest of the form (each
    text field may hold MAX_FORM_MEMORY_SIZE; the intake's fields together stay well under
    twice that) and the multipart framing."""
    files = config["MAX_ATTACHMENT_FILES"] * config["MAX_ATTACHMENT_BYTES"]
    return files + 2 * config["MAX_FORM_MEMORY_SIZE"] + 64 * 1024


class PortalRequest(Request):
    """Flask's request, its MAX_CONTENT_LENGTH worked out from the attachment settings."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if not current_app:
            return None
        return request_limit(current_app.config)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
