"""Start-up (issue 21 item 6): building the app loads neither WeasyPrint nor Alembic (nor
pypdf, Pillow, icalendar), and computes no password hash; they come when first needed.
bench/startup.py measures the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
from portal import create_app
create_app("testing")
from portal.auth import passwords
print(json.dumps({
    "loaded": [m for m in ("weasyprint", "alembic", "flask_migrate", "fontTools", "pypdf",
                           "PIL", "icalendar") if m in sys.modules],
    "hashed": passwords._dummy_hash.cache_info().currsize,
}))
"""


def test_create_app_loads_no_weasyprint_alembic_or_password_hash():
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"loaded": [], "hashed": 0}


def test_a_letter_still_renders_and_flask_db_still_works(app, db):
    from portal.letters.pdf import LetterRenderError, StaticOnlyFetcher, render_html

    with app.test_request_context():
        pdf = render_html("<html lang='en'><title>t</title><p>Hello</p></html>")
    assert pdf.data.startswith(b"%PDF")
    assert pdf.pages == 1
    assert LetterRenderError.__module__ == "portal.letters.weasy"
    assert StaticOnlyFetcher.__module__ == "portal.letters.weasy"
    from flask_migrate import current

    with app.app_context():
        current()  # the lazily set-up Flask-Migrate answers the usual API
