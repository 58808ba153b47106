"""Plain functions that make test objects through the real services where it matters, one
module per feature; everything is re-exported here (`from tests.factories import ...`)."""

from tests.factories.attachments import png_bytes, stored_attachment
from tests.factories.letters import draft_letter, stored_letter
from tests.factories.referrals import (
    accepted_referral,
    create_referral,
    intake_form,
    questioned_referral,
    referral_data,
)
from tests.factories.scheduling import book, next_weekday, protocol, scheduling_objects
from tests.factories.treatment import (
    document_sessions,
    phq9_with_item9,
    spravato_referral,
    spravato_session,
)
from tests.factories.users import (
    PASSWORD,
    TOTP_SECRET,
    World,
    create_clinic,
    create_practice,
    create_user,
    fresh_totp_code,
    password_reset_link,
    pending_account_request,
)

__all__ = [
    "PASSWORD",
    "TOTP_SECRET",
    "World",
    "accepted_referral",
    "book",
    "create_clinic",
    "create_practice",
    "create_referral",
    "create_user",
    "document_sessions",
    "draft_letter",
    "fresh_totp_code",
    "intake_form",
    "next_weekday",
    "password_reset_link",
    "pending_account_request",
    "phq9_with_item9",
    "png_bytes",
    "protocol",
    "questioned_referral",
    "referral_data",
    "scheduling_objects",
    "spravato_referral",
    "spravato_session",
    "stored_attachment",
    "stored_letter",
]
