"""The message thread between a referrer and the clinic, and what each user has already seen."""

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/referrals")
