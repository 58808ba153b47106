"""The README's EHR example works as written: docs/fhir/ehr_keys.py, the fhir-client command,
then docs/fhir/ehr_example.py against the portal served on 127.0.0.1; then the clinic's own
system, registered with --clinic, follows every practice's referrals with --follow."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.fhir.helpers import ROOT

DEMO_NPI = "1245319599"  # portal/demo/referrer_side.py


def test_the_documented_ehr_example_runs(app, served, world, tmp_path):
    world.referrer.npi = DEMO_NPI  # the demo's Maya Chen, named in the example referral
    from portal.extensions import db

    db.session.commit()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run([sys.executable, str(ROOT / "docs/fhir/ehr_keys.py"), str(tmp_path)], **run)
    created = app.test_cli_runner().invoke(
        args=[
            "fhir-client",
            "create",
            "--name",
            "Riverbend EHR",
            "--practice",
            str(world.practice.id),
            "--jwks",
            str(tmp_path / "ehr-jwks.json"),
        ]  # fmt: skip
    )
    client_id = created.output.strip().splitlines()[-1]
    example = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs/fhir/ehr_example.py"),
            client_id,
            str(tmp_path / "ehr-private.pem"),
        ],  # fmt: skip
        env={**os.environ, "PORTAL_FHIR": f"{served}/fhir/r4"},
        **run,
    )
    lines = example.stdout.splitlines()
    assert lines[0].startswith("sent ServiceRequest/")
    assert lines[1].endswith(" requested 2.0")

    # The clinic-wide client: the referral just sent, and another practice's, nothing else.
    from tests.factories import create_referral

    theirs = create_referral(world.other_referrer)
    db.session.commit()
    clinic = app.test_cli_runner().invoke(
        args=[
            "fhir-client",
            "create",
            "--name",
            "Lakeside EHR",
            "--clinic",
            str(world.clinic.id),
            "--jwks",
            str(tmp_path / "ehr-jwks.json"),
        ]  # fmt: skip
    )
    clinic_client = clinic.output.strip().splitlines()[-1]
    follow = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs/fhir/ehr_example.py"),
            clinic_client,
            str(tmp_path / "ehr-private.pem"),
            "--follow",
        ],  # fmt: skip
        env={**os.environ, "PORTAL_FHIR": f"{served}/fhir/r4"},
        **run,
    )
    sent_id = lines[0].split("/")[1]
    assert sorted(follow.stdout.splitlines()) == sorted(
        [f"Task {sent_id} requested 2.0", f"Task {theirs.id} requested 2.0"]
    )
