"""The WeasyPrint side of portal/letters/pdf.py, imported on the first rendering only."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from pathlib import Path

from weasyprint import HTML
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


def render(
    html: str,
    static_folder: str | Path,
    *,
    memory: dict[str, tuple[bytes, str]] | None = None,
    tagged: bool = True,
) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    document = HTML(
        string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher(static_folder, memory)
    ).render()
    options = {"pdf_variant": "pdf/ua-1"} if tagged else {}
    return document.write_pdf(**options), len(document.pages)
