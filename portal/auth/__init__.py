"""Accounts, roles and sign-in."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
mfa_bp = Blueprint("mfa", __name__, url_prefix="/two-step")
account_bp = Blueprint("account", __name__, url_prefix="/account")
