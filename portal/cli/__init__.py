"""`flask --app portal ...` commands, one module per group."""

from __future__ import annotations

from flask import Flask

from portal.cli.audit import audit_group
from portal.cli.backup import backup_group
from portal.cli.demo import seed_demo
from portal.cli.fhir import fhir_client_group
from portal.cli.keys import keys_group
from portal.cli.letters import letters_group
from portal.cli.users import create_user_command
from portal.cli.worker import worker_command


def register_cli(app: Flask) -> None:
    for command in (
        seed_demo,
        create_user_command,
        letters_group,
        audit_group,
        backup_group,
        keys_group,
        fhir_client_group,
        worker_command,
    ):
        app.cli.add_command(command)
