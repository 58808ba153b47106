"""The clinic's letterhead and letter settings, set by an admin: the logo is checked so that a
letter can never fetch anything through it."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET  # noqa: S405 - parsed only after the size check, no DTD
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from portal.audit.service import record
from portal.errors import Invalid
from portal.extensions import db

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.clinics.models import Clinic


MAX_LOGO_BYTES = 512 * 1024
SVG_FORBIDDEN = {"script", "foreignObject", "image", "use", "style", "iframe", "a", "feImage"}
TEXT_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "fax",
)


class LogoRefused(Invalid):
    """The file is not a logo the letters can show safely."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="logo")


def check_logo(data: bytes, filename: str) -> str:
    """The logo's MIME type if it is a plain PNG or a self-contained SVG; raises otherwise."""
    if not data:
        raise LogoRefused("The file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoRefused("The logo is larger than 512 KB.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise LogoRefused("That PNG file is damaged.") from error
        return "image/png"
    if filename.lower().endswith(".svg"):
        _check_svg(data)
        return "image/svg+xml"
    raise LogoRefused("Upload a PNG or an SVG file.")


def _check_svg(data: bytes) -> None:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LogoRefused("SVG logos may not declare a DTD or entities.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD or entities (refused above)
    except ET.ParseError as error:
        raise LogoRefused("That SVG file cannot be read.") from error
    if root.tag.rsplit("}", 1)[-1] != "svg":
        raise LogoRefused("That file is not an SVG image.")
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] in SVG_FORBIDDEN:
            raise LogoRefused(
                "SVG logos may hold only shapes and text (no scripts, links, styles or "
                "embedded images)."
            )
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local == "href" or "url(" in value:
                raise LogoRefused("SVG logos may not refer to anything outside themselves.")


def update_letterhead(clinic: Clinic, values: Mapping[str, Any], *, actor: User) -> None:
    """Save the letterhead from the form's values (its fields by name); a new logo replaces
    the old one only once it has been checked, else LogoRefused and nothing changes."""
    upload = values.get("logo")
    if upload and getattr(upload, "filename", ""):
        data = upload.read()
        clinic.logo_mime = check_logo(data, upload.filename)
        clinic.logo = data
    elif values.get("remove_logo") == "yes":
        clinic.logo, clinic.logo_mime = None, ""
    for name in TEXT_FIELDS:
        setattr(clinic, name, (values.get(name) or "").strip())
    clinic.interim_every = values["interim_every"]
    clinic.unopened_days = values["unopened_days"]
    db.session.flush()
    record("clinic.letterhead", "clinic", clinic.id, actor=actor)
