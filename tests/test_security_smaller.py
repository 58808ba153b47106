"""Smaller security items of issue 15 (item 10): unhandled errors logged by id, type and
endpoint only (the trace at debug level), no server banner naming Werkzeug or Python, and list
pages audited with the referral ids they showed."""

from __future__ import annotations

import logging
import re
import urllib.request

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit_shown import DETAIL_ROOM
from portal.extensions import db
from tests.conftest import signed_in
from tests.factories import create_referral
from tests.live_helpers import served

ERROR_ID = re.compile(r"error id <strong>([0-9a-f]{12})</strong>")


def test_an_unhandled_error_is_logged_by_id_type_and_endpoint_only(app, world, caplog):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = signed_in(app, world.referrer)

    def explode(**kwargs):
        db.session.execute(select(AuditEvent).where(AuditEvent.detail == "SELECT secret-value"))
        raise RuntimeError("SELECT secret-value FROM patient")

    saved = app.view_functions["referrals.detail"]
    app.view_functions["referrals.detail"], app.testing = explode, False
    try:
        with caplog.at_level(logging.INFO, logger=app.logger.name):
            failed = client.get(f"/referrals/{referral.id}")
    finally:
        app.view_functions["referrals.detail"], app.testing = saved, True
    assert failed.status_code == 500
    error_id = ERROR_ID.search(failed.get_data(as_text=True)).group(1)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"error {error_id}: unhandled RuntimeError on endpoint referrals.detail" in [
        r.getMessage() for r in errors
    ]
    assert all(r.exc_info is None for r in errors)  # no traceback at error level
    assert "secret-value" not in caplog.text
    with caplog.at_level(logging.DEBUG, logger=app.logger.name):
        app.view_functions["referrals.detail"], app.testing = explode, False
        try:
            client.get(f"/referrals/{referral.id}")
        finally:
            app.view_functions["referrals.detail"], app.testing = saved, True
    traced = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert traced, "the full trace is kept at debug level"


def test_the_server_banner_names_no_software(app, db):
    with served(app) as base, urllib.request.urlopen(base + "/login") as response:  # noqa: S310
        banner = response.headers.get("Server", "")
    assert "Werkzeug" not in banner
    assert "Python" not in banner


def test_list_pages_audit_the_referrals_they_showed(app, world):
    referrals = [create_referral(world.referrer) for _ in range(3)]
    db.session.commit()
    signed_in(app, world.coordinator).get("/triage/")
    signed_in(app, world.referrer).get("/referrals/")
    details = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "referral.list")
        .order_by(AuditEvent.id)
    ).all()
    ids = sorted(str(r.id) for r in referrals)
    assert len(details) == 2
    for detail in details:
        assert detail.startswith("3 shown")
        assert sorted(detail.rsplit("referrals ", 1)[1].split(",")) == ids


def test_a_long_list_is_audited_over_several_rows(app, world):
    from portal.audit_shown import record_shown

    with app.test_request_context():
        record_shown(
            "referral.list", "referral", range(1000, 1100), actor=world.coordinator, detail=""
        )
        db.session.flush()
    details = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "referral.list")
        .order_by(AuditEvent.id)
    ).all()
    assert len(details) > 1
    assert all(len(d) <= DETAIL_ROOM for d in details)
    shown = [i for d in details for i in d.rsplit("referrals ", 1)[1].split(",")]
    assert shown == [str(i) for i in range(1000, 1100)]
