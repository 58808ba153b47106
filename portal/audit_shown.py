"""Auditing a list page: which referrals it showed, not only how many. The ids go into the
detail of one audit row, or of several when they do not fit one row's 200 characters."""

from __future__ import annotations

from collections.abc import Iterable

from portal.audit.service import record

DETAIL_ROOM = 200


def record_shown(action: str, object_type: str, referral_ids: Iterable[int], *, actor, detail: str):
    """Record that `actor` was shown the referrals `referral_ids` (in the order shown)."""
    ids = [str(i) for i in referral_ids]
    head = f"{len(ids)} shown{', ' + detail if detail else ''}; referrals "
    chunks: list[list[str]] = [[]]
    for value in ids:
        if chunks[-1] and len(head) + len(",".join([*chunks[-1], value])) > DETAIL_ROOM:
            chunks.append([])
        chunks[-1].append(value)
    for chunk in chunks:
        record(action, object_type, None, actor=actor, detail=head + (",".join(chunk) or "none"))
