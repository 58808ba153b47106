"""PDF letters back to the referring provider."""

from flask import Blueprint

bp = Blueprint("letters", __name__, url_prefix="/letters")
verify_bp = Blueprint("verify", __name__, url_prefix="/verify")
