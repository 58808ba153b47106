"""The public .ics feed: reachable without signing in, by its secret link only."""

from __future__ import annotations

from flask import Response, request

from portal.clock import clinic_today
from portal.extensions import db
from portal.scheduling import calendar_bp as bp
from portal.scheduling import feed
from portal.scheduling.permissions import get_calendar_or_404


@bp.get("/<token>.ics", endpoint="feed")
def feed_ics(token: str):
    settings = get_calendar_or_404(token)
    text = feed.calendar_text(settings, request.host.split(":")[0], clinic_today())
    db.session.commit()
    return Response(text, mimetype="text/calendar", headers={"Cache-Control": "no-store"})
