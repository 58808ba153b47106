"""The stylesheet every letter carries is parsed once per thread (portal/letters/weasy.py),
keyed by its text: a letter signed with an older sheet still renders with the rules it holds."""

from __future__ import annotations

import io

from pypdf import PdfReader

from portal.letters.pdf import render_html
from tests.letter_helpers import pdf_text

HTML = (
    '<!doctype html><html lang="en"><head><title>t</title>'
    '<style id="letter-css">@font-face {{ font-family: "Letter Sans"; '
    'src: url("fonts/DejaVuSans.ttf"); }} @page {{ size: {size}; }} '
    'html {{ font-family: "Letter Sans"; }}</style>'
    '<style>@page {{ @bottom-left {{ content: "{footer}"; }} }}</style>'
    "</head><body><p>{body}</p></body></html>"
)


def _page_size(data: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_each_letter_renders_with_the_sheet_it_carries(app):
    with app.test_request_context():
        letter = render_html(HTML.format(size="Letter", footer="first", body="One"))
        a4 = render_html(HTML.format(size="A4", footer="second", body="Two"))
        again = render_html(HTML.format(size="Letter", footer="third", body="Three"))
    assert _page_size(letter.data) == _page_size(again.data) == (612, 792)
    assert _page_size(a4.data) == (595, 842)
    # The letter's own text and its own footer (the second, unshared sheet) each time.
    for rendered, body, footer in ((letter, "One", "first"), (again, "Three", "third")):
        text = pdf_text(rendered.data)
        assert body in text
        assert footer in text
        assert "Two" not in text
        assert "second" not in text


def test_the_shared_sheet_keeps_its_place_in_the_cascade(app):
    """The page's other <style> blocks do not outrank the shared sheet: a more specific rule of
    the shared sheet (@page :first) still wins over a plainer one after it (@page)."""
    html = (
        '<!doctype html><html lang="en"><head><title>t</title>'
        '<style id="letter-css">@page :first { size: A4; }</style>'
        "<style>@page { size: Letter; }</style>"
        "</head><body><p>One</p><p style='break-before: page'>Two</p></body></html>"
    )
    with app.test_request_context():
        first, second = PdfReader(io.BytesIO(render_html(html).data)).pages
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)
    assert (round(float(second.mediabox.width)), round(float(second.mediabox.height))) == (
        612,
        792,
    )
