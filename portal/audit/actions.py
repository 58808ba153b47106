"""Audit actions in plain language, for the viewer: "Opened letter", "Signed session".

The catalogue is also the viewer's list of actions to filter by (no DISTINCT over the trail).
An action missing here is shown by its code, never hidden."""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    # referrals and patients
    "referral.view": "Opened referral",
    "referral.act": "Opened referral to act on it",
    "referral.document": "Opened referral to document treatment",
    "referral.list": "Listed referrals",
    "referral.create": "Created referral",
    "referral.edit": "Edited referral",
    "referral.draft_save": "Saved referral draft",
    "referral.transition": "Changed referral status",
    "referral.note": "Added internal note to referral",
    "referral.assign": "Assigned referral",
    "screening.checklist": "Saved screening checklist",
    "patient.view": "Opened patient record",
    "patient.create": "Created patient record",
    "patient.rems_enrolment": "Recorded REMS enrolment",
    "assessment.create": "Recorded assessment",
    "assessment.replace": "Replaced baseline assessment",
    "message.create": "Sent message",
    # attachments
    "attachment.create": "Attached file",
    "attachment.delete": "Removed attached file",
    "attachment.download": "Downloaded attached file",
    # letters
    "letter.view": "Opened letter",
    "letter.update": "Saved letter draft",
    "letter.create": "Created letter",
    "letter.draft": "Started letter draft",
    "letter.preview": "Previewed letter",
    "letter.sign": "Signed letter",
    "letter.correct": "Started letter correction",
    "letter.download": "Downloaded letter",
    "letter.list": "Listed unopened letters",
    "letter.render": "Rendered letter",
    "letter.generate_due": "Generated due letters",
    "letter.verify": "Checked a letter's verification code",
    # treatment
    "course.create": "Opened treatment course",
    "course.list": "Listed treatment courses",
    "session.view": "Opened treatment session",
    "session.document": "Opened treatment session to document it",
    "session.create": "Recorded treatment session",
    "session.edit": "Edited treatment session",
    "session.sign": "Signed treatment session",
    "session.addendum": "Added addendum to session",
    "session.dose_confirmed": "Confirmed an unusual dose",
    "session.bp_acknowledged": "Acknowledged high blood pressure",
    "rems.list": "Listed REMS forms to submit",
    "rems.print": "Printed REMS form",
    "rems.submitted": "Recorded REMS form as submitted",
    "safety_alert.raise": "Raised safety alert",
    "safety_alert.list": "Listed safety alerts",
    "safety_alert.review": "Reviewed safety alert",
    # scheduling
    "appointment.act": "Opened appointment",
    "appointment.book": "Booked appointment",
    "appointment.move": "Moved appointment",
    "appointment.cancel": "Cancelled appointment",
    "appointment.no_show": "Marked appointment as no-show",
    "appointment.prepare": "Saved appointment preparation",
    "schedule.day": "Opened day schedule",
    "calendar.feed": "Calendar feed read",
    "calendar.link_create": "Created calendar link",
    "calendar.link_revoke": "Revoked calendar link",
    "clinic.schedule_settings": "Changed schedule settings",
    "clinic.closed_date_add": "Added closed date",
    "clinic.closed_date_delete": "Removed closed date",
    "clinic.letterhead": "Changed letterhead",
    "protocol.edit": "Edited protocol",
    # accounts and sign-in
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.mfa": "Second sign-in step",
    "auth.reauth": "Confirmed password",
    "auth.lockout": "Account locked after failed sign-ins",
    "account.unlock": "Unlocked account",
    "account.password_change": "Changed password",
    "account.recovery_codes": "Made new recovery codes",
    "account.mfa_enrol": "Set up two-step sign-in",
    "account.mfa_reset": "Reset two-step sign-in",
    "account.deactivate": "Deactivated account",
    "account.reactivate": "Reactivated account",
    "account_request.create": "Requested an account",
    "account_request.approve": "Approved account request",
    "account_request.refuse": "Refused account request",
    "invitation.create": "Invited a user",
    "invitation.accept": "Accepted invitation",
    "invitation.revoke": "Revoked invitation",
    "user.create": "Created user",
    "user.update": "Changed user",
    "setting.change": "Changed setting",
    # the trail itself
    "audit.view": "Opened audit log",
    "audit.export": "Exported audit log",
    "audit.checkpoint_reset": "Reset the audit checkpoint",
    "keys.rotate": "Rotated encryption keys",
}

OUTCOMES = {
    "ok": "",
    "denied": "refused: no access",
    "failed": "failed",
    "conflict": "refused: changed by someone else meanwhile",
    "refused": "refused",
    "locked": "refused: locked",
    "duplicate": "refused: already exists",
}

OBJECT_TYPES = {
    "referral": "referral",
    "patient": "patient record",
    "letter": "letter",
    "attachment": "attached file",
    "appointment": "appointment",
    "treatment_session": "treatment session",
    "treatment_course": "treatment course",
    "assessment": "assessment",
    "safety_alert": "safety alert",
    "user": "user",
    "clinic": "clinic",
    "invitation": "invitation",
    "account_request": "account request",
    "setting": "setting",
}


def describe(action: str) -> str:
    """The action in plain words; an unknown code as it is."""
    return ACTIONS.get(action, action)


def describe_outcome(outcome: str) -> str:
    return OUTCOMES.get(outcome, outcome)
