"""Judge an uploaded file by its content, never its name: PDF, PNG or JPEG, and a PDF must be
a plain document (it parses, no password, no JavaScript or automatic action, no embedded
files). Each refusal is a sentence the referrer can act on."""

from __future__ import annotations

import io
import re

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
ACTIVE_CONTENT = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|OpenAction|RichMedia)\b")


class Refused(ValueError):
    """The file is not accepted; the message says why in plain words."""


def too_large(size: int, limit: int) -> str:
    return (
        f"The file is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB. "
        "Split it or scan it at a lower resolution."
    )


def check(data: bytes, *, max_bytes: int) -> str:
    """The file's content type, or Refused."""
    if not data:
        raise Refused("The file is empty.")
    if len(data) > max_bytes:
        raise Refused(too_large(len(data), max_bytes))
    head = data[:1024]
    kind = next((t for sig, t in SIGNATURES if head.startswith(sig)), None)
    if kind is None and b"%PDF-" in head:
        kind = PDF  # PDF readers accept a header within the first kilobyte
    if kind is None:
        raise Refused(
            "This file is not a PDF, PNG or JPEG (judged by its content, not its name). "
            "Save or scan it as a PDF and try again."
        )
    if kind == PDF:
        _check_pdf(data)
    else:
        _check_image(data)
    return kind


def _check_image(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise Refused("The image is damaged or incomplete and cannot be opened.") from error


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Refused(
                "The PDF is password-protected or encrypted. Save an unprotected copy and "
                "upload that."
            )
        root = reader.trailer["/Root"].get_object()
        pages = list(reader.pages)
    except Refused:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, AttributeError) as error:
        raise Refused("The PDF is damaged and cannot be read.") from error
    if not pages:
        raise Refused("The PDF has no pages.")
    if _has_active_content(root, pages) or ACTIVE_CONTENT.search(data):
        raise Refused(
            "The PDF contains JavaScript, an automatic action or embedded files, which the "
            "portal does not accept for safety. Print it to a new PDF and upload that."
        )


def _has_active_content(root: DictionaryObject, pages: list) -> bool:
    if "/OpenAction" in root or "/AA" in root:
        return True
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        if "/JavaScript" in names or "/EmbeddedFiles" in names:
            return True
    for page in pages:
        if "/AA" in page:
            return True
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/FileAttachment":
                return True
            action = annot.get("/A")
            if action is not None and action.get_object().get("/S") in ("/JavaScript", "/Launch"):
                return True
    return False
