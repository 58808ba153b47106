from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from portal.extensions import db as _db
from tests.fhir.helpers import NPI, Ehr
from tests.fhir.receiver import Receiver


@pytest.fixture
def ehr(world):
    """The referrer's practice's EHR, registered; the referrer has an NPI."""
    world.referrer.npi = NPI
    _db.session.commit()
    system = Ehr()
    system.register(world.practice.id)
    return system


@pytest.fixture
def served(app, db):
    """The portal on a free port of 127.0.0.1; PUBLIC_BASE_URL follows it (token URL, links)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    before = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base
    try:
        yield base
    finally:
        app.config["PUBLIC_BASE_URL"] = before
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def receiver():
    """A rest-hook receiver on 127.0.0.1 (a threaded http.server), stopped after the test."""
    running = Receiver()
    yield running
    running.close()
