"""Measures: how the referral loop performs, for the clinic and for each referring provider.

Every figure is computed in SQL (aggregates and window functions, SQLite and PostgreSQL alike);
portal/measures/suppression.py hides the cells that describe fewer than 11 patients."""

from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/measures")
