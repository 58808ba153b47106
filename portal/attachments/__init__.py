"""Files attached to a referral: checked by content, stored outside static/, served as downloads."""

from flask import Blueprint

bp = Blueprint("attachments", __name__)
