"""The admin registers an EHR's system on the FHIR clients page, in Chromium (axe, screenshot)."""

from __future__ import annotations

import json

from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import sign_in
from tests.fhir.helpers import Ehr


def test_admin_registers_an_ehr(page, live_server, world, shot):
    sign_in(page, live_server, world.admin.email)
    page.goto(f"{live_server}/admin/fhir-clients/")
    page.get_by_role("link", name="FHIR clients").wait_for()
    page.get_by_label("System name").fill("Riverbend EHR")
    page.get_by_label("Acts for the practice").select_option(label=world.practice.name)
    page.get_by_label("Public keys (JWKS)").fill(json.dumps(Ehr("EC").jwks))
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert "Registered Riverbend EHR. Its client id:" in text
    assert "Riverbend Psychiatry" in text
    assert "system/ServiceRequest.cru" in text
    shot("admin-fhir-clients")
    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "best-practice"]})
    assert results.violations_count == 0, results.generate_report()


def test_admin_registers_a_clinic_wide_system(page, live_server, world, shot):
    sign_in(page, live_server, world.admin.email)
    page.goto(f"{live_server}/admin/fhir-clients/")
    page.get_by_label("System name").fill("Lakeside EHR")
    page.get_by_label("…or for the whole clinic").select_option(label=world.clinic.name)
    page.get_by_label("Public keys (JWKS)").fill(json.dumps(Ehr("EC").jwks))
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert "Registered Lakeside EHR. Its client id:" in text
    assert f"{world.clinic.name} (clinic-wide)" in text
    for width in (1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        shot(f"admin-fhir-clients-clinic-{width}")
    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "best-practice"]})
    assert results.violations_count == 0, results.generate_report()
