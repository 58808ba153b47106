"""Referrals: intake, the closed-loop state machine and the shared timeline."""

from flask import Blueprint

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
