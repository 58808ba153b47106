"""Rendering letters with WeasyPrint, fetching nothing but the portal's own static files."""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

# Letters resolve relative URLs against this base; the host can never resolve (RFC 2606),
# and the fetcher answers it from the static folder without any network access.
STATIC_BASE = "https://portal.invalid/static/"
# In-memory resources of one rendering (the clinic's uploaded logo) live under this prefix.
MEMORY_BASE = "https://portal.invalid/memory/"


class LetterRenderError(FatalURLFetchingError):
    """A letter asked for something it may not have, or a file of ours is missing."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the static folder (and the few in-memory resources it was given);
    refuses file:, http:, data: and everything else."""

    def __init__(
        self, static_folder: str | Path, memory: dict[str, tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(allowed_protocols=())
        self.static_root = Path(static_folder).resolve()
        self.memory = memory or {}

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
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


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_html(
    html: str, *, memory: dict[str, tuple[bytes, str]] | None = None, tagged: bool = True
) -> RenderedPdf:
    """HTML to PDF: tagged for screen readers (PDF/UA-1), title and language from the HTML,
    fonts embedded and subset."""
    document = HTML(
        string=html,
        base_url=STATIC_BASE,
        url_fetcher=StaticOnlyFetcher(current_app.static_folder, memory),
    ).render()
    options = {"pdf_variant": "pdf/ua-1"} if tagged else {}
    return RenderedPdf(document.write_pdf(**options), len(document.pages))


def render_pdf(
    template: str, context: dict, *, memory: dict[str, tuple[bytes, str]] | None = None
) -> RenderedPdf:
    """Render a letter template from plain values to PDF bytes."""
    return render_html(render_template(template, **context), memory=memory)


def stamp_superseded(pdf: bytes, note: str) -> bytes:
    """A copy of a stored PDF with a SUPERSEDED band on every page; the stored bytes (whose
    sha256 the verification page shows) are never changed."""
    stamp = render_html(
        render_template("letters/pdf/superseded_stamp.html", note=note), tagged=False
    ).data
    band = PdfReader(io.BytesIO(stamp)).pages[0]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        page.merge_page(band, over=True)
    writer.add_metadata({"/Subject": note})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
