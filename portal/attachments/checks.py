"""Judge an uploaded file by its content, never its name: PDF, PNG or JPEG, and a PDF must be
a plain document (it parses, no password, no JavaScript or automatic action, no embedded
files). Each refusal is a sentence the referrer can act on."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from portal.errors import Invalid
from portal.images import ATTACHMENT_PIXELS, ImageRefused, reencode

if TYPE_CHECKING:
    from pypdf.generic import DictionaryObject

# pypdf (~100 ms of imports) is loaded by the first PDF checked, not when the app starts.

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
# What a PDF may not carry, each with the sentence that says so. Byte names first (a last
# net for objects the walk below does not reach), then the keys the walk looks for; pypdf
# hands names back decoded (/Java#53cript reads as /JavaScript), wherever they sit.
JAVASCRIPT, OPEN_ACTION, EMBEDDED, ACTION, LINK, TANGLED = (
    "javascript", "open_action", "embedded", "action", "link", "tangled"
)  # fmt: skip
REASONS = {
    JAVASCRIPT: "The PDF contains JavaScript (a script that runs inside the document), which "
    "the portal does not accept for safety. Print it to a new PDF and upload that.",
    OPEN_ACTION: "The PDF starts an action by itself when it is opened (an automatic open "
    "action), which the portal does not accept for safety. Print it to a new PDF and upload "
    "that.",
    EMBEDDED: "The PDF has other files embedded in it, which the portal does not accept for "
    "safety. Attach each file on its own.",
    ACTION: "The PDF has a link or button that launches a program or sends data, which the "
    "portal does not accept for safety. Print it to a new PDF and upload that.",
    LINK: "The PDF has a link to something other than a web page or an email address (such "
    "as a script or a file on the computer), which the portal does not accept for safety. "
    "Print it to a new PDF and upload that.",
    TANGLED: "The PDF is too complex for the portal to check. Print it to a new PDF and "
    "upload that.",
}
PRIORITY = (JAVASCRIPT, OPEN_ACTION, EMBEDDED, ACTION, LINK, TANGLED)  # the first found is told
ACTIVE_CONTENT = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|OpenAction|RichMedia)\b")
BYTE_KINDS = {
    b"JavaScript": JAVASCRIPT,
    b"JS": JAVASCRIPT,
    b"Launch": ACTION,
    b"EmbeddedFile": EMBEDDED,
    b"EmbeddedFiles": EMBEDDED,
    b"OpenAction": OPEN_ACTION,
    b"RichMedia": EMBEDDED,
}
KEY_KINDS = {
    "/JS": JAVASCRIPT,
    "/JavaScript": JAVASCRIPT,
    "/XFA": JAVASCRIPT,  # XML forms run their own scripts
    "/OpenAction": OPEN_ACTION,
    "/AA": OPEN_ACTION,  # actions run on opening a page or entering a field
    "/EmbeddedFile": EMBEDDED,
    "/EmbeddedFiles": EMBEDDED,
    "/RichMedia": EMBEDDED,
}
SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named", "/Thread"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_OBJECTS = 250_000


class Refused(Invalid):
    """The file is not accepted; the message says why in plain words."""


def too_large(size: int, limit: int) -> str:
    return (
        f"The file is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB. "
        "Split it or scan it at a lower resolution."
    )


def check(data: bytes, *, max_bytes: int) -> tuple[str, bytes]:
    """The file's content type and the bytes to store (an image re-encoded from its pixels
    alone, a PDF as it came), or Refused."""
    if not data:
        raise Refused("The file is empty.")
    if len(data) > max_bytes:
        raise Refused(too_large(len(data), max_bytes))
    kind = next((t for sig, t in SIGNATURES if data.startswith(sig)), None)
    if kind is None:
        raise Refused(
            "This file is not a PDF, PNG or JPEG (judged by its content, not its name). "
            "Save or scan it as a PDF and try again."
        )
    if kind == PDF:
        from pypdf.errors import PyPdfError

        try:
            _check_pdf(data)
        except (PyPdfError, RecursionError, MemoryError) as error:  # pypdf's own limits
            raise Refused(REASONS[TANGLED]) from error
        return kind, data
    try:
        return kind, reencode(data, kind, max_pixels=ATTACHMENT_PIXELS)
    except ImageRefused as error:
        raise Refused(str(error)) from error


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

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
    except LimitReachedError as error:
        raise Refused(REASONS[TANGLED]) from error
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError) as error:
        raise Refused("The PDF is damaged and cannot be read.") from error
    if not pages:
        raise Refused("The PDF has no pages.")
    found = _active_content(root, pages)
    found.update(BYTE_KINDS[m.group(1)] for m in ACTIVE_CONTENT.finditer(data))
    for kind in PRIORITY:
        if kind in found:
            raise Refused(REASONS[kind])


def _unsafe_actions(item: DictionaryObject) -> set[str]:
    """Actions other than going to a page or opening a web link: in an /A or /Next entry, or
    a dictionary that says it is an action."""
    from pypdf.generic import ArrayObject, DictionaryObject

    actions = [item] if item.get("/Type") == "/Action" else []
    for key in ("/A", "/Next"):
        value = item.get(key)
        value = value.get_object() if value is not None else None
        if isinstance(value, DictionaryObject):
            actions.append(value)
        elif isinstance(value, ArrayObject):
            actions.extend(v.get_object() for v in value)
    found = {
        JAVASCRIPT if action.get("/S") == "/JavaScript" else ACTION
        for action in actions
        if isinstance(action, DictionaryObject) and action.get("/S") not in SAFE_ACTIONS
    }
    if any(_bad_link(action) for action in actions if isinstance(action, DictionaryObject)):
        found.add(LINK)
    return found


def _bad_link(action: DictionaryObject) -> bool:
    """A /URI action to anything but a web page or an email address (javascript:, file:...)."""
    if action.get("/S") != "/URI":
        return False
    target = action.get("/URI")
    target = target.get_object() if target is not None else ""
    text = target.decode("latin-1") if isinstance(target, bytes) else str(target)
    scheme, colon, _ = text.partition(":")
    scheme = "".join(ch for ch in scheme if ch.isprintable() and not ch.isspace()).lower()
    return bool(colon) and scheme not in LINK_SCHEMES


def _active_content(root: DictionaryObject, pages: list) -> set[str]:
    """Walk every object reachable from the document and its pages (streams' dictionaries
    included, their data not decoded): the kinds of scripts, actions and embedded files
    found."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list = [root, *pages]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            found.add(TANGLED)  # too convoluted to vouch for
            return found
        if isinstance(item, DictionaryObject):
            found.update(KEY_KINDS[k] for k in item if k in KEY_KINDS)
            if item.get("/Subtype") == "/FileAttachment":
                found.add(EMBEDDED)
            found |= _unsafe_actions(item)
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return found
