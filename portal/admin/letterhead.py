"""The clinic's letterhead and letter settings, set by an admin: the logo is checked so that a
letter can never fetch anything through it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - parsed only after the size check, no DTD
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from portal.audit.service import record
from portal.errors import Invalid
from portal.extensions import db
from portal.images import ImageRefused, reencode

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.clinics.models import Clinic


MAX_LOGO_BYTES = 512 * 1024
# A PNG logo is decoded only up to this many pixels, then kept at most LOGO_SIDE pixels on its
# longest side (a letter prints it a few centimetres wide; a huge one slowed every letter).
LOGO_PIXELS = 25_000_000
LOGO_SIDE = 1200
SVG_NS = "http://www.w3.org/2000/svg"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# An SVG logo may hold these elements and attributes only; it is stored as parsed and written
# out again, so nothing else (processing instructions, comments, other namespaces) survives.
SVG_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
    ]
)
SVG_ATTRIBUTES = frozenset(
    [
        "id",
        "class",
        "width",
        "height",
        "viewBox",
        "preserveAspectRatio",
        "version",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "dx",
        "dy",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "stroke-dashoffset",
        "opacity",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "letter-spacing",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "clip-path",
        "clip-rule",
        "clipPathUnits",
        "style",
        "space",
    ]
)
# url() in an attribute may only point inside the file (url(#id)).
URL_REF = re.compile(r"url\(\s*#[\w.-]+\s*\)", re.IGNORECASE)
DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# Processing instructions other than the XML declaration (<?xml-stylesheet ...?> above all).
INSTRUCTION = re.compile(rb"<\?(?!xml\s)", re.IGNORECASE)
SVG_ONLY = (
    "SVG logos may hold only shapes, gradients and text: {what} is not accepted. Save the "
    "logo as a plain SVG (or a PNG) and try again."
)
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


def check_logo(data: bytes, filename: str) -> tuple[str, bytes]:
    """The logo's MIME type and the bytes to store: a PNG re-encoded from its pixels (shrunk
    to LOGO_SIDE), an SVG written out again from its allowed elements; raises otherwise."""
    if not data:
        raise LogoRefused("The file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoRefused("The logo is larger than 512 KB.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            png = reencode(data, "image/png", max_pixels=LOGO_PIXELS, longest_side=LOGO_SIDE)
        except ImageRefused as error:
            raise LogoRefused(str(error)) from error
        return "image/png", png
    if filename.lower().endswith(".svg"):
        return "image/svg+xml", _clean_svg(data)
    raise LogoRefused("Upload a PNG or an SVG file.")


def _local(name: str, allowed_ns: tuple[str, ...]) -> str | None:
    """The local name if `name` has no namespace or one of `allowed_ns`, else None."""
    if name.startswith("{"):
        ns, local = name[1:].split("}", 1)
        return local if ns in allowed_ns else None
    return name


def _clean_svg(data: bytes) -> bytes:
    if DTD.search(data):
        raise LogoRefused("SVG logos may not declare a DTD or entities.")
    if INSTRUCTION.search(data):
        raise LogoRefused(SVG_ONLY.format(what="a processing instruction (such as a stylesheet)"))
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD or entities (refused above)
    except ET.ParseError as error:
        raise LogoRefused("That SVG file cannot be read.") from error
    if _local(root.tag, (SVG_NS,)) != "svg":
        raise LogoRefused("That file is not an SVG image.")
    for element in root.iter():
        if not isinstance(element.tag, str) or _local(element.tag, (SVG_NS,)) not in SVG_ELEMENTS:
            raise LogoRefused(SVG_ONLY.format(what=f"the element {_shown(element.tag)}"))
        for name, value in element.attrib.items():
            local = _local(name, (XML_NS,))
            if local not in SVG_ATTRIBUTES or (local == "space" and name == "space"):
                raise LogoRefused(SVG_ONLY.format(what=f"the attribute {_shown(name)}"))
            _check_value(value)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _check_value(value: str) -> None:
    """No reference outside the file: url() only to an id inside it, no CSS escapes (which
    could spell url), no @import or expressions."""
    lowered = URL_REF.sub("", value).lower()
    if "\\" in value or "url(" in lowered or "@" in lowered or "expression" in lowered:
        raise LogoRefused("SVG logos may not refer to anything outside themselves.")


def _shown(name: str) -> str:
    return "“" + str(name).rsplit("}", 1)[-1][:40] + "”"


def update_letterhead(clinic: Clinic, values: Mapping[str, Any], *, actor: User) -> None:
    """Save the letterhead from the form's values (its fields by name); a new logo replaces
    the old one only once it has been checked, else LogoRefused and nothing changes."""
    upload = values.get("logo")
    if upload and getattr(upload, "filename", ""):
        clinic.logo_mime, clinic.logo = check_logo(upload.read(), upload.filename)
    elif values.get("remove_logo") == "yes":
        clinic.logo, clinic.logo_mime = None, ""
    for name in TEXT_FIELDS:
        setattr(clinic, name, (values.get(name) or "").strip())
    clinic.interim_every = values["interim_every"]
    clinic.unopened_days = values["unopened_days"]
    db.session.flush()
    record("clinic.letterhead", "clinic", clinic.id, actor=actor)
