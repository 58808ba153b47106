"""The restore drill on PostgreSQL: back up a portal with letters, attachments and an audit
checkpoint; restore it into a fresh database (scripts/pg_database.py); check it; and see every
command refuse what was altered. Prints how long each step took.

PostgreSQL only (pg_dump and pg_restore): on the SQLite pass it is deselected and the summary
says so (tests/conftest.py); on the PostgreSQL pass an unreachable server fails the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from portal.attachments.models import Attachment
from portal.audit.models import AuditEvent
from portal.backup.parts import sha256_of
from portal.letters.models import Letter
from portal.referrals.models import Referral
from tests.factories import create_referral
from tests.factories.attachments import png_bytes, stored_attachment
from tests.factories.letters import draft_letter, stored_letter

pytestmark = pytest.mark.postgresql_only

ROOT = Path(__file__).resolve().parent.parent
COUNTED = (Referral, Letter, Attachment, AuditEvent)


def _admin_url() -> str:
    configured = os.environ.get("PG_ADMIN_URL")
    if configured:
        return configured
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_database(action: str, name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_database.py"), action, _admin_url(), name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # under CI an unreachable server fails, never skips


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"portal_drill_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    _pg_database("create", name)
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database=name)
    yield url.render_as_string(hide_password=False)
    _pg_database("drop", name)


@pytest.fixture(autouse=True)
def _own_attachment_dir(app, tmp_path, monkeypatch):
    """The suite's attachment folder holds earlier tests' files (emptying the database leaves
    them): the drill counts what it stored itself, in a folder of its own."""
    folder = tmp_path / "attachments-stored"
    folder.mkdir()
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(folder))


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                m.__name__: conn.execute(select(func.count()).select_from(m)).scalar_one()
                for m in COUNTED
            }
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _seed(world) -> None:
    for n in range(2):
        referral = create_referral(world.referrer)
        stored_letter(referral, world.clinician)
        draft_letter(referral, world.clinician)
        stored_attachment(referral, world.referrer)
        stored_attachment(referral, world.referrer, png_bytes(40 + n, 30))


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_restore_drill_on_postgresql(app, db, world, fresh_database, tmp_path, capsys, monkeypatch):
    _seed(world)
    db.session.commit()
    cli = app.test_cli_runner()
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0  # a checkpoint outside the db
    backup, files, point = tmp_path / "backup", tmp_path / "files", tmp_path / "checkpoint.json"
    timings = {}

    started = time.perf_counter()
    made = cli.invoke(args=["backup", "create", str(backup)])
    timings["create"] = time.perf_counter() - started
    assert made.exit_code == 0, made.output
    assert "4 attachment files" in made.output
    assert sorted(p.name for p in backup.iterdir()) == [
        "attachments.tar.enc",
        "audit-checkpoint.enc",
        "database.pgdump.enc",
        "manifest.json",
        "manifest.seal",
    ]
    assert b"%PDF" not in (backup / "database.pgdump.enc").read_bytes()  # encrypted
    assert cli.invoke(args=["backup", "create", str(backup)]).exit_code == 1  # not empty

    # The target's URL (and its password) from the environment, not on the command line.
    monkeypatch.setenv("RESTORE_DATABASE_URL", fresh_database)
    restore_args = ["backup", "restore", str(backup)]
    restore_args += ["--attachments-dir", str(files), "--audit-checkpoint", str(point)]
    started = time.perf_counter()
    restored = cli.invoke(args=restore_args)
    timings["restore"] = time.perf_counter() - started
    assert restored.exit_code == 0, restored.output
    assert "4 attachment files" in restored.output
    assert _counts(fresh_database) == _counts(app.config["SQLALCHEMY_DATABASE_URI"])
    assert len(list(files.iterdir())) == 4

    monkeypatch.setenv("DRILL_DATABASE_URL", fresh_database)
    check_args = ["backup", "check", "--database-env", "DRILL_DATABASE_URL"]
    check_args += ["--attachments-dir", str(files), "--audit-checkpoint", str(point)]
    started = time.perf_counter()
    checked = cli.invoke(args=check_args)
    timings["check"] = time.perf_counter() - started
    assert checked.exit_code == 0, checked.output
    assert "letters: OK, 2 PDFs match their stored sha256" in checked.output
    assert "attachments: OK, 4 files decrypt and match their sha256" in checked.output
    assert "audit chain: OK" in checked.output
    assert "through the checkpoint at" in checked.output
    assert "Backup check passed" in checked.output

    with capsys.disabled():
        print(
            "\nrestore drill on PostgreSQL: "
            + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in timings.items())
            + f"; total {sum(timings.values()):.2f} s"
        )

    # A second restore into the same database is refused: it is not empty any more.
    again = cli.invoke(args=restore_args)
    assert again.exit_code == 1
    assert "is not empty" in again.output
    assert "Restore refused" in again.output
    # --force drops what the target holds and restores over it (the files too).
    forced = cli.invoke(args=[*restore_args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "dropped everything in" in forced.output
    assert _counts(fresh_database) == _counts(app.config["SQLALCHEMY_DATABASE_URI"])

    # An altered part: verify and restore refuse it before touching anything.
    altered = tmp_path / "altered"
    shutil.copytree(backup, altered)
    _flip_byte(altered / "database.pgdump.enc", 5000)
    refused = cli.invoke(args=["backup", "restore", str(altered), "--into", fresh_database])
    assert refused.exit_code == 1
    assert "part database (database.pgdump.enc) does not match the sha256" in refused.output
    assert cli.invoke(args=["backup", "verify", str(altered)]).exit_code == 1
    assert cli.invoke(args=["backup", "verify", str(backup)]).exit_code == 0

    # Restored data altered afterwards: check fails, naming what.
    _execute(
        fresh_database,
        "UPDATE letter SET pdf = NULL WHERE id = (SELECT min(id) FROM letter WHERE sha256 "
        "IS NOT NULL)",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "UPDATE audit_event SET detail = 'edited' WHERE seq = 2",
        "ALTER TABLE audit_event ENABLE TRIGGER USER",
    )
    _flip_byte(sorted(files.iterdir())[0], 60)
    failed = cli.invoke(args=check_args)
    assert failed.exit_code == 1
    assert "letters: FAILED, 1 of 2: letter" in failed.output
    assert "has no PDF" in failed.output
    assert "attachments: FAILED, 1 of 4: attachment" in failed.output
    assert "does not decrypt" in failed.output
    assert "audit chain: FAILED" in failed.output
    assert "content changed after it was written" in failed.output
    assert "Backup check FAILED" in failed.output


def test_restore_refuses_a_manifest_that_was_edited(app, db, world, fresh_database, tmp_path):
    _seed(world)
    db.session.commit()
    cli = app.test_cli_runner()
    backup = tmp_path / "backup"
    assert cli.invoke(args=["backup", "create", str(backup)]).exit_code == 0
    # Someone alters a part and writes its new sha256 into the manifest: the seal catches it.
    part = backup / "attachments.tar.enc"
    _flip_byte(part, 100)
    manifest = backup / "manifest.json"
    entries = json.loads(manifest.read_text())["parts"]
    old = next(e["sha256"] for e in entries if e["name"] == "attachments")
    manifest.write_text(manifest.read_text().replace(old, sha256_of(part)))
    refused = cli.invoke(args=["backup", "restore", str(backup), "--into", fresh_database])
    assert refused.exit_code == 1
    assert "manifest.json does not match its seal" in refused.output
    assert _counts_empty(fresh_database)


def test_create_refuses_an_altered_audit_checkpoint(app, db, world, tmp_path):
    cli = app.test_cli_runner()
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0
    point = Path(app.config["AUDIT_CHECKPOINT_PATH"])
    point.write_text(point.read_text().replace('"seq": ', '"seq": 1'))
    made = cli.invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert made.exit_code == 1
    assert "does not match its signature" in made.output
    assert not (tmp_path / "backup" / "manifest.json").exists()


def _counts_empty(url: str) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return not conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
