"""Counting the SQL statements a request costs, so a test can fail when a page's cost grows
with the data it shows (one query per row, or a reload of each row after the commit)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db

# Work a request may do or not whatever the page shows: the sign-in session is touched at most
# once a minute (portal/auth/sessions.py) and the audit sequencer links the audit rows in its
# own short transaction after a commit, at most once a second per process (portal/audit/chain.py).
NOT_THE_PAGES = ("user_session", "audit_chain_head", "audit_event.seq", "audit_checkpoint")


def _the_pages(statement: str) -> bool:
    return not any(part in statement for part in NOT_THE_PAGES)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order."""
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def page_statements(client, path: str, *, data: dict | None = None) -> list[str]:
    """The statements of one request of the page (POST when `data` is given), without the
    session touch and the audit sequencer's own work. The page must answer 200."""
    with statements() as seen:
        response = client.get(path) if data is None else client.post(path, data=data)
        assert response.status_code == 200, (path, response.status_code)
    return [s for s in seen if _the_pages(s)]


def assert_same_cost(small: list[str], large: list[str]) -> None:
    """The larger data set cost no more statements than the smaller one; on failure, show
    the statements of the larger one (their first 100 characters)."""
    shown = "\n".join(s[:100] for s in large)
    assert len(large) <= len(small), f"{len(small)} statements grew to {len(large)}:\n{shown}"
