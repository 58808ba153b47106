"""Treatment courses, sessions and rating scales."""

from flask import Blueprint

bp = Blueprint("treatment", __name__, url_prefix="/treatment")
