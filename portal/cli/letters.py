"""`flask --app portal letters render` and `letters generate-due`. The due drafts are
rendered across the CPU cores: each worker process builds its own app and database
connection and only renders; the parent writes every result, once."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from config import CONFIGS, Config
from portal.audit.service import record
from portal.extensions import db
from portal.letters.batch import render_in_process, store_preview
from portal.letters.due import create_due_drafts, drafts_to_render
from portal.letters.models import FINAL, INTERIM, LETTER_KINDS, SUMMARY, Letter
from portal.letters.service import TEMPLATES, render_blank_draft
from portal.letters.storage import open_pdf
from portal.referrals.models import Referral

# Settings a worker needs to render exactly what the parent would.
WORKER_SETTINGS = (
    "SQLALCHEMY_DATABASE_URI",
    "CLINIC_TIMEZONE",
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "ENV_NAME",
)
Rendered = tuple[int, bytes, int] | None
_worker_app: Flask | None = None


@click.group("letters")
def letters_group() -> None:
    """Letters to referring providers."""


@letters_group.command("render")
@click.argument("referral_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", default=SUMMARY, show_default=True)
def render_letter(referral_id: int, out: Path, kind: str) -> None:
    """Write REFERRAL_ID's current signed letter of KIND to a PDF file (else a marked draft)."""
    if kind not in LETTER_KINDS:
        raise click.ClickException(f"Unknown kind {kind}; one of {', '.join(LETTER_KINDS)}.")
    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.patient is None:
        raise click.ClickException(f"Referral {referral_id} does not exist.")
    if kind in (SUMMARY, INTERIM) and not (referral.course and referral.course.sessions):
        raise click.ClickException(f"Referral {referral_id} has no documented treatment.")
    signed = db.session.scalar(
        select(Letter)
        .where(Letter.referral_id == referral.id, Letter.kind == kind, Letter.status == FINAL)
        .order_by(Letter.sequence.desc(), Letter.version.desc())
        .limit(1)
    )
    if signed is not None and signed.sha256 is None:
        raise click.ClickException(
            f"Signed version {signed.version} is still being rendered by the job workers; "
            "try again in a few minutes."
        )
    if signed is not None:
        data, pages = open_pdf(signed), signed.page_count
        what = f"signed version {signed.version}"
    else:
        # Without a signed letter the PDF is a draft that says so: nobody's signature is printed.
        rendered = render_blank_draft(referral, kind)
        data, pages, what = rendered.data, rendered.pages, "DRAFT, unsigned"
    assert kind in TEMPLATES
    out.write_bytes(data)
    record("letter.render", "referral", referral.id, detail="cli")
    db.session.commit()
    click.echo(f"Wrote {out} ({what}; {pages} page(s), {len(data):,} bytes).")


@letters_group.command("generate-due")
@click.option("--workers", type=int, default=None, help="Processes (default: CPU cores).")
def generate_due_command(workers: int | None) -> None:
    """Draft every due interim, final, acceptance and decline letter and render the drafts
    across the CPU cores; running it twice makes nothing twice."""
    created = create_due_drafts()
    db.session.commit()
    ids = drafts_to_render()
    workers = max(1, min(workers or os.cpu_count() or 1, len(ids) or 1))
    results = render_in_process(ids) if workers == 1 else render_parallel(ids, workers)
    rendered = 0
    from tqdm import tqdm  # the CLI's imports are paid by every process that builds the app

    with tqdm(total=len(ids), unit="letter", desc="Rendering drafts", disable=not ids) as bar:
        for done, result in enumerate(results, start=1):
            rendered += store_preview(result)
            if done % 10 == 0:  # a crash loses at most ten renders; a rerun redoes them
                db.session.commit()
            bar.update(1)
    db.session.commit()
    record("letter.generate_due", "letter", None, detail=f"{len(created)} new, {rendered} rendered")
    db.session.commit()
    click.echo(
        f"{len(created)} new draft letter(s); {rendered} draft(s) rendered "
        f"with {workers} process(es)."
    )


def render_parallel(letter_ids: list[int], workers: int) -> Iterator[Rendered]:
    """Render the drafts in `workers` processes; results come back in order."""
    from concurrent.futures import ProcessPoolExecutor

    settings = {key: current_app.config.get(key) for key in WORKER_SETTINGS}
    # Small chunks keep both cores busy to the end.
    chunk = max(1, min(8, len(letter_ids) // (workers * 4) or 1))
    with ProcessPoolExecutor(
        max_workers=workers,
        initializer=_init_worker,
        initargs=(current_app.import_name, settings),
    ) as pool:
        yield from pool.map(_render_one, letter_ids, chunksize=chunk)


def _init_worker(import_name: str, settings: dict) -> None:
    """Build this worker's app once. The factory is found by the app's import name, as
    `flask --app` finds it: the commands are registered by that factory, so they never
    import it."""
    global _worker_app  # noqa: PLW0603 - one app per worker process, built once
    create_app = importlib.import_module(import_name).create_app
    base = CONFIGS.get(settings.get("ENV_NAME"), Config)
    config = type("WorkerConfig", (base,), dict(settings))
    config.validate = classmethod(lambda cls: None)  # the parent validated already
    _worker_app = create_app(config)


def _render_one(letter_id: int) -> Rendered:
    assert _worker_app is not None
    with _worker_app.app_context():
        try:
            return next(render_in_process([letter_id]))
        finally:
            db.session.remove()
