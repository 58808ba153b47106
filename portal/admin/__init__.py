"""Administration: the audit log, accounts and clinic settings. Every page of the admin
blueprint is for administrators only."""

from flask import Blueprint

from portal.guards import restrict_blueprint
from portal.roles import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(bp, Role.ADMIN)
letterhead_bp = Blueprint("letterhead", __name__, url_prefix="/admin/letterhead")
restrict_blueprint(letterhead_bp, Role.ADMIN)
