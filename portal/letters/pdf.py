"""Rendering letters with WeasyPrint, fetching nothing but the portal's own static files.

WeasyPrint (~400 ms of imports, fonts and Pango) is loaded on the first rendering, from
portal/letters/weasy.py, never when the app is created: the web process that renders nothing
and CLI commands start without it. `LetterRenderError` and `StaticOnlyFetcher` are still
importable from here."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template

from portal.letters.urls import MEMORY_BASE, STATIC_BASE

__all__ = ["MEMORY_BASE", "STATIC_BASE", "RenderedPdf", "render_html", "render_pdf"]


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_html(
    html: str, *, memory: dict[str, tuple[bytes, str]] | None = None, tagged: bool = True
) -> RenderedPdf:
    """HTML to PDF: tagged for screen readers (PDF/UA-1), title and language from the HTML,
    fonts embedded and subset."""
    from portal.letters import weasy
    from portal.observability.metrics import LETTER_RENDER_SECONDS

    started = time.perf_counter()
    data, pages = weasy.render(html, current_app.static_folder, memory=memory, tagged=tagged)
    LETTER_RENDER_SECONDS.observe(time.perf_counter() - started)
    return RenderedPdf(data, pages)


def render_pdf(
    template: str, context: dict, *, memory: dict[str, tuple[bytes, str]] | None = None
) -> RenderedPdf:
    """Render a letter template from plain values to PDF bytes."""
    return render_html(render_template(template, **context), memory=memory)


def stamp_superseded(pdf: bytes, note: str) -> bytes:
    """A copy of a stored PDF with a SUPERSEDED band on every page; the stored bytes (whose
    sha256 the verification page shows) are never changed."""
    from pypdf import PdfReader, PdfWriter

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


def __getattr__(name: str) -> Any:
    """The WeasyPrint-based names, loaded when first asked for."""
    if name in ("LetterRenderError", "StaticOnlyFetcher"):
        from portal.letters import weasy

        return getattr(weasy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
