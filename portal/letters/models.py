"""Letters: drafts the clinician edits, then final PDFs stored unchangeable with their sha256.

A letter is identified by (referral, kind, sequence): the acknowledgement, the acceptance, the
decline and the final summary have sequence 1; interim progress letters count 1, 2, 3...
Each correction is a new version of the same letter; the unique constraint on
(referral, kind, sequence, version) is what makes `letters generate-due` idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

ACKNOWLEDGEMENT = "acknowledgement"
ACCEPTANCE = "acceptance"
DECLINE = "decline"
INTERIM = "interim_progress"
SUMMARY = "treatment_summary"

LETTER_KINDS = {
    ACKNOWLEDGEMENT: "Acknowledgement of receipt",
    ACCEPTANCE: "Acceptance",
    DECLINE: "Decline",
    INTERIM: "Interim progress",
    SUMMARY: "Treatment summary",
}

# Progress and summary letters carry the session table, the scales and the adverse events.
CLINICAL_KINDS = (INTERIM, SUMMARY)

# A letter's status (not a referral's state): a draft, the current signed version, or a signed
# version a correction replaced.
DRAFT, FINAL, SUPERSEDED = "draft", "final", "superseded"


class Letter(Base):
    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint(
            "referral_id", "kind", "sequence", "version", name="uq_letter_kind_sequence_version"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=FINAL)  # draft | final | superseded
    narrative: Mapped[str] = mapped_column(Text, default="")
    # Final: loaded only when the PDF itself is asked for, never for lists. A draft keeps its
    # latest preview (marked DRAFT) here until it is signed.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Signed, PDF not stored yet: the HTML built when it was signed (encrypted), which the job
    # worker renders; cleared in the statement that stores the PDF.
    signed_html: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    page_count: Mapped[int] = mapped_column(Integer, default=1)
    # None: issued by the clinic without a clinician's signature (the acknowledgement) or a draft.
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # When the letter was issued (signed); for a draft, when it was last saved.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_downloaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    recommendations: Mapped[str] = mapped_column(Text, default="", server_default="")
    verify_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A long course's letter lists every session in an appendix (else grouped rows only).
    include_all_sessions: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    referral: Mapped[Referral] = relationship(back_populates="letters")
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    first_downloaded_by: Mapped[User | None] = relationship(foreign_keys=[first_downloaded_by_id])
    drafted_by: Mapped[User | None] = relationship(foreign_keys=[drafted_by_id])

    @property
    def kind_label(self) -> str:
        label = LETTER_KINDS.get(self.kind, self.kind)
        return f"{label} {self.sequence}" if self.kind == INTERIM else label

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def is_superseded(self) -> bool:
        return self.status == SUPERSEDED

    @property
    def being_prepared(self) -> bool:
        """Signed, its PDF not rendered yet (the job workers render it)."""
        return self.status != DRAFT and self.sha256 is None

    @property
    def is_clinical(self) -> bool:
        return self.kind in CLINICAL_KINDS

    @property
    def correctable(self) -> bool:
        """The current signed version, of a letter a clinician wrote (the acknowledgement is
        issued by the portal and never corrected)."""
        return self.status == FINAL and self.kind != ACKNOWLEDGEMENT

    @property
    def filename(self) -> str:
        kind = self.kind.replace("_", "-")
        sequence = f"-{self.sequence}" if self.kind == INTERIM else ""
        draft = "-DRAFT" if self.is_draft else ""
        return f"{self.referral.number}-{kind}{sequence}-v{self.version}{draft}.pdf"
