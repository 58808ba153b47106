"""How typed text lands on the letter: line breaks kept, preview paginated as the signed
letter, the signature never alone on a last page, a receipt that fits one page."""

from __future__ import annotations

import io

from pypdf import PdfReader

from portal.extensions import db
from portal.letters.models import Letter
from portal.letters.service import preview, render_letter
from portal.letters.storage import open_pdf
from tests.conftest import force_login, post_form
from tests.factories import accepted_referral, create_referral, document_sessions, draft_letter
from tests.letter_helpers import draft_and_sign, flat, pdf_text

LIST = (
    "1. Continue sertraline 150 mg.\n2. Repeat a PHQ-9 in two weeks.\n3. Call us if item 9 rises."
)


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def test_a_typed_list_keeps_its_lines_and_markup_stays_text(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.clinician)
    narrative = "Doing well.\n\n<b>Not bold</b> and a second paragraph."
    letter_id = draft_and_sign(client, referral.id, "interim_progress", narrative, LIST)
    text = pdf_text(open_pdf(db.session.get(Letter, letter_id)))
    # Each item on its own line, in order (pdftotext writes one line per printed line).
    assert (
        "1. Continue sertraline 150 mg.\n2. Repeat a PHQ-9 in two weeks.\n"
        "3. Call us if item 9 rises." in text
    )
    assert "<b>Not bold</b> and a second paragraph." in text
    edit = client.get(
        post_form(
            client,
            f"/letters/referrals/{referral.id}/new",
            {"kind": "interim_progress"},
            token_from=f"/referrals/{referral.id}",
        ).location
    ).get_data(as_text=True)
    assert "each new line starts a new line in the letter" in edit
    assert "a blank line starts a new paragraph" in edit


def _signed_copy(letter: Letter, signer) -> bytes:
    """The PDF signing would store (the same rendering sign_letter freezes), not kept."""
    letter.status, letter.signed_by, letter.verify_code = "final", signer, "ABCDE-FGHJK"
    try:
        return render_letter(letter).data
    finally:
        letter.status, letter.signed_by, letter.verify_code = "draft", None, None


def test_preview_paginates_as_the_signed_letter_and_the_signature_keeps_company(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 3)
    letter = draft_letter(referral, world.clinician, kind="interim_progress")
    db.session.commit()
    seen_two_pages = False
    for items in range(0, 44, 4):
        letter.recommendations = "\n\n".join(
            f"{n}. A recommendation long enough to wrap onto a second printed line of the "
            "letter, so that the text grows down the page."
            for n in range(items)
        )
        previewed = _pages(preview(letter, actor=world.clinician).data)
        signed = _pages(_signed_copy(letter, world.clinician))
        assert len(previewed) == len(signed), f"{items} items"
        seen_two_pages |= len(signed) > 1
        for pages in (previewed, signed):
            last = pages[-1].strip()
            # The last page starts with text of the letter, never with the closing.
            assert not last.startswith("Sincerely"), f"{items} items: signature alone"
            assert "Sincerely" in last
        assert "Samuel Ortiz" in previewed[-1]
        assert "not signed" in previewed[-1]
    assert seen_two_pages
    db.session.rollback()


def test_a_long_referral_is_acknowledged_on_one_page(app, world):
    from portal.letters.service import acknowledge_referral

    long = " ".join(["The patient has tried many treatments over the years."] * 40)
    referral = create_referral(world.referrer, reason=long)
    letter = acknowledge_referral(referral)
    db.session.commit()
    pages = _pages(open_pdf(letter))
    assert len(pages) == 1
    assert flat("the full text is on the portal") in flat(pages[0])
    assert "Sincerely" in pages[0]
