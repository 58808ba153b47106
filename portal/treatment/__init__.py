"""Treatment courses, sessions and rating scales."""

from flask import Blueprint

from portal.guards import restrict_blueprint
from portal.roles import CLINIC_ROLES

bp = Blueprint("treatment", __name__, url_prefix="/treatment")
# Every treatment page (views, rems_views, scale_views) is for the clinic's staff; the loaders
# narrow it to the referral's clinic, and documenting to its clinicians.
restrict_blueprint(bp, *CLINIC_ROLES)
