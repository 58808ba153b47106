"""Start-up (issue 21 item 6): building the app loads neither WeasyPrint nor Alembic (nor
pypdf, Pillow, icalendar), nor the job queue (huey, and the Redis client it imports), PyJWT,
prometheus-client or segno, computes no password hash and configures no mapper; they come
when first needed. bench/startup.py measures the time, bench/startup_first_use.py what the
first request and the first job then pay."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
from sqlalchemy import event
from sqlalchemy.orm import Mapper
configured = []
event.listen(Mapper, "before_configured", lambda: configured.append(True))
from portal import create_app
create_app("testing")
from portal.auth import passwords
print(json.dumps({
    "loaded": [m for m in ("weasyprint", "alembic", "flask_migrate", "fontTools", "pypdf",
                           "PIL", "icalendar", "huey", "redis", "jwt", "prometheus_client",
                           "segno") if m in sys.modules],
    "hashed": passwords._dummy_hash.cache_info().currsize,
    "configured": bool(configured),
}))
"""

# A fresh process: the first job queued makes the queue, with every task declared, its signal
# handlers (the enqueue time for the age metric) and the app's storage.
FIRST_JOB = """
import json, sys
from portal import create_app
from portal.letters.tasks import acknowledge_task
app = create_app("testing")
before = "huey" in sys.modules
acknowledge_task(7)
from portal import jobs
from portal.observability.job_log import queue_state
queue = jobs.queue()
depth, oldest = queue_state()
print(json.dumps({
    "huey_before": before,
    "storage": type(queue.storage).__name__,
    "pending": [(t.name, t.args) for t in queue.pending()],
    "depth": depth,
    "aged": oldest > 0,
    "tasks": sorted(queue._registry._registry),
    "periodic": len(queue._registry._periodic_tasks),
}))
"""


def _run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_create_app_loads_no_heavy_module_hashes_nothing_configures_no_mapper():
    assert _run(PROBE) == {"loaded": [], "hashed": 0, "configured": False}


def test_the_first_job_queued_makes_the_queue_with_every_task():
    result = _run(FIRST_JOB)
    assert result["huey_before"] is False
    assert result["storage"] == "MemoryStorage"  # the testing app's, set when it was made
    assert result["pending"] == [["acknowledge_task", [7]]]
    assert (result["depth"], result["aged"]) == (1, True)  # job_log's enqueue signal ran
    assert result["tasks"] == sorted(
        f"portal.{name}"
        for name in (
            "audit.tasks.link_audit_events",
            "fhir.hook_tasks.deliver_hook_task",
            "fhir.hook_tasks.sweep_hooks",
            "letters.issue_tasks.issue_task",
            "letters.issue_tasks.issue_waiting",
            "letters.tasks.acknowledge_missing",
            "letters.tasks.acknowledge_task",
            "letters.tasks.generate_due",
            "notifications.tasks.deliver_task",
            "notifications.tasks.hourly_notifications",
            "notifications.tasks.sweep_outbox",
        )
    )
    assert result["periodic"] == 7


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


WARM = """
import json, sys
from sqlalchemy import event
from sqlalchemy.orm import Mapper
configured = []
event.listen(Mapper, "before_configured", lambda: configured.append(True))
from portal import create_app
create_app("testing")
from portal.warm import warm_up
import gc
before = gc.get_freeze_count()
warm_up()
print(json.dumps({
    "frozen": gc.get_freeze_count() > before,
    "loaded": [m for m in ("huey", "prometheus_client") if m in sys.modules],
    "configured": bool(configured),
}))
"""


def test_a_preloading_server_warms_up_what_create_app_leaves_to_first_use():
    """gunicorn's master (gunicorn.conf.py's when_ready) does it once for its workers."""
    assert _run(WARM) == {
        "frozen": True,
        "loaded": ["huey", "prometheus_client"],
        "configured": True,
    }
