"""Which letters are due, and `letters generate-due`: parallel, with a progress bar, and never
making a letter twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.letters.due import LetterSeen, due_letters
from portal.letters.models import Letter
from portal.letters.storage import open_pdf
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.treatment.service import complete_course
from tests.factories import accepted_referral, create_referral, document_sessions
from tests.letter_helpers import pdf_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _times(n: int) -> list[datetime]:
    return [T0 + timedelta(days=3 * i) for i in range(n)]


def test_interim_letters_fall_due_every_n_sessions():
    assert due_letters("in_treatment", _times(2), [], interim_every=3) == []
    assert due_letters("in_treatment", _times(3), [], interim_every=3) == [("interim_progress", 1)]
    # Started after the third session: nothing due until the sixth.
    after_third = [LetterSeen("interim_progress", 1, T0 + timedelta(days=7))]
    assert due_letters("in_treatment", _times(5), after_third, interim_every=3) == []
    assert due_letters("in_treatment", _times(6), after_third, interim_every=3) == [
        ("interim_progress", 2)
    ]
    # An interim letter asked for on demand after the sixth session counts.
    on_demand = [*after_third, LetterSeen("interim_progress", 2, T0 + timedelta(days=16))]
    assert due_letters("in_treatment", _times(6), on_demand, interim_every=3) == []
    assert due_letters("in_treatment", _times(4), [], interim_every=2) == [("interim_progress", 1)]


def test_decisions_and_the_end_of_the_course_make_their_letters_due():
    assert due_letters("accepted", [], [], interim_every=3) == [("acceptance", 1)]
    assert due_letters("declined", [], [], interim_every=3) == [("decline", 1)]
    assert due_letters("completed", _times(6), [], interim_every=3) == [("treatment_summary", 1)]
    done = [LetterSeen("treatment_summary", 1, T0)]
    assert due_letters("completed", _times(6), done, interim_every=3) == []
    assert due_letters("submitted", [], [], interim_every=3) == []


def _world_with_due_letters(world):
    treating = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(treating, world.clinician, 3)
    finished = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(finished, world.clinician, 2, start=date.today() - timedelta(days=20))
    complete_course(
        finished.course,
        actor=world.clinician,
        expected_version=finished.version,
        ended_on=date.today(),
    )
    declined = create_referral(world.referrer)
    change_state(
        declined, State.IN_REVIEW, actor=world.coordinator, expected_version=declined.version
    )
    change_state(
        declined,
        State.DECLINED,
        actor=world.coordinator,
        expected_version=declined.version,
        reason="Outside our service area.",
    )
    _db.session.commit()
    return treating, finished, declined


def test_generate_due_renders_drafts_in_parallel_and_never_twice(app, world):
    treating, finished, declined = _world_with_due_letters(world)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["letters", "generate-due", "--workers", "2"])
    assert first.exit_code == 0, first.output
    assert "3 new draft letter(s); 3 draft(s) rendered with 2 process(es)." in first.output
    _db.session.expire_all()
    drafts = _db.session.scalars(select(Letter).where(Letter.status == "draft")).all()
    assert sorted((d.referral_id, d.kind) for d in drafts) == sorted(
        [
            (treating.id, "interim_progress"),
            (finished.id, "treatment_summary"),
            (declined.id, "decline"),
        ]
    )
    for draft in drafts:
        text = pdf_text(open_pdf(draft))
        assert "DRAFT" in text
        assert draft.referral.number in text
    decline = next(d for d in drafts if d.kind == "decline")
    assert decline.narrative == "Outside our service area."  # prefilled from the decision

    again = runner.invoke(args=["letters", "generate-due"])
    assert again.exit_code == 0, again.output
    assert "0 new draft letter(s); 0 draft(s) rendered" in again.output
    assert _db.session.scalar(select(func.count(Letter.id))) == 3


def test_generate_due_in_one_process_gives_the_same_drafts(app, world):
    _world_with_due_letters(world)
    result = app.test_cli_runner().invoke(args=["letters", "generate-due", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "3 new draft letter(s); 3 draft(s) rendered with 1 process(es)." in result.output


def test_the_database_refuses_a_second_copy_of_a_letter(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    referral = create_referral(world.referrer)
    for _ in range(2):
        _db.session.add(
            Letter(
                referral_id=referral.id,
                kind="interim_progress",
                sequence=1,
                version=1,
                status="draft",
                narrative="",
                recommendations="",
            )
        )
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_a_due_letter_made_meanwhile_is_skipped_and_the_rest_kept(app, world, monkeypatch):
    from portal.letters import due

    treating, finished, declined = _world_with_due_letters(world)
    rule = due.due_letters
    # Each due letter asked for twice, as when another run inserts it first: the second
    # insert breaks the unique constraint and is skipped, the first stays.
    monkeypatch.setattr(
        due, "due_letters", lambda *a, **k: [x for x in rule(*a, **k) for _ in "ab"]
    )
    created = due.create_due_drafts()
    _db.session.commit()
    assert len(created) == 3
    _db.session.expire_all()
    kinds = _db.session.execute(select(Letter.referral_id, Letter.kind)).all()
    assert sorted(kinds) == sorted(
        [
            (treating.id, "interim_progress"),
            (finished.id, "treatment_summary"),
            (declined.id, "decline"),
        ]
    )
