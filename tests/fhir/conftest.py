from __future__ import annotations

import pytest

from portal.extensions import db as _db
from tests.fhir.helpers import NPI, Ehr


@pytest.fixture
def ehr(world):
    """The referrer's practice's EHR, registered; the referrer has an NPI."""
    world.referrer.npi = NPI
    _db.session.commit()
    system = Ehr()
    system.register(world.practice.id)
    return system
