"""Administration: the audit log, accounts and clinic settings."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
letterhead_bp = Blueprint("letterhead", __name__, url_prefix="/admin/letterhead")
