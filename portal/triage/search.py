"""The queue's search term, kept out of every URL.

A name, a date of birth or a referral number is POSTed once; the term is sealed with the
portal's data key (portal.crypto) and kept in the user's session under a short random id,
and the queue's links (filters, sort, pages) carry only that id: `?search=<id>`. A session
keeps its last few searches; an id it no longer holds shows the queue without the search."""

from __future__ import annotations

import secrets
from dataclasses import replace

from flask import session

from portal.crypto import DecryptionError, decrypt, encrypt
from portal.triage.filters import QueueFilters, clean_text

SESSION_KEY = "queue_searches"
KEPT = 5


def _stored() -> list[list[str]]:
    """[[id, sealed term], ...], oldest first (a list: the session is serialised as JSON)."""
    value = session.get(SESSION_KEY)
    return [pair for pair in value if len(pair) == 2] if isinstance(value, list) else []


def _open(sealed: str) -> str | None:
    try:
        return decrypt(sealed.encode()).decode()
    except (DecryptionError, UnicodeDecodeError):
        return None  # sealed with a key no longer configured: as if forgotten


def remember(term: str) -> str:
    """Keep `term` (sealed) in the session; return the id the queue's links will carry. The
    same term searched again keeps its id; beyond KEPT searches the oldest is forgotten."""
    term = clean_text(term)
    stored = _stored()
    for search_id, sealed in stored:
        if _open(sealed) == term:
            return search_id
    search_id = secrets.token_urlsafe(8)
    stored.append([search_id, encrypt(term.encode()).decode()])
    session[SESSION_KEY] = stored[-KEPT:]
    return search_id


def recall(search_id: str) -> str | None:
    """The term kept under `search_id`, or None if this session holds no such search."""
    for stored_id, sealed in _stored():
        if secrets.compare_digest(stored_id, search_id):
            return _open(sealed)
    return None


def with_search(filters: QueueFilters) -> tuple[QueueFilters, bool]:
    """The filters with the search term their id stands for; and False when the id is
    unknown (expired, forgotten or never made), in which case the search is dropped."""
    if not filters.search:
        return filters, True
    term = recall(filters.search)
    if term is None:
        return replace(filters, search="", q=""), False
    return replace(filters, q=term), True
