"""The public .ics feed: reachable without signing in, by its secret link only."""

from __future__ import annotations

from flask import Response, abort, request

from portal.clock import clinic_today
from portal.extensions import db
from portal.scheduling import calendar_bp as bp
from portal.scheduling import feed


@bp.get("/<token>.ics", endpoint="feed")
def feed_ics(token: str):
    settings = feed.settings_for_token(token)
    if settings is None:
        abort(404)
    today = clinic_today()
    text = feed.calendar_text(settings, request.host.split(":")[0], today)
    db.session.commit()
    return Response(text, mimetype="text/calendar", headers={"Cache-Control": "no-store"})
