"""Rendering letters with WeasyPrint, fetching nothing but the portal's own static files."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

# Letters resolve relative URLs against this base; the host can never resolve (RFC 2606),
# and the fetcher answers it from the static folder without any network access.
STATIC_BASE = "https://portal.invalid/static/"


class LetterRenderError(FatalURLFetchingError):
    """A letter asked for something it may not have, or a file of ours is missing."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the static folder; refuses file:, http:, data: and everything else."""

    def __init__(self, static_folder: str | Path) -> None:
        super().__init__(allowed_protocols=())
        self.static_root = Path(static_folder).resolve()

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
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


def render_pdf(template: str, context: dict) -> RenderedPdf:
    """Render a letter template from plain values to PDF bytes."""
    html = render_template(template, **context)
    document = HTML(
        string=html,
        base_url=STATIC_BASE,
        url_fetcher=StaticOnlyFetcher(current_app.static_folder),
    ).render()
    return RenderedPdf(document.write_pdf(), len(document.pages))
