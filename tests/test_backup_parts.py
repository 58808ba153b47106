"""Backup parts and `backup check` on either database: encrypted records that cannot be cut,
reordered or opened without a data key, written in constant memory; the check's findings."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from config import TEST_DATA_KEY
from portal.backup import parts
from portal.letters.models import Letter
from tests.factories import create_referral
from tests.factories.attachments import stored_attachment
from tests.factories.letters import stored_letter


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(parts, "CHUNK", 1000)


def _records(path: Path) -> list[bytes]:
    data, out, at = path.read_bytes(), [], 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        out.append(data[at : at + 4 + length])
        at += 4 + length
    return out


def _write(path: Path, data: bytes) -> None:
    writer = parts.PartWriter(path)
    with writer:
        for at in range(0, len(data), 777):
            writer.write(data[at : at + 777])


def test_a_part_reads_back_what_was_written_and_hides_it(app, tmp_path, small_chunks):
    data = bytes(range(256)) * 40  # 10 240 bytes: eleven records of 1000 bytes at most
    with app.app_context():
        _write(tmp_path / "part", data)
        assert len(_records(tmp_path / "part")) == 11
        assert parts.read_all(tmp_path / "part") == data
        assert bytes(range(256)) not in (tmp_path / "part").read_bytes()
        parts.write_bytes(tmp_path / "empty", b"")
        assert parts.read_all(tmp_path / "empty") == b""


@pytest.mark.parametrize(
    ("alter", "said"),
    [
        (lambda r: r[:-1], "cut short"),
        (lambda r: [r[1], r[0], *r[2:]], "out of order"),
        (lambda r: [*r, r[-1]], "data after its last record"),
        (lambda r: [r[0][:-1] + bytes([r[0][-1] ^ 1]), *r[1:]], "does not decrypt"),
    ],
)
def test_an_altered_part_is_refused(app, tmp_path, small_chunks, alter, said):
    with app.app_context():
        _write(tmp_path / "part", b"x" * 5000)
        records = _records(tmp_path / "part")
        (tmp_path / "part").write_bytes(b"".join(alter(records)))
        with pytest.raises(parts.PartError, match=said):
            parts.read_all(tmp_path / "part")


def test_a_part_opens_with_an_older_key_kept_and_not_without_it(app, tmp_path, monkeypatch):
    with app.app_context():
        parts.write_bytes(tmp_path / "part", b"dump bytes")
        newer = Fernet.generate_key().decode()
        monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", f"{newer},{TEST_DATA_KEY}")
        assert parts.read_all(tmp_path / "part") == b"dump bytes"  # rotated, old key kept
        monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", newer)
        with pytest.raises(parts.PartError, match="does not decrypt"):
            parts.read_all(tmp_path / "part")


def test_parts_are_written_and_read_in_constant_memory(app, tmp_path):
    block = b"\x00" * (1024 * 1024)
    total = 48 * len(block)  # 48 MiB through 4 MiB records
    with app.app_context():
        tracemalloc.start()
        try:
            writer = parts.PartWriter(tmp_path / "big")
            with writer:
                for _ in range(48):
                    writer.write(block)
            assert parts.drain(tmp_path / "big") == total
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * parts.CHUNK, f"peak {peak} bytes for a {total}-byte part"


def test_backup_check_passes_then_names_what_was_altered(app, db, world, tmp_path):
    referral = create_referral(world.referrer)
    letter = stored_letter(referral, world.clinician)
    attachment = stored_attachment(referral, world.referrer)
    db.session.commit()
    cli = app.test_cli_runner()
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0
    passed = cli.invoke(args=["backup", "check"])
    assert passed.exit_code == 0, passed.output
    assert "letters: OK, 1 PDFs match their stored sha256" in passed.output
    assert "attachments: OK, 1 files decrypt and match their sha256" in passed.output
    assert "through the checkpoint at" in passed.output

    db.session.execute(
        update(Letter).where(Letter.id == letter.id).values(sha256="0" * 64)
    )  # a stored sha256 that no longer matches the PDF
    db.session.commit()
    (Path(app.config["ATTACHMENT_DIR"]) / attachment.storage_name).unlink()
    failed = cli.invoke(args=["backup", "check"])
    assert failed.exit_code == 1
    assert f"letters: FAILED, 1 of 1: letter {letter.id} does not match its sha256" in (
        failed.output
    )
    assert f"attachments: FAILED, 1 of 1: attachment {attachment.id} is missing its file" in (
        failed.output
    )
    assert "audit chain: OK" in failed.output
    assert "Backup check FAILED" in failed.output


def test_backup_create_needs_postgresql(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "sqlite:///portal.sqlite3")
    made = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert made.exit_code == 1
    assert "backups need PostgreSQL" in made.output


def test_the_database_password_goes_to_libpq_in_the_environment_not_on_a_command_line():
    from portal.backup.pg import display, libpq_env

    url = "postgresql+psycopg://portal:s3cr%40t@db.example:6543/portal?sslmode=require"
    env = libpq_env(url)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.example", "6543", "portal")
    assert (env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "s3cr@t",
        "portal",
        "require",
    )
    assert "s3cr" not in display(url)


# What pg_restore 15 wrote on stderr for two rows it could not load (a wrong column type, a
# duplicate key): the server's CONTEXT and DETAIL lines echo the row.
PG_RESTORE_STDERR = """\
pg_restore: error: COPY failed for table "patient": ERROR:  invalid input syntax for type \
integer: "1980-01-02"
CONTEXT:  COPY patient, line 1, column dob: "1980-01-02"
pg_restore: error: COPY failed for table "patient": ERROR:  duplicate key value violates \
unique constraint "patient_pkey"
DETAIL:  Key (id)=(1) already exists.
CONTEXT:  COPY patient, line 1
pg_restore: detail: Command was: INSERT INTO public.patient VALUES (1, 'Jane Smith');
"""


def test_a_failed_restore_says_what_failed_without_the_rows_contents():
    from portal.backup.pg import without_row_data

    said = without_row_data("pg_restore", PG_RESTORE_STDERR)
    assert said.splitlines() == [
        'pg_restore: error: COPY failed for table "patient": ERROR:  invalid input syntax for '
        'type integer: "…"',
        'pg_restore: error: COPY failed for table "patient": ERROR:  duplicate key value '
        'violates unique constraint "patient_pkey"',
    ]
    for row_data in ("1980-01-02", "Key (id)", "Jane Smith", "CONTEXT", "line 1"):
        assert row_data not in said


def test_restore_and_check_take_the_database_url_from_the_environment(app, db, monkeypatch):
    cli = app.test_cli_runner()
    monkeypatch.delenv("RESTORE_DATABASE_URL", raising=False)
    missing = cli.invoke(args=["backup", "restore", "/nonexistent"])
    assert missing.exit_code == 2
    assert "Set RESTORE_DATABASE_URL to the database URL (or give --into URL)" in missing.output
    named = cli.invoke(args=["backup", "restore", "/nonexistent", "--into-env", "TARGET_URL"])
    assert "Set TARGET_URL to the database URL" in named.output
    monkeypatch.setenv("RESTORE_DATABASE_URL", "sqlite:///other.sqlite3")
    refused = cli.invoke(args=["backup", "restore", "/nonexistent"])
    assert refused.exit_code == 1
    assert "Restore refused" in refused.output
    missing = cli.invoke(args=["backup", "check", "--database-env", "CHECKED_URL"])
    assert missing.exit_code == 2
    assert "Set CHECKED_URL to the database URL (or give --database URL)" in missing.output


def test_a_bare_postgresql_url_connects_with_psycopg():
    from portal.backup.pg import driver_url

    assert driver_url("postgresql://u:p@h/d").drivername == "postgresql+psycopg"
    assert driver_url("postgresql+psycopg://u:p@h/d").drivername == "postgresql+psycopg"
    assert driver_url("sqlite:///x.sqlite3").drivername == "sqlite"
