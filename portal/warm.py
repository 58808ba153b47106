"""What create_app leaves to first use, done at once: the mappers configured, the job queue
made, the metrics defined. For a server that builds the app once and forks its workers
(gunicorn --preload, gunicorn.conf.py's when_ready): done in the master, the workers share it
instead of each paying for it on its first request. A development server, a CLI command or a
test never call it, and pay only for what they use."""

from __future__ import annotations

import gc


def warm_up() -> None:
    """Configure the mappers, make the job queue, define the metrics (after create_app)."""
    from sqlalchemy.orm import configure_mappers

    from portal import models  # noqa: F401 - every table, before the mappers are configured
    from portal.jobs import queue
    from portal.observability import metrics  # noqa: F401 - the metrics, defined once

    configure_mappers()
    queue()
    # Everything made so far (modules, the app, mappers, the queue) lives as long as the
    # process: kept out of the garbage collector's full passes, which otherwise walk it all
    # again every so often and make one request in a hundred some 70 ms slower (a referral
    # page at p50 30 ms had p99 115 ms; 32 ms with no full passes, bench/growth.py). Forked
    # workers also stop touching these objects' memory, which they share with the master.
    gc.freeze()
