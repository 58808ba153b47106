"""Rendering due drafts in an app context, for `letters generate-due` (portal/cli/letters.py,
which spreads the work over processes): each render is returned, and the parent writes every
result, once."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import update

from portal.extensions import db
from portal.letters.models import DRAFT, Letter
from portal.letters.storage import seal_pdf


def render_in_process(letter_ids: list[int]) -> Iterator[tuple[int, bytes, int] | None]:
    from portal.letters.rendering import render_letter

    for letter_id in letter_ids:
        letter = db.session.get(Letter, letter_id)
        if letter is None or letter.status != DRAFT:
            yield None
            continue
        rendered = render_letter(letter)
        yield letter_id, rendered.data, rendered.pages


def store_preview(result: tuple[int, bytes, int] | None) -> bool:
    """Write one rendered draft; a draft signed or edited meanwhile is left alone."""
    if result is None:
        return False
    letter_id, data, pages = result
    done = db.session.execute(
        update(Letter)
        .where(Letter.id == letter_id, Letter.status == DRAFT, Letter.pdf.is_(None))
        .values(pdf=seal_pdf(data), page_count=pages)
    )
    return bool(done.rowcount)
