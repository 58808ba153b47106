"""Scheduling a treatment series: protocol templates, appointments, the day view, the .ics feed."""

from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling")
calendar_bp = Blueprint("calendar", __name__, url_prefix="/calendar")
