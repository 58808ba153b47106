"""Accounts for referring providers: invitations, requests and the provider profile."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
