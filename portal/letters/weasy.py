"""The WeasyPrint side of portal/letters/pdf.py, imported on the first rendering only."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import threading
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from portal.letters.urls import MEMORY_BASE, STATIC_BASE


class LetterRenderError(FatalURLFetchingError):
    """A letter asked for something it may not have, or a file of ours is missing."""


# The only data: URLs a letter may hold: the clinic's logo, embedded by portal/letters/rendering.py
# (the upload is checked by portal/admin/letterhead.py; user text is escaped, so never a URL).
DATA_IMAGES = ("image/png", "image/svg+xml")


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the static folder, an embedded logo (a base64 data: URL of a PNG or
    SVG) and the few in-memory resources it was given; refuses file:, http:, other data: URLs
    and everything else."""

    def __init__(
        self, static_folder: str | Path, memory: dict[str, tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(allowed_protocols=())
        self.static_root = Path(static_folder).resolve()
        self.memory = memory or {}

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return _data_image(url)
        if url.startswith(MEMORY_BASE) and url[len(MEMORY_BASE) :] in self.memory:
            data, mime = self.memory[url[len(MEMORY_BASE) :]]
            return URLFetcherResponse(url, data, {"Content-Type": mime})
        if not url.startswith(STATIC_BASE):
            raise LetterRenderError(f"letters may not fetch {url.split(':', 1)[0]}: URLs")
        relative = url[len(STATIC_BASE) :].split("?", 1)[0].split("#", 1)[0]
        path = (self.static_root / relative).resolve()
        if not path.is_relative_to(self.static_root) or not path.is_file():
            raise LetterRenderError(f"static file not found: {relative}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


def _data_image(url: str) -> URLFetcherResponse:
    header, _, payload = url[len("data:") :].partition(",")
    mime, _, encoding = header.partition(";")
    if mime not in DATA_IMAGES or encoding != "base64":
        raise LetterRenderError("letters may not fetch data: URLs other than an embedded logo")
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error as error:
        raise LetterRenderError("an embedded logo is not valid base64") from error
    return URLFetcherResponse(url, data, {"Content-Type": mime})


# The stylesheet every letter carries (templates/letters/pdf/letter.css, in <style id=...>):
# parsing it and loading its three font faces cost a fifth of the cascade on every render, so
# each thread parses it once, with a font configuration of its own, and hands WeasyPrint the
# parsed sheet. The HTML keeps its own copy: a letter signed with an older sheet (other text) is
# parsed as it is. WeasyPrint gives sheets passed to render() the user origin, below the page's
# own <style> blocks whatever their order, so every <style> block is taken out of the HTML and
# passed, in document order, beside it (only the shared one cached); their cascade is the same.
SHARED_SHEET_ID = "letter-css"
SHARED_SHEETS_KEPT = 4
STYLE_BLOCK = re.compile(r"<style(?P<attributes>[^>]*)>(?P<text>.*?)</style>", re.DOTALL)
_local = threading.local()


def _sheets(html: str, static_folder: str | Path) -> tuple[str, list[CSS], FontConfiguration]:
    """The HTML without its <style> blocks, those blocks parsed in document order (the shared
    one once per thread), and the font configuration that holds their fonts."""
    if not hasattr(_local, "sheets"):
        _local.sheets = {}
    blocks = list(STYLE_BLOCK.finditer(html))
    shared = next((b for b in blocks if f'id="{SHARED_SHEET_ID}"' in b["attributes"]), None)
    others_declare_fonts = any("@font-face" in b["text"] for b in blocks if b is not shared)
    if shared is None or others_declare_fonts:  # nothing to share, or fonts of its own
        font_config = FontConfiguration()
        cached = None
    else:
        key = (str(static_folder), shared["text"])
        cached = _local.sheets.get(key)
        if cached is None:
            if len(_local.sheets) >= SHARED_SHEETS_KEPT:
                _local.sheets = {}
            config = FontConfiguration()
            cached = _local.sheets[key] = (_parse(shared["text"], static_folder, config), config)
        font_config = cached[1]
    sheets = [
        cached[0] if cached is not None and block is shared
        else _parse(block["text"], static_folder, font_config)
        for block in blocks
    ]  # fmt: skip
    return STYLE_BLOCK.sub("", html), sheets, font_config


def _parse(text: str, static_folder: str | Path, font_config: FontConfiguration) -> CSS:
    return CSS(
        string=text,
        base_url=STATIC_BASE,
        url_fetcher=StaticOnlyFetcher(static_folder),
        font_config=font_config,
    )


def render(
    html: str,
    static_folder: str | Path,
    *,
    memory: dict[str, tuple[bytes, str]] | None = None,
    tagged: bool = True,
) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    html, sheets, font_config = _sheets(html, static_folder)
    document = HTML(
        string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher(static_folder, memory)
    ).render(stylesheets=sheets, font_config=font_config)
    options = {"pdf_variant": "pdf/ua-1"} if tagged else {}
    return document.write_pdf(**options), len(document.pages)
