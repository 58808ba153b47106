"""`letters generate-due` across the CPU cores: each worker process builds its own app and
database connection and only renders; the parent writes every result, once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from flask import Flask, current_app
from sqlalchemy import update

from portal.extensions import db
from portal.letters.models import DRAFT, Letter
from portal.letters.storage import seal_pdf

# Settings a worker needs to render exactly what the parent would.
WORKER_SETTINGS = (
    "SQLALCHEMY_DATABASE_URI",
    "CLINIC_TIMEZONE",
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "ENV_NAME",
)
_worker_app: Flask | None = None


def _init_worker(settings: dict) -> None:
    global _worker_app  # noqa: PLW0603 - one app per worker process, built once
    from config import CONFIGS, Config
    from portal import create_app

    base = CONFIGS.get(settings.get("ENV_NAME"), Config)
    config = type("WorkerConfig", (base,), dict(settings))
    config.validate = classmethod(lambda cls: None)  # the parent validated already
    _worker_app = create_app(config)


def _render_one(letter_id: int) -> tuple[int, bytes, int] | None:
    from portal.letters.service import render_letter

    assert _worker_app is not None
    with _worker_app.app_context():
        try:
            letter = db.session.get(Letter, letter_id)
            if letter is None or letter.status != DRAFT:
                return None
            rendered = render_letter(letter)
            return letter_id, rendered.data, rendered.pages
        finally:
            db.session.remove()


def render_in_process(letter_ids: list[int]) -> Iterator[tuple[int, bytes, int] | None]:
    from portal.letters.service import render_letter

    for letter_id in letter_ids:
        letter = db.session.get(Letter, letter_id)
        if letter is None or letter.status != DRAFT:
            yield None
            continue
        rendered = render_letter(letter)
        yield letter_id, rendered.data, rendered.pages


def render_parallel(letter_ids: list[int], workers: int) -> Iterator[tuple[int, bytes, int] | None]:
    settings = {key: current_app.config.get(key) for key in WORKER_SETTINGS}
    # Small chunks keep both cores busy to the end; results come back in order.
    chunk = max(1, min(8, len(letter_ids) // (workers * 4) or 1))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(settings,)
    ) as pool:
        yield from pool.map(_render_one, letter_ids, chunksize=chunk)


def store_preview(result: tuple[int, bytes, int] | None) -> bool:
    """Write one rendered draft; a draft signed or edited meanwhile is left alone."""
    if result is None:
        return False
    letter_id, data, pages = result
    done = db.session.execute(
        update(Letter)
        .where(Letter.id == letter_id, Letter.status == DRAFT, Letter.pdf.is_(None))
        .values(pdf=seal_pdf(data), page_count=pages)
    )
    return bool(done.rowcount)
