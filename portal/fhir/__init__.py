"""The FHIR R4 API (/fhir/r4): referring EHRs send referrals and follow them (SMART Backend
Services, BSeR-style ServiceRequest and Task). A layer above the features, as pages are."""

from flask import Blueprint

bp = Blueprint("fhir", __name__, url_prefix="/fhir/r4")
admin_bp = Blueprint("fhir_admin", __name__, url_prefix="/admin/fhir-clients")
