"""Reading and changing portal-wide settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.admin.models import SiteSetting
from portal.audit.service import record
from portal.extensions import db

if TYPE_CHECKING:
    from portal.auth.models import User

REFERRER_MFA = "require_mfa_for_referrers"


def get_flag(key: str) -> bool:
    row = db.session.get(SiteSetting, key)
    return row is not None and row.value == "1"


def set_flag(key: str, value: bool, *, actor: User) -> None:
    """Change a yes/no setting, audited."""
    row = db.session.get(SiteSetting, key) or SiteSetting(key=key)
    row.value = "1" if value else "0"
    db.session.add(row)
    record("setting.change", "setting", None, actor=actor, detail=f"{key}={row.value}")
