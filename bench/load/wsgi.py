"""What gunicorn serves in the load test: the portal's app, as production builds it, plus one
anonymous route, GET /bench/hello, that does nothing but answer. It passes through the same
app (every before/after-request hook) and the same gunicorn configuration, so the signed-in
queue's throughput can be set against it (issue 14 item 6)."""

from __future__ import annotations

import portal.web
from portal import create_app

app = create_app()
# Reachable without signing in, like the sign-in page (require_login reads this name per request).
portal.web.PUBLIC_ENDPOINTS = portal.web.PUBLIC_ENDPOINTS | {"bench_hello"}


@app.get("/bench/hello")
def bench_hello():
    return "hello\n", 200, {"Content-Type": "text/plain"}
