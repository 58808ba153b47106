"""The WeasyPrint side of portal/letters/pdf.py, imported on the first rendering only."""

from __future__ import annotations

import base64
import binascii
import mimetypes
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
# each thread parses it once and hands WeasyPrint the parsed sheet with the fonts it loaded. The
# HTML keeps its own copy: a letter signed with an older sheet (other text) is parsed as it is.
SHARED_SHEET_OPEN = '<style id="letter-css">'
SHARED_SHEET_CLOSE = "</style>"
SHARED_SHEETS_KEPT = 4
_local = threading.local()


def _shared_sheet(html: str, static_folder: str | Path) -> tuple[str, list[CSS], FontConfiguration]:
    """The HTML without its shared sheet, that sheet parsed (once per thread), and the font
    configuration holding its fonts; the HTML as it is when it has no shared sheet."""
    if not hasattr(_local, "sheets"):
        _local.font_config, _local.sheets = FontConfiguration(), {}
    start = html.find(SHARED_SHEET_OPEN)
    end = html.find(SHARED_SHEET_CLOSE, start)
    if start < 0 or end < 0:
        return html, [], FontConfiguration()
    text = html[start + len(SHARED_SHEET_OPEN) : end]
    key = (str(static_folder), text)
    sheet = _local.sheets.get(key)
    if sheet is None:
        if len(_local.sheets) >= SHARED_SHEETS_KEPT:
            _local.font_config, _local.sheets = FontConfiguration(), {}
        sheet = CSS(
            string=text,
            base_url=STATIC_BASE,
            url_fetcher=StaticOnlyFetcher(static_folder),
            font_config=_local.font_config,
        )
        _local.sheets[key] = sheet
    return html[:start] + html[end + len(SHARED_SHEET_CLOSE) :], [sheet], _local.font_config


def render(
    html: str,
    static_folder: str | Path,
    *,
    memory: dict[str, tuple[bytes, str]] | None = None,
    tagged: bool = True,
) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    html, sheets, font_config = _shared_sheet(html, static_folder)
    document = HTML(
        string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher(static_folder, memory)
    ).render(stylesheets=sheets, font_config=font_config)
    options = {"pdf_variant": "pdf/ua-1"} if tagged else {}
    return document.write_pdf(**options), len(document.pages)
