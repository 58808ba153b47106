"""Benchmark of the backup drill: python bench/backup.py [--files 128] [--file-mb 1]

On fresh PostgreSQL databases (made and dropped with scripts/pg_database.py): a world of users,
referrals with signed letters and --files attachment files of --file-mb random MiB each (so
the parts cannot compress), then the four commands as an operator runs them, each in its own
`flask` process: backup create, backup verify, backup restore into a second fresh database,
backup check. Prints per step the wall time, CPU time (the command and its pg_dump or
pg_restore), throughput and peak RSS (the command's own, which stays flat however large the
parts: they are streamed), and the load average. Not part of `make test`; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

FLASK = str(Path(sys.executable).with_name("flask"))
STEP_TIMEOUT = 600


def pg_database(action: str, admin_url: str, name: str) -> None:
    script = str(ROOT / "scripts" / "pg_database.py")
    subprocess.run([sys.executable, script, action, admin_url, name], check=True)


def seed(url: str, files: int, file_mb: int, attachments: Path, checkpoint: Path) -> None:
    os.environ["TEST_DATABASE_URL"] = url
    from flask_migrate import upgrade

    from config import TestingConfig
    from portal import create_app

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        ATTACHMENT_DIR = str(attachments)
        AUDIT_CHECKPOINT_PATH = str(checkpoint)

    app = create_app(Config)
    with app.app_context():
        from portal.attachments import storage
        from portal.attachments.models import Attachment
        from portal.extensions import db
        from tests.factories import World, create_referral
        from tests.factories.letters import stored_letter

        upgrade()
        world = World()
        referrals = [create_referral(world.referrer) for _ in range(20)]
        for referral in referrals:
            stored_letter(referral, world.clinician)
        for n in range(files):
            data = os.urandom(file_mb * 1024 * 1024)
            db.session.add(
                Attachment(
                    referral_id=referrals[n % len(referrals)].id,
                    filename=f"scan-{n}.pdf",
                    content_type="application/pdf",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    storage_name=storage.write(data),
                    uploaded_by_id=world.referrer.id,
                )
            )
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()


def run_step(name: str, args: list[str], env: dict[str, str], megabytes: float) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", FLASK, "--app", "portal", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stderr.strip().splitlines()
    peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    if done.returncode != 0:
        raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    print(
        f"{name:8} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {megabytes / wall:7.1f} MiB/s  "
        f"peak RSS {peak_kb / 1024:6.1f} MiB (flask start-up included)"
    )
    print(f"         {done.stdout.strip().splitlines()[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=128)
    parser.add_argument("--file-mb", type=int, default=1)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    options = parser.parse_args()
    host = options.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    source, target = f"portal_bench_backup_{os.getpid()}", f"portal_bench_restore_{os.getpid()}"
    from config import TEST_AUDIT_KEY, TEST_DATA_KEY

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        pg_database("create", options.admin_url, source)
        pg_database("create", options.admin_url, target)
        try:
            started = time.perf_counter()
            seed(
                f"{host}/{source}",
                options.files,
                options.file_mb,
                work / "attachments",
                work / "checkpoint.json",
            )
            total = options.files * options.file_mb
            print(f"seeded {total} MiB of attachments in {time.perf_counter() - started:.1f} s")
            env = {
                **os.environ,
                "PORTAL_ENV": "development",
                "SECRET_KEY": "bench-only",
                "PORTAL_DATA_KEYS": TEST_DATA_KEY,
                "AUDIT_KEYS": TEST_AUDIT_KEY,
                "DATABASE_URL": f"{host}/{source}",
                "ATTACHMENT_DIR": str(work / "attachments"),
                "AUDIT_CHECKPOINT_PATH": str(work / "checkpoint.json"),
            }
            backup = str(work / "backup")
            run_step("create", ["backup", "create", backup], env, total)
            size = sum(p.stat().st_size for p in (work / "backup").iterdir()) / 2**20
            print(f"backup size {size:.1f} MiB for {total} MiB of files")
            run_step("verify", ["backup", "verify", backup], env, total)
            restored = {
                **env,
                "DATABASE_URL": f"{host}/{target}",
                "ATTACHMENT_DIR": str(work / "restored"),
                "AUDIT_CHECKPOINT_PATH": str(work / "restored-checkpoint.json"),
            }
            into = ["--into", f"{host}/{target}"]
            run_step("restore", ["backup", "restore", backup, *into], restored, total)
            run_step("check", ["backup", "check"], restored, total)
        finally:
            pg_database("drop", options.admin_url, source)
            pg_database("drop", options.admin_url, target)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
