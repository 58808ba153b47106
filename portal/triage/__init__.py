"""The coordinators' queue and their decisions on referrals."""

from flask import Blueprint

bp = Blueprint("triage", __name__, url_prefix="/triage")
