"""Attachments stored through the real checks, and a tiny real PNG to attach."""

from __future__ import annotations

from portal.auth.models import User
from portal.referrals.models import Referral


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A real, tiny PNG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_attachment(referral: Referral, user: User, data: bytes | None = None):
    """An attachment stored through the real checks and store."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal.attachments.service import add_upload

    upload = FileStorage(io.BytesIO(data or png_bytes()), filename="scan.png")
    return add_upload(referral, upload, actor=user)
